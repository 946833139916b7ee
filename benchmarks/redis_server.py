"""A private redis-server for the benchmarks: loopback, no persistence, stopped on exit."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def redis_server(*extra: str) -> Iterator[str]:
    """The URL of a fresh redis-server started with ``extra`` arguments."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: run `bash scripts/ensure-system-deps`")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as workdir:
        proc = subprocess.Popen(
            [
                *(binary, "--port", str(port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", workdir, *extra),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


class CountingRedis(redis.Redis):
    """A real client that counts its round trips: each command, and each pipeline once."""

    round_trips = 0

    @classmethod
    def connect(cls, url: str) -> CountingRedis:
        client = cls.from_url(url)
        assert isinstance(client, CountingRedis)
        return client

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.round_trips += 1
        return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        pipe = super().pipeline(transaction=transaction, shard_hint=shard_hint)
        original = pipe.execute

        def execute(raise_on_error: bool = True) -> Any:
            self.round_trips += 1
            return original(raise_on_error)

        pipe.execute = execute  # type: ignore[method-assign]
        return pipe
