"""SQLite store specifics: bounded connections, fork safety, private files, schema upgrade."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from stateset_voice_wrapper._storage.sqlite_store import _MAX_IDLE_CONNECTIONS
from stateset_voice_wrapper.stores import (
    Claimed,
    InFlight,
    SqliteDedupStore,
    SqliteLeaseStore,
    SqliteLedger,
)

T0 = 1_800_000_000.0
#: Threads alive at once in :func:`_one_claim_per_thread`.
_BATCH = 25


def open_descriptors() -> int:
    """This process's open file descriptors (Linux, where CI runs)."""
    return len(os.listdir("/proc/self/fd"))


def _one_claim_per_thread(store: SqliteLeaseStore, n: int, prefix: str = "key") -> None:
    """``n`` short-lived threads, a few at a time, each making one claim and ending."""
    errors: list[BaseException] = []
    for batch in range(0, n, _BATCH):
        threads = []
        for i in range(batch, min(batch + _BATCH, n)):

            def work(i: int = i) -> None:
                try:
                    outcome = store.claim(f"{prefix}-{i}", fingerprint="f", lease_seconds=30)
                    assert isinstance(outcome, Claimed)
                except BaseException as exc:  # reported below, in the test's thread
                    errors.append(exc)

            threads.append(threading.Thread(target=work))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []


@pytest.mark.parametrize("kind", ["dedup", "ledger"])
def test_descriptors_stay_bounded_however_many_threads_used_the_store(
    tmp_path: Path, kind: str
) -> None:
    base = open_descriptors()
    store: SqliteLeaseStore
    if kind == "dedup":
        store = SqliteDedupStore(tmp_path / "s.db")
    else:
        ledger_store = SqliteLedger(tmp_path / "s.db").store
        assert isinstance(ledger_store, SqliteLeaseStore)
        store = ledger_store
    try:
        _one_claim_per_thread(store, 25, "warm-up")
        warm = open_descriptors()
        _one_claim_per_thread(store, 150)
        after = open_descriptors()
        # At most _MAX_IDLE_CONNECTIONS stay open however many threads came and went. The
        # descriptor count is looser than that: SQLite keeps a closed connection's descriptor
        # open while another connection of the process holds a lock on the file (POSIX locks
        # belong to the process), so it depends on how the 25 threads of a batch overlapped.
        # One connection per thread ever seen would leave over 150 more open.
        assert len(store._pool._idle) <= _MAX_IDLE_CONNECTIONS
        assert after - base <= 2 * _BATCH + 3 * _MAX_IDLE_CONNECTIONS, (base, warm, after)
        assert isinstance(store.get("key-149"), InFlight)  # every claim landed
    finally:
        store.close()
    assert open_descriptors() <= base


def test_close_closes_the_pooled_connections(tmp_path: Path) -> None:
    before = open_descriptors()
    store = SqliteLeaseStore(tmp_path / "s.db")
    _one_claim_per_thread(store, 25)
    assert open_descriptors() > before
    store.close()
    assert open_descriptors() <= before


def test_a_forked_child_opens_its_own_connections(tmp_path: Path) -> None:
    store = SqliteLeaseStore(tmp_path / "s.db")
    try:
        assert isinstance(store.claim("parent-1", fingerprint="f", lease_seconds=30), Claimed)
        inherited = list(store._pool._idle)
        assert inherited  # the parent has an idle connection the child must not use
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, and leave without running any cleanup
            status = b"?"
            try:
                outcome = store.claim("child-1", fingerprint="f", lease_seconds=30)
                used = list(store._pool._idle)
                fresh = all(all(c is not old for old in inherited) for c in used)
                status = b"ok" if isinstance(outcome, Claimed) and used and fresh else b"reused"
            except BaseException as exc:
                status = type(exc).__name__.encode()
            finally:
                os.write(write_end, status)
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            answer = pipe.read()
        os.waitpid(pid, 0)
        assert answer == b"ok"
        # The parent's connections still work, and see the child's claim.
        assert isinstance(store.claim("parent-2", fingerprint="f", lease_seconds=30), Claimed)
        assert isinstance(store.get("child-1"), InFlight)
    finally:
        store.close()


# --- file modes -------------------------------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)  # the worst case: nothing masked, so SQLite alone would make 0644 files
    try:
        yield
    finally:
        os.umask(old)


def _modes(path: Path) -> dict[str, int]:
    found = {}
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(str(path) + suffix)
        if candidate.exists():
            found[suffix or "db"] = stat.S_IMODE(candidate.stat().st_mode)
    return found


@pytest.mark.usefixtures("permissive_umask")
@pytest.mark.parametrize("kind", ["ledger", "dedup"])
def test_new_files_are_private_to_the_owner(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.db"
    store = SqliteLedger(path).store if kind == "ledger" else SqliteDedupStore(path)
    try:
        outcome = store.claim("k", fingerprint="f", lease_seconds=30)
        assert isinstance(outcome, Claimed)
        store.complete("k", token=outcome.token, result=b'{"to":"+15555555678"}')
        modes = _modes(path)
        assert set(modes) == {"db", "-wal", "-shm"}  # the WAL files exist while the store is open
        assert modes == {"db": 0o600, "-wal": 0o600, "-shm": 0o600}
    finally:
        store.close()


@pytest.mark.usefixtures("permissive_umask")
def test_an_existing_files_mode_is_left_as_the_operator_set_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    SqliteLeaseStore(path).close()
    os.chmod(path, 0o640)  # e.g. a group of workers sharing the file
    with SqliteLeaseStore(path) as store:
        store.claim("k", fingerprint="f", lease_seconds=30)
        assert _modes(path)["db"] == 0o640


# --- upgrading a file written before the earlier_forget_at column ------------------------------


def test_an_old_schema_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE stateset_voice_leases (namespace TEXT NOT NULL, key TEXT NOT NULL,"
            " fingerprint TEXT NOT NULL, token TEXT, lease_expires_at REAL NOT NULL,"
            " forget_at REAL NOT NULL, result BLOB, PRIMARY KEY (namespace, key)) WITHOUT ROWID"
        )
        db.execute(
            "INSERT INTO stateset_voice_leases VALUES ('default', 'done', 'f', NULL, ?, ?, ?)",
            (T0, T0 + 100, b"recorded"),
        )
    db.close()
    with SqliteLeaseStore(path, clock=lambda: T0 + 1) as store:
        assert store.claim("done", fingerprint="f", lease_seconds=30).__class__.__name__ == (
            "Completed"
        )
        token = store.claim("new", fingerprint="f", lease_seconds=30)
        assert isinstance(token, Claimed)
        assert store.release("new", token=token.token, remember=True) is True
    with SqliteLeaseStore(path, clock=lambda: T0 + 1) as reopened:  # a second open: no re-ALTER
        assert reopened.get("done") is not None
