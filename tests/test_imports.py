"""What `import stateset_voice_wrapper` loads: the reliability core, not the heavy optional parts.

Import time is measured in benchmarks/run.py; this test pins the reason it stays low, by module
rather than by duration, so it cannot flake on a busy machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "asyncio",  # only async users pay for it
    "uuid",  # IDs come from os.urandom (_ids.py)
    "stateset_voice_public",  # generated models load on first typed-client use
    "stateset_voice_admin",
    "stateset_voice_wrapper._clients._sync.runtime",
    "stateset_voice_wrapper._clients._sync.admin",
    "stateset_voice_wrapper._clients._async.runtime",
    "stateset_voice_wrapper._clients._async.admin",
    "stateset_voice_wrapper.sandbox",
    "stateset_voice_wrapper.cli",
    "sqlite3",
    "redis",
    "aiohttp",
    "openapi_core",
    "phonenumbers",  # the [compliance] extra: only a CallingWindow loads it
    "opentelemetry",  # only when telemetry is enabled (tests/test_telemetry_webhooks.py)
    "stateset_voice_facts",  # a large literal module: loaded by the first request that needs it
]


def _loaded_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(done.stdout))


def test_package_import_stays_light() -> None:
    loaded = _loaded_after("import stateset_voice_wrapper")
    assert "stateset_voice_wrapper._reliability.transport" in loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_typed_client_loads_its_models_on_first_use() -> None:
    loaded = _loaded_after("from stateset_voice_wrapper import VoiceClient")
    assert "stateset_voice_wrapper._clients._sync.runtime" in loaded
    assert "stateset_voice_wrapper._clients._sync.admin" not in loaded
    assert "asyncio" not in loaded
    assert "stateset_voice_facts" not in loaded
    assert not any(name.startswith("opentelemetry") for name in loaded)


def test_phonenumbers_loads_only_with_a_calling_window() -> None:
    client = "VoiceClient('sk_test', base_url='https://voice.example.com')"
    without = _loaded_after(f"from stateset_voice_wrapper import VoiceClient\n{client}")
    assert "phonenumbers" not in without
    # Nor the guard itself (zoneinfo, the area code table): the first CallingWindow loads it.
    assert "stateset_voice_wrapper._clients.calling_hours" not in without
    assert "zoneinfo" not in without
    with_window = _loaded_after("from stateset_voice_wrapper import CallingWindow\nCallingWindow()")
    assert "phonenumbers" in with_window
    assert "phonenumbers.geodata" not in with_window  # the state table is generated instead
