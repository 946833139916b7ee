"""The stores at fleet scale: bounded SQLite purges, busy timeouts, incremental auto-vacuum for
new files, batched reads, and the Redis eviction-policy check at startup.

The eviction tests run private redis-servers (the session's shared one must stay
``noeviction``): one whose policy the tests change with ``CONFIG SET``, one with ``CONFIG``
renamed away (as managed Redis does), and one started only after a store was opened.
"""

from __future__ import annotations

import logging
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis

from stateset_voice_wrapper import ConfigurationError, InvalidParameterError, RedisCallLimiter
from stateset_voice_wrapper._storage import redis_policy, sqlite_store
from stateset_voice_wrapper._storage.memory_store import MemoryLeaseStore
from stateset_voice_wrapper.stores import (
    Claimed,
    Completed,
    InFlight,
    LeaseStore,
    RedisDedupStore,
    RedisLeaseStore,
    RedisLedger,
    SqliteDedupStore,
    SqliteLeaseStore,
    SqliteLedger,
    StoreError,
)

if TYPE_CHECKING:
    from tests.clocks import T0, FakeClock
else:
    from clocks import T0, FakeClock


# --- SQLite: the purge ---------------------------------------------------------------------------


def _insert_expired(path: Path, namespace: str, n: int, forget_at: float) -> None:
    """``n`` completed rows, forgotten at ``forget_at``: a quiet day's backlog, written fast."""
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO stateset_voice_leases (namespace, key, fingerprint, token,"
            " lease_expires_at, forget_at, result) VALUES (?, ?, 'f', 't', ?, ?, x'00')",
            [(namespace, f"old-{i}", forget_at, forget_at) for i in range(n)],
        )


def _rows(path: Path, namespace: str) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM stateset_voice_leases WHERE namespace = ?", (namespace,)
        ).fetchone()
    return int(count)


def test_expired_rows_are_purged_a_bounded_batch_per_write(tmp_path: Path) -> None:
    path, clock = tmp_path / "calls.db", FakeClock()
    batch = sqlite_store._PURGE_BATCH_ROWS
    with (
        SqliteLeaseStore(path, namespace="n", clock=clock) as store,
        SqliteLeaseStore(path, namespace="other", clock=clock) as other,
    ):
        _insert_expired(path, "n", 2 * batch + 200, forget_at=T0 - 1)
        _insert_expired(path, "other", 10, forget_at=T0 - 1)
        store.claim("live-1", fingerprint="f", lease_seconds=30)  # the first write purges...
        assert _rows(path, "n") == batch + 200 + 1  # ...one batch, not the whole backlog
        store.claim("live-2", fingerprint="f", lease_seconds=30)  # a full batch: again at once
        assert _rows(path, "n") == 200 + 2
        store.claim("live-3", fingerprint="f", lease_seconds=30)
        assert _rows(path, "n") == 3  # the rest; live rows are never purged
        _insert_expired(path, "n", 5, forget_at=T0 - 1)
        store.claim("live-4", fingerprint="f", lease_seconds=30)
        assert _rows(path, "n") == 5 + 4  # backlog cleared: the next purge is a minute away
        clock.now += 60
        store.claim("live-5", fingerprint="f", lease_seconds=30)
        assert _rows(path, "n") == 5
        assert _rows(path, "other") == 10  # another namespace purges its own rows
        other.claim("x", fingerprint="f", lease_seconds=30)
        assert _rows(path, "other") == 1


@pytest.mark.parametrize("kind", ["ledger", "dedup"])
def test_the_busy_timeout_is_passed_through(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "s.db"
    store: SqliteLeaseStore
    if kind == "ledger":
        ledger = SqliteLedger(path, busy_timeout_seconds=0.05)
        assert isinstance(ledger.store, SqliteLeaseStore)
        store = ledger.store
    else:
        store = SqliteDedupStore(path, busy_timeout_seconds=0.05)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        started = time.monotonic()
        with pytest.raises(StoreError, match="OperationalError"):
            store.claim("k", fingerprint="f", lease_seconds=30)
        assert time.monotonic() - started < 5.0  # gave up after its 50 ms, not the default 30 s
        blocker.execute("ROLLBACK")
        assert isinstance(store.claim("k", fingerprint="f", lease_seconds=30), Claimed)
    finally:
        blocker.close()
        store.close()
    with pytest.raises(InvalidParameterError):
        SqliteDedupStore(path, busy_timeout_seconds=-1)


def test_new_files_get_incremental_auto_vacuum_and_existing_files_keep_theirs(
    tmp_path: Path,
) -> None:
    with SqliteLedger(tmp_path / "new.db"):
        pass
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # INCREMENTAL
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE unrelated (x)")  # a file someone created before the store
    with SqliteLedger(old) as ledger:
        assert isinstance(ledger.begin("k", fingerprint="f"), object)
    with sqlite3.connect(old) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone() == (0,)


def test_incremental_vacuum_returns_the_pages_of_purged_rows(tmp_path: Path) -> None:
    """What docs/idempotency-ledger.md tells operators to run after a peak."""
    path, clock = tmp_path / "calls.db", FakeClock()
    with SqliteLeaseStore(path, clock=clock, retention_seconds=10) as store:
        with sqlite3.connect(path) as db:
            db.executemany(
                "INSERT INTO stateset_voice_leases (namespace, key, fingerprint, token,"
                " lease_expires_at, forget_at, result) VALUES ('default', ?, 'f', 't', 0, 0, ?)",
                [(f"k{i}", b"x" * 400) for i in range(2000)],
            )
        for i in range(5):  # five writes purge the 2,000 expired rows, 500 at a time
            store.claim(f"new-{i}", fingerprint="f", lease_seconds=30)
    with sqlite3.connect(path, isolation_level=None) as db:
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        assert free > 100
        # execute() steps a statement once, and incremental_vacuum frees one page per step:
        # executescript() (like the sqlite3 shell) runs it to the end.
        db.executescript("PRAGMA incremental_vacuum;")
        assert db.execute("PRAGMA freelist_count").fetchone() == (0,)
        assert db.execute("PRAGMA page_count").fetchone()[0] <= pages - free


# --- batched reads -------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteLeaseStore]:
    clock = FakeClock()
    store: SqliteLeaseStore | RedisLeaseStore | MemoryLeaseStore
    if request.param == "memory":
        store = MemoryLeaseStore(clock=clock)
    elif request.param == "sqlite":
        store = SqliteLeaseStore(tmp_path / "s.db", clock=clock)
    else:
        store = RedisLeaseStore(
            request.getfixturevalue("redis_url"), namespace=f"t-{uuid.uuid4().hex}", clock=clock
        )
    yield store  # type: ignore[misc]
    store.close()


def test_get_many_answers_what_get_answers_for_each_key(
    any_store: LeaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "_PURGE_BATCH_ROWS", 3)  # SQLite reads in chunks of this
    token = any_store.claim("done", fingerprint="f", lease_seconds=30)
    assert isinstance(token, Claimed)
    any_store.complete("done", token=token.token, result=b"r")
    any_store.claim("held", fingerprint="f", lease_seconds=30)
    keys = ["absent-1", "held", "done", *[f"absent-{i}" for i in range(2, 8)], "held"]
    many = any_store.get_many(keys)  # type: ignore[attr-defined]
    assert many == [any_store.get(key) for key in keys]
    assert many[1:3] == [InFlight(T0 + 30), Completed(b"r")]
    assert many.count(None) == 7


# --- Redis: the eviction policy ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_redis(port: int, workdir: Path, *extra: str) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is not installed: run scripts/ensure-system-deps"
    proc = subprocess.Popen(
        [
            binary,
            *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--dir", str(workdir), *extra),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(500):  # polling a child process's startup, not test logic
        try:
            client.ping()
            break
        except redis.ConnectionError:
            threading.Event().wait(0.01)
    client.close()
    return proc


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """``start(*redis_args) -> url`` of a private redis-server; all stopped after the module."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*extra: str, port: int | None = None) -> str:
        port = port or _free_port()
        started.append(_start_redis(port, tmp_path_factory.mktemp("redis"), *extra))
        return f"redis://127.0.0.1:{port}/0"

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def evicting(private_redis: Callable[..., str]) -> Iterator[Callable[..., str]]:
    url = private_redis()
    client = redis.Redis.from_url(url)

    def set_policy(policy: str, maxmemory: str = "64mb") -> str:
        client.config_set("maxmemory", maxmemory)
        client.config_set("maxmemory-policy", policy)
        return url

    yield set_policy
    client.close()


@pytest.fixture(autouse=True)
def _said_nothing_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_policy, "_said", set())  # "once per process" starts afresh


@pytest.mark.redis
@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru", "volatile-ttl", "allkeys-lfu"])
def test_an_evicting_redis_is_refused_by_default(evicting: Callable[..., str], policy: str) -> None:
    url = evicting(policy)
    for open_store in (
        lambda: RedisLedger(url),
        lambda: RedisDedupStore(url),
        lambda: RedisLeaseStore(url),
        lambda: RedisCallLimiter(url, name="t", concurrency=1),
    ):
        with pytest.raises(ConfigurationError) as caught:
            open_store()
        message = str(caught.value)
        assert f"maxmemory-policy {policy!r}" in message
        assert "Set maxmemory-policy noeviction" in message
        assert "eviction_policy='warn'" in message


@pytest.mark.redis
def test_warn_opens_and_says_so_once_per_server(
    evicting: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    url = evicting("allkeys-lru")
    with caplog.at_level(logging.WARNING, logger="stateset_voice.stores"):
        first = RedisLedger(url, eviction_policy="warn")
        second = RedisDedupStore(url, eviction_policy="warn")
    warnings = [r for r in caplog.records if "maxmemory-policy" in r.getMessage()]
    assert len(warnings) == 1
    assert "'allkeys-lru'" in warnings[0].getMessage()
    assert isinstance(first.begin("k", fingerprint="f"), object)
    first.close()
    second.close()


@pytest.mark.redis
def test_noeviction_or_no_maxmemory_opens_silently_and_ignore_does_not_ask(
    evicting: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="stateset_voice.stores"):
        RedisLedger(evicting("noeviction")).close()
        RedisLedger(evicting("allkeys-lru", maxmemory="0")).close()  # nothing is ever evicted
    assert caplog.records == []
    url = evicting("allkeys-lru")
    sent: list[str] = []

    class Recording(redis.Redis):
        def execute_command(self, *args: object, **options: object) -> object:
            sent.append(str(args[0]).upper())
            return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    client = Recording.from_url(url)
    try:
        RedisLeaseStore(client, eviction_policy="ignore").claim(
            "k", fingerprint="f", lease_seconds=1
        )
        assert "CONFIG GET" not in sent
        assert sent  # the claim did run
        with pytest.raises(InvalidParameterError, match="eviction_policy must be one of"):
            RedisLeaseStore(client, eviction_policy="sometimes")  # type: ignore[arg-type]
    finally:
        client.close()


@pytest.mark.redis
def test_a_redis_without_config_warns_once_and_opens(
    private_redis: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    url = private_redis("--rename-command", "CONFIG", "")  # as managed Redis does
    with caplog.at_level(logging.WARNING, logger="stateset_voice.stores"):
        ledger = RedisLedger(url)
        RedisLedger(url).close()
    assert isinstance(ledger.begin("k", fingerprint="f"), object)
    ledger.close()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "does not allow CONFIG GET" in warnings[0]
    assert "noeviction" in warnings[0]


@pytest.mark.redis
def test_an_acl_that_denies_config_warns_and_opens(
    private_redis: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    url = private_redis()
    admin = redis.Redis.from_url(url)
    admin.acl_setuser(
        "worker", enabled=True, nopass=True, commands=["+@all", "-config"], keys=["*"]
    )
    admin.close()
    with caplog.at_level(logging.WARNING, logger="stateset_voice.stores"):
        store = RedisLeaseStore(url.replace("redis://", "redis://worker@"))
    assert isinstance(store.claim("k", fingerprint="f", lease_seconds=5), Claimed)
    store.close()
    assert "does not allow CONFIG GET (NoPermissionError)" in caplog.text


@pytest.mark.redis
def test_a_server_down_at_startup_is_checked_on_the_first_operation(
    private_redis: Callable[..., str],
) -> None:
    port = _free_port()
    store = RedisLeaseStore(f"redis://127.0.0.1:{port}/0")  # nothing listens yet: opens anyway
    try:
        with pytest.raises(StoreError):
            store.claim("k", fingerprint="f", lease_seconds=5)
        private_redis("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru", port=port)
        with pytest.raises(ConfigurationError, match="allkeys-lru"):
            store.claim("k", fingerprint="f", lease_seconds=5)  # refused before any write
        assert redis.Redis(port=port).keys("*") == []
    finally:
        store.close()
