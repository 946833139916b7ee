"""Shared fixtures: the sync/async ``flavour`` of a test, and a real redis-server on loopback.

CI (`.ci/run`) starts one and exports STATESET_TEST_REDIS_URL; elsewhere the fixture starts a
private redis-server on a free port for the session. There is no fake: without a redis-server
binary the Redis tests fail with an instruction to install it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from tests.flavours import FLAVOURS, Flavour
else:
    from flavours import FLAVOURS, Flavour

# Every property test is deterministic in `make check` (a fixed derivation of each test's
# examples); HYPOTHESIS_PROFILE=long varies them and draws far more. Modules with a profile of
# their own (the adversarial and Twilio differential suites) read the same variable; a test
# that names its own count in @settings passes it through tests/profiles.py's examples().
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("long" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "ci")


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> Iterator[Flavour]:
    """The sync or the async API (tests/flavours.py): a test written once runs through both."""
    chosen = Flavour(request.param)
    try:
        yield chosen
    finally:
        chosen.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)  # polling a child process's startup, not test logic
    raise RuntimeError(f"redis-server did not listen on 127.0.0.1:{port} within {timeout}s")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real, empty-at-start redis-server on loopback."""
    existing = os.environ.get("STATESET_TEST_REDIS_URL")
    if existing:
        yield existing
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed: run `bash scripts/ensure-system-deps` (Debian package redis-server)"
        )
    port = _free_port()
    workdir: Path = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
