"""``benchmarks/instructions.py`` counts the machine instructions a GET executes under valgrind,
and ``benchmarks/floor.py`` is the yardstick it compares the layer with.

valgrind is a developer's tool, not installed where the tests run, so the counting itself is
not run here; what can be checked without it is: the counter reads cachegrind's summary line,
refuses output without one, says what is missing when valgrind is, and its child workload runs
every variant. The yardstick must do the work the layer does on a first-attempt success (the
same headers on the wire, the same answer handed back) and refuse anything else, or the
comparison would flatter the layer.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from stateset_voice_wrapper import ReliabilityConfig, ReliableTransport, RetryBudget

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

if TYPE_CHECKING:
    from benchmarks.floor import FloorTransport
    from benchmarks.instructions import instruction_refs
else:
    sys.path.insert(0, str(BENCHMARKS))
    from floor import FloorTransport
    from instructions import instruction_refs


def _script(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / "instructions.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_the_count_is_read_from_cachegrinds_summary() -> None:
    output = "==1== Cachegrind, a high-precision tracing profiler\n==1== \n==1== I   refs:      548,788,562\n"
    assert instruction_refs(output) == 548_788_562
    with pytest.raises(RuntimeError, match="no instruction count"):
        instruction_refs("==1== valgrind: failed to start tool 'cachegrind'\n")


def test_without_valgrind_the_counter_says_so_and_fails() -> None:
    done = _script("--requests", "1", path="/nonexistent")
    assert done.returncode == 2
    assert "valgrind is not installed" in done.stderr


@pytest.mark.parametrize("variant", ["plain", "layered", "telemetry", "floor"])
def test_the_child_workload_runs_every_variant(variant: str) -> None:
    done = _script("--child", variant, "--requests", "2")
    assert done.returncode == 0, done.stderr
    no_cookies = _script("--child", variant, "--requests", "2", "--no-cookies")
    assert no_cookies.returncode == 0, no_cookies.stderr


def _sent_and_answer(transport_for: type) -> tuple[list[tuple[str, str]], bytes, int]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"x-request-id": "req_1"})

    config = ReliabilityConfig(budget=RetryBudget(), telemetry=False)
    inner = httpx.MockTransport(handler)
    transport = (
        FloorTransport(inner, config)
        if transport_for is FloorTransport
        else ReliableTransport(config=config, transport=inner)
    )
    with httpx.Client(base_url="http://bench.local", transport=transport) as client:
        response = client.get("/api/v1/call-logs/call_1")
    (request,) = sent
    headers = [(k, "<id>" if k == "x-request-id" else v) for k, v in request.headers.multi_items()]
    uuid.UUID(request.headers["x-request-id"])  # a new UUID in both
    return headers, response.read(), response.status_code


def test_the_yardstick_sends_and_answers_what_the_layer_does() -> None:
    assert _sent_and_answer(FloorTransport) == _sent_and_answer(ReliableTransport)


_REFUSED = {
    "503": lambda: httpx.Response(503),
    "html": lambda: httpx.Response(200, html="<html>proxy</html>"),
    "encoded": lambda: httpx.Response(
        200, stream=httpx.ByteStream(gzip.compress(b"{}")), headers={"content-encoding": "gzip"}
    ),
}


@pytest.mark.parametrize("answer", list(_REFUSED))
def test_the_yardstick_refuses_what_it_does_not_measure(answer: str) -> None:
    config = ReliabilityConfig(budget=RetryBudget(), telemetry=False)
    transport = FloorTransport(httpx.MockTransport(lambda _: _REFUSED[answer]()), config)
    with (
        httpx.Client(base_url="http://bench.local", transport=transport) as client,
        pytest.raises(RuntimeError, match="the yardstick"),
    ):
        client.get("/x")


def test_the_yardstick_is_timed_beside_the_layer() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "floor.py"), "--runs", "2", "--requests", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 4, done.stdout  # the heading, a line per run, the medians
    assert all("floor" in line and "layered" in line for line in lines[1:3])
    assert lines[3].startswith("medians: floor ")
