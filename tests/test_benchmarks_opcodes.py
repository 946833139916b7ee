"""``benchmarks/opcodes.py`` counts the bytecodes the reliability layer adds to a request, by
function; it runs, and what it counts is the layer's own work (tiny sizes: the counting is
the script's job, not the test's)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "opcodes.py"), "--requests", "5", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_the_layer_adds_its_own_functions_and_the_totals_add_up() -> None:
    out = _run("--top", "200")
    head = re.fullmatch(
        r"bytecodes per GET: plain (\d+), layered (\d+), added (-?\d+)", out.splitlines()[0]
    )
    assert head is not None, out
    plain, layered, added = (int(group) for group in head.groups())
    assert layered > plain > 0
    assert abs(layered - plain - added) <= 1  # rounding of the three totals
    functions = [line.split()[1] for line in out.splitlines()[1:]]
    assert "stateset_voice_wrapper/_reliability/identity.py:stamp_identity" in functions
    assert "stateset_voice_wrapper/_reliability/transport.py:_attempts" in functions


def test_telemetry_is_counted_against_the_layer_without_it() -> None:
    out = _run("--telemetry", "--top", "200")
    assert out.startswith("bytecodes per GET: layered ")
    assert any(line.endswith("_reliability/spans.py:attempt_started") for line in out.splitlines())
