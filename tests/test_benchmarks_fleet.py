"""The fleet benchmarks run, and say what docs/benchmarks.md and docs/idempotency-ledger.md
report them saying (with tiny sizes: the measurements themselves are `make bench-limits` and
`make bench-stores`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

pytestmark = pytest.mark.redis


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


def test_the_permit_benchmark_counts_the_round_trips_of_each_operation(redis_url: str) -> None:
    out = _run("limits.py", "--calls", "20", "--repeat", "1", "--redis-url", redis_url)
    assert "| Redis: acquire + attach (the create's path) |" in out
    assert out.count("|") > 40
    rows = {line.split("|")[1].strip(): line.split("|")[4].strip() for line in out.splitlines()[2:]}
    assert rows["Redis: acquire + attach (the create's path)"] == "7"
    assert rows["Redis: release_for_call (the consumer's)"] == "4"
    assert rows["Redis: a rate token alone"] == "1"


def test_the_store_benchmarks_run_at_small_sizes() -> None:
    out = _run("stores.py", "roundtrips", "--creates", "20")
    assert "| Redis | create | 4 |" in out
    assert "| Redis | replay | 1 |" in out
    out = _run("stores.py", "purge", "--rows", "1200")
    assert "| writes to clear the backlog | 1 | 3 (" in out  # 1,200 rows, 500 a write
    out = _run("stores.py", "sizing", "--keys", "20")
    assert "(listpack)" in out
    assert "(hashtable)" in out
