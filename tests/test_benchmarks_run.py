"""``benchmarks/run.py``'s async throughput measures each client alone, and its import rows
name the interpreter they ran in (tiny sizes: the measuring is the script's job, not the
test's)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@contextlib.contextmanager
def serving(run: ModuleType, handler: type) -> Iterator[str]:
    """``run.py``'s server on a thread of this process, for the block: yields its base URL."""
    server = run.Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def run() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCHMARKS))  # run.py loads its sibling importtime.py from there
    try:
        yield importlib.import_module("run")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_each_client_is_measured_with_no_other_clients_connections_open(run: ModuleType) -> None:
    """With both pools open at once, the order of the two clients moved the ratio between
    0.58x and 1.97x: at no moment may the server hold more than one pool's 64 connections."""
    lock = threading.Lock()
    open_now = peak = opened = 0

    class Counting(run.Handler):  # type: ignore[name-defined,misc]
        def setup(self) -> None:
            nonlocal open_now, peak, opened
            with lock:
                open_now += 1
                opened += 1
                peak = max(peak, open_now)
            super().setup()

        def finish(self) -> None:
            nonlocal open_now
            try:
                super().finish()
            finally:
                with lock:
                    open_now -= 1

    with serving(run, Counting) as base:
        for first in ("raw", "wrapped"):
            rps: dict[str, Any] = asyncio.run(
                run.throughput(base, "/api/v1/call-logs/call_1", 128, first, warm=64)
            )
            assert list(rps) == [first, "wrapped" if first == "raw" else "raw"]
            assert all(value > 0 for value in rps.values())
    assert peak <= 64, f"{peak} connections were open at once"
    assert opened >= 2 * 64  # fresh pools: more connections than one pool holds


def test_import_rows_name_their_interpreter(run: ModuleType) -> None:
    assert "runtime venv" in run._venv_note(run.RUNTIME_PYTHON)
    assert "make bench-import" in run._venv_note(sys.executable)
    assert "--import-python" in run._venv_note("/opt/other/bin/python")


def test_the_pool_probe_reports_each_batch_with_the_pools_connections(run: ModuleType) -> None:
    probe = importlib.import_module("pool_probe")
    with serving(run, run.Handler) as base:
        rows = asyncio.run(probe.probe(base, 2, 64))
    assert len(rows) == 2
    assert rows[0][0] < rows[1][0]  # seconds since the start, growing
    assert all(rps > 0 and 1 <= connections <= 64 for _, rps, connections in rows)
