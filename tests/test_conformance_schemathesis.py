"""Schemathesis against a real sandbox, for both contracts, with every default check.

Schemathesis generates requests from each contract (examples, coverage, fuzzing and stateful
phases; valid and invalid data) and checks every answer: no 5xx, only documented statuses,
content types, headers and bodies, invalid data refused, valid data accepted, 405 with
``Allow`` for undeclared methods, and more. Its hooks
(``stateset_voice_wrapper.sandbox.schemathesis_hooks``) authenticate each operation, sign the
Twilio posts, and draw identifiers from the sandbox's own data. Any finding fails the test.

The run is bounded and reproducible: a fixed seed and a fixed number of examples per operation
(about a minute for both contracts). ``make conformance`` runs it longer with fresh seeds,
through these environment variables:

``STATESET_CONFORMANCE_MAX_EXAMPLES``  examples per operation (default 25)
``STATESET_CONFORMANCE_SEEDS``         comma-separated seeds (default the CI seed)
``STATESET_CONFORMANCE_RANDOM_SEEDS``  that many fresh random seeds instead; each test id
                                       shows its seed, so a finding can be replayed

Schemathesis is not installed into ``.venv`` (see requirements/dev.txt): the first run installs
the pinned ``conformance-tool`` lines, without their dependencies, into
``.venv/conformance-tools`` and runs ``python -m schemathesis.cli`` with that directory on
``PYTHONPATH``. Nothing here sleeps: the sandbox's clock is manual.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stateset_voice_wrapper.sandbox import Sandbox
from stateset_voice_wrapper.sandbox._constants import TEST_DEFAULTS

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = {
    "public": REPO / "api-contracts" / "stateset-voice-public.json",
    "admin": REPO / "api-contracts" / "stateset-voice-admin.json",
}
CI_SEED = 20261201
PIN_PREFIX = "conformance-tool:"
HOOKS = "stateset_voice_wrapper.sandbox.schemathesis_hooks"


def _seeds() -> list[int]:
    fresh = os.environ.get("STATESET_CONFORMANCE_RANDOM_SEEDS")
    if fresh:
        return [secrets.randbits(32) for _ in range(int(fresh))]
    given = os.environ.get("STATESET_CONFORMANCE_SEEDS")
    return [int(s) for s in given.split(",")] if given else [CI_SEED]


MAX_EXAMPLES = int(os.environ.get("STATESET_CONFORMANCE_MAX_EXAMPLES", "25"))


def tool_pins() -> list[str]:
    """The ``conformance-tool:`` pins of requirements/dev.txt."""
    pins = []
    for line in (REPO / "requirements" / "dev.txt").read_text().splitlines():
        text = line.lstrip("# ").strip()
        if text.startswith(PIN_PREFIX):
            pins.append(text.removeprefix(PIN_PREFIX).strip())
    return pins


def conformance_tools() -> Path:
    """The directory holding schemathesis and what .venv lacks of its dependencies."""
    pins = tool_pins()
    assert any(p.startswith("schemathesis==") for p in pins), "requirements/dev.txt lost its pins"
    target = Path(sys.prefix) / "conformance-tools"
    stamp = target / "pins.txt"
    wanted = "\n".join(pins) + "\n"
    if stamp.is_file() and stamp.read_text() == wanted:
        return target
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(staging), *pins],
        check=True,
        timeout=300,
    )
    # The tools' other dependencies come from .venv: check that the two fit together.
    subprocess.run(
        [*pip, "check"], check=True, timeout=120, env={**os.environ, "PYTHONPATH": str(staging)}
    )
    (staging / "pins.txt").write_text(wanted)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


@pytest.fixture(scope="module")
def tools() -> Path:
    return conformance_tools()


def _populate(sandbox: Sandbox) -> None:
    """Calls of every outcome, an inbound call, agent versions and a route to refer to."""
    runtime = {"Authorization": f"Bearer {sandbox.runtime_key}"}
    admin = {"x-admin-key": sandbox.admin_key}
    with httpx.Client(base_url=sandbox.base_url, timeout=10.0) as http:
        for to in ("+15555550100", "+15555550106", "+15555550107", "+15555550109"):
            body = {"to": to, "from": "+15555551234", "agent_key": "front_desk"}
            assert http.post("/api/v1/make-call", json=body, headers=runtime).status_code == 201
        inbound = sandbox.send_twilio_inbound(sandbox.base_url + "/api/v1/incoming-call")
        assert inbound["status"] == 200
        sandbox.advance(settle=True)
        for tenant_id in ("ten_sandbox", "ten_acme"):
            version = {
                "tenant_id": tenant_id,
                "agent_key": "front_desk",
                "model": "gpt-realtime",
                "voice": "alloy",
                "system_prompt_key": "front_desk_v1",
            }
            staged = http.post("/api/v1/admin/agent-versions", json=version, headers=admin)
            assert staged.status_code == 201
        route = {"phone_number": "+15555550142", "tenant_id": "ten_acme", "agent_key": "desk"}
        assert http.post("/api/v1/admin/phone-routes", json=route, headers=admin).is_success


@pytest.fixture
def target() -> Iterator[Sandbox]:
    options = {**TEST_DEFAULTS, "rate_limit": 1_000_000, "rate_limit_refill_per_second": 1e6}
    with Sandbox(**options) as sandbox:
        _populate(sandbox)
        yield sandbox


@pytest.mark.parametrize("seed", _seeds(), ids=lambda seed: f"seed={seed}")
@pytest.mark.parametrize("contract", sorted(CONTRACTS))
@pytest.mark.timeout(1800)
def test_schemathesis_finds_nothing(
    tools: Path, target: Sandbox, tmp_path: Path, contract: str, seed: int
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(tools),
        "SCHEMATHESIS_HOOKS": HOOKS,
        "STATESET_SANDBOX_URL": target.base_url,
        "STATESET_SANDBOX_ADMIN_KEY": target.admin_key,
    }
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(CONTRACTS[contract]),
        "--url",
        target.base_url,
        "--seed",
        str(seed),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1700
    )
    report = done.stdout[-20_000:] + done.stderr[-5_000:]
    summary = [line for line in done.stdout.splitlines() if "generated" in line and "," in line]
    print(f"{contract} seed={seed} max-examples={MAX_EXAMPLES}: {summary}")
    assert done.returncode == 0, report
    assert "passed" in done.stdout, report  # it did run cases
    served = [r for r in target.requests() if r["operation_id"]]
    assert served, "schemathesis sent no request to the sandbox"
    assert not [r for r in served if (r["status"] or 0) >= 500], "a 5xx went unnoticed"
