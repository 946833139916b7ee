# Everything CI runs is reachable from here; `make check` is the README's test command.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: unasync venv system-deps lint format typecheck test drift regen fetch-contracts check check-httpx2 demo bench bench-import bench-limits bench-stores chaos adversarial conformance prism clean

$(STAMP): pyproject.toml requirements/dev.txt requirements/codegen.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements/dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# redis-server backs the RedisLedger and Redis dedup-store tests; installed from Debian if missing.
system-deps:
	bash scripts/ensure-system-deps

lint: venv
	$(BIN)/ruff check src tests benchmarks examples scripts conftest.py
	$(BIN)/ruff format --check src tests benchmarks examples scripts conftest.py

format: venv
	$(BIN)/ruff check --fix src tests benchmarks examples scripts conftest.py
	$(BIN)/ruff format src tests benchmarks examples scripts conftest.py

# The scripts have no .py suffix, so each is checked on its own (each is a __main__ module).
SCRIPTS := scripts/fetch-contracts scripts/contract_pipeline.py scripts/regenerate scripts/check-drift scripts/unasync scripts/generate-area-codes

typecheck: venv
	$(BIN)/mypy
	for s in $(SCRIPTS); do $(BIN)/mypy --strict $$s || exit 1; done

test: venv system-deps
	$(BIN)/python -m pytest

drift: venv
	$(BIN)/python scripts/check-drift
	$(BIN)/python scripts/unasync --check
	$(BIN)/python scripts/generate-area-codes --check

regen: venv
	$(BIN)/python scripts/regenerate

fetch-contracts: venv
	$(BIN)/python scripts/fetch-contracts $(if $(BASE_URL),--base-url $(BASE_URL),)

unasync: venv
	$(BIN)/python scripts/unasync

check: lint typecheck drift test

# The whole test-suite with httpx2 standing in for httpx (docs/benchmarks.md, "HTTP stack"):
# its own venv, the project's pins plus httpx2, and a .pth file that calls
# httpx2.alias_httpx() at interpreter start-up, so that every `import httpx` and
# `import httpcore` (the SDK's, the generated clients', the test tools', every subprocess's)
# is httpx2's. httpx stays installed for the packages that require it; it is never imported.
VENV_HTTPX2 := .venv-httpx2
HTTPX2_PIN  := httpx2==2.16.2
$(VENV_HTTPX2)/.installed-stamp: pyproject.toml requirements/dev.txt requirements/codegen.txt
	test -x $(VENV_HTTPX2)/bin/python || $(PYTHON) -m venv $(VENV_HTTPX2)
	$(VENV_HTTPX2)/bin/python -m pip install -q --disable-pip-version-check -r requirements/dev.txt $(HTTPX2_PIN)
	$(VENV_HTTPX2)/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
	echo 'import httpx2; httpx2.alias_httpx()' > "$$($(VENV_HTTPX2)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/00_httpx2_alias.pth"
	$(VENV_HTTPX2)/bin/python -c 'import httpx, httpcore; assert httpx.__name__ == "httpx2", httpx'
	touch $@

check-httpx2: $(VENV_HTTPX2)/.installed-stamp system-deps
	$(VENV_HTTPX2)/bin/python -m pytest -p no:cacheprovider


demo: venv
	$(BIN)/python examples/demo.py

bench: venv
	$(BIN)/python benchmarks/run.py

# Import times as a user's install sees them: a venv with only the package and its two runtime
# dependencies (at the project's pins), not the dev venv, where httpx also imports click and
# rich for the code generator. Median of 7 runs each, beside `import httpx` (docs/benchmarks.md).
VENV_RUNTIME := .venv-runtime
$(VENV_RUNTIME)/.installed-stamp: pyproject.toml requirements/dev.txt $(shell find src -name '*.py')
	rm -rf $(VENV_RUNTIME) && $(PYTHON) -m venv $(VENV_RUNTIME)
	$(VENV_RUNTIME)/bin/python -m pip install -q --disable-pip-version-check \
		"$$(grep '^httpx==' requirements/dev.txt)" "$$(grep '^attrs==' requirements/dev.txt)" .
	touch $@

bench-import: venv $(VENV_RUNTIME)/.installed-stamp
	$(BIN)/python benchmarks/importtime.py --python $(VENV_RUNTIME)/bin/python --runs 7

# What a permit costs per call, in process and against a private redis-server (docs/benchmarks.md).
bench-limits: venv system-deps
	$(BIN)/python benchmarks/limits.py

# The ledger's stores at fleet scale: bytes per key, purges, N processes on one SQLite file,
# round trips, eviction (docs/idempotency-ledger.md, "Sizing and operations"); a few minutes.
bench-stores: venv system-deps
	$(BIN)/python benchmarks/stores.py all

# 2,000 calls.create under 20% injected faults, then again after the outage; fails on a duplicate.
chaos: venv
	$(BIN)/python benchmarks/chaos.py

# Schemathesis against a sandbox, far longer than `make check` and with fresh seeds (each test
# id names its seed). Tune with CONFORMANCE_SEEDS=n and CONFORMANCE_EXAMPLES=n.
CONFORMANCE_SEEDS ?= 4
CONFORMANCE_EXAMPLES ?= 300
conformance: venv
	STATESET_CONFORMANCE_RANDOM_SEEDS=$(CONFORMANCE_SEEDS) \
	STATESET_CONFORMANCE_MAX_EXAMPLES=$(CONFORMANCE_EXAMPLES) \
	$(BIN)/python -m pytest tests/test_conformance_schemathesis.py -p no:cacheprovider -rA -s

# Opt-in, needs Node's npx and the npm registry: a Prism validation proxy in front of a sandbox.
prism: venv
	STATESET_PRISM=1 $(BIN)/python -m pytest tests/test_conformance_prism.py -p no:cacheprovider -rA -s

# The adversarial suite with far more fault schedules than `make check` draws (random seeds;
# ADVERSARIAL_EXAMPLES=N to change the count, default 3000, about 0.25 s each).
adversarial: venv
	HYPOTHESIS_PROFILE=adversarial $(BIN)/python -m pytest -q -p no:randomly --timeout=0 \
		tests/test_adversarial_properties.py tests/test_adversarial_fixes.py

clean:
	rm -rf $(VENV) $(VENV_HTTPX2) $(VENV_RUNTIME) .mypy_cache .pytest_cache .ruff_cache
