"""The README's main-job command, `make demo`, run as a user runs it.

It starts the sandbox, runs examples/quickstart.py against it and stops it. The test checks the
steps the quickstart promises and that nothing is left listening afterwards.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_make_demo_runs_the_quickstart_end_to_end() -> None:
    make = shutil.which("make")
    assert make, "make is needed to run the README's demo command"
    done = subprocess.run(
        [make, "--no-print-directory", "demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout
    assert done.returncode == 0, output + done.stderr

    match = re.search(r"sandbox listening on http://127\.0\.0\.1:(\d+)", output)
    assert match, output
    key = re.search(r"business idempotency key '([^']+)'", output)
    assert key, output
    created = re.search(r"call (call_\w+) is queued", output)
    assert created, output
    assert f"got call {created.group(1)}: same call=True, replayed=True" in output
    assert "status: completed" in output
    assert re.search(r"\[\s*0\.0s\]\s+agent: ", output), "the transcript was not printed"
    for event in ("call.queued", "call.ringing", "call.answered", "call.completed"):
        assert f"verified {event} evt_" in output
    assert "rejected" not in output
    assert "sandbox saw 1 call creation(s) for 1 key(s)" in output
    assert "sandbox stopped" in output

    # Then the launch gates against a second sandbox: every one passes.
    for gate in (
        "duplicate_outbound_calls",
        "final_status",
        "webhook_delivery",
        "signature_verification",
        "synthetic_calls",
        "intents",
        "sweep_agreement",
    ):
        assert re.search(rf"^\s+{gate}\s+passed ", output, re.MULTILINE), (gate, output)
    assert "2 of 2 intents met their expected outcome" in output
    assert "server sweep: decision promote" in output
    report = re.search(r"HTML report: (\S+\.html)", output)
    assert report
    assert "<svg" in Path(report.group(1)).read_text(encoding="utf-8")
    assert output.rstrip().endswith("launch check demo: PASSED")

    # Nothing is left running: the sandbox's port refuses connections.
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", int(match.group(1)))) != 0
