"""The SQLite lease store: one file, safe across threads and processes on one host."""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .._shared.errors import InvalidParameterError, StoreError
from .leases import (
    DEFAULT_RETENTION_SECONDS,
    LeaseChange,
    LeaseRecord,
    LeaseStoreBase,
    check_positive_seconds,
)

_T = TypeVar("_T")

__all__ = ["DEFAULT_BUSY_TIMEOUT_SECONDS", "SqliteLeaseStore"]

#: SQLite waits this long for another writer's lock before failing.
DEFAULT_BUSY_TIMEOUT_SECONDS: float = 30.0
#: Expired SQLite rows are purged at most this often (in clock seconds) per store...
_PURGE_INTERVAL_SECONDS = 60.0
#: ...at most this many rows at a time, in the transaction of the write that purges. A backlog
#: (a quiet day's expired keys) is then cleared one batch per write, and no write ever holds the
#: lock for a purge of millions of rows (4M rows in one DELETE held it for 14.8 s).
_PURGE_BATCH_ROWS = 500
#: Idle connections kept for reuse; more concurrent operations open more, closed on return.
_MAX_IDLE_CONNECTIONS = 4
#: The database, its WAL and its shared-memory file hold phone numbers: owner only.
_FILE_MODE = 0o600


_COLUMNS = "fingerprint, token, lease_expires_at, forget_at, result, earlier_forget_at"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS stateset_voice_leases (
    namespace         TEXT NOT NULL,
    key               TEXT NOT NULL,
    fingerprint       TEXT NOT NULL,
    token             TEXT,
    lease_expires_at  REAL NOT NULL,
    forget_at         REAL NOT NULL,
    result            BLOB,
    earlier_forget_at REAL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stateset_voice_leases_forget
    ON stateset_voice_leases (namespace, forget_at);
"""
#: Columns added after the first schema, each with the ALTER TABLE that adds it to an old file.
_ADDED_COLUMNS = {
    "earlier_forget_at": "ALTER TABLE stateset_voice_leases ADD COLUMN earlier_forget_at REAL"
}


def _create_private(path: str) -> None:
    """Create ``path`` mode 0600 if it does not exist, before SQLite does (SQLite would use 0644
    less the umask, and gives its ``-wal`` and ``-shm`` files the database file's mode).

    An existing file keeps its mode: the operator chose it (a group of workers may share it).
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    except FileExistsError:
        return
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _FILE_MODE)  # whatever the umask took away, owner read-write stays
    finally:
        os.close(fd)
    # A WAL or shared-memory file left from an earlier database of this name would be reused.
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path + suffix, _FILE_MODE)


class _ConnectionPool:
    """Connections checked out per operation: open ones are bounded by concurrency, not by the
    number of threads that ever used the store, and at most ``max_idle`` stay open between
    operations. A forked child never touches its parent's connections (see ``_after_fork``)."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], *, max_idle: int) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._pid = os.getpid()
        # A child's copies of the parent's connections: never used, and never closed either
        # (closing could checkpoint or unlink the parent's WAL); kept referenced so that garbage
        # collection does not close them.
        self._inherited: list[sqlite3.Connection] = []
        _POOLS.add(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # the parent's lock may have been held by another thread
        self._inherited.extend(self._idle)
        self._idle = []
        self._pid = os.getpid()

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        if self._pid != os.getpid():  # fork without register_at_fork (not a POSIX platform)
            self._after_fork()
        with self._lock:
            if self._closed:
                raise StoreError("the SQLite store is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        reusable = False
        try:
            yield conn
            reusable = not conn.in_transaction
        finally:
            self._check_in(conn, reusable)

    def _check_in(self, conn: sqlite3.Connection, reusable: bool) -> None:
        if self._pid != os.getpid():
            return  # checked out in the parent before a fork: the parent's to close
        with self._lock:
            if reusable and not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


_POOLS: weakref.WeakSet[_ConnectionPool] = weakref.WeakSet()


def _reset_pools_after_fork() -> None:
    for pool in list(_POOLS):
        pool._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pools_after_fork)


class SqliteLeaseStore(LeaseStoreBase):
    """A :class:`LeaseStore` in one SQLite file: safe across threads and processes on one host.

    ``path`` must be a file (``":memory:"`` is refused: other processes could not see it). A new
    file is created mode 0600, and SQLite gives its ``-wal``/``-shm`` files the same mode; an
    existing file keeps its mode. The file uses WAL mode and ``synchronous=FULL`` (a claim
    survives power loss, not only a crash); every claim, complete and release is one
    ``BEGIN IMMEDIATE`` transaction, so concurrent writers queue on SQLite's lock for up to
    ``busy_timeout_seconds``. Connections come from a small pool, one per operation in
    progress, so a thread-per-request server does not accumulate them. Several namespaces may
    share one file. Do not put the file on a network filesystem: SQLite's locking is not
    reliable there; use :class:`RedisLeaseStore` instead. A new file is created with
    ``auto_vacuum=INCREMENTAL``, so that ``PRAGMA incremental_vacuum`` can return free pages to
    the file system after a peak without a full ``VACUUM``; the store itself never shrinks the
    file (freed pages are reused by later writes).

    >>> store = SqliteLeaseStore(tmp / "leases.db")           # doctest: +SKIP
    >>> store.claim("job-1", fingerprint="f", lease_seconds=30)  # doctest: +SKIP
    Claimed(token='9f...')
    """

    _backend_errors = (sqlite3.Error,)

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        namespace: str = "default",
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(clock=clock, retention_seconds=retention_seconds)
        path_str = os.fspath(path)
        if not path_str or path_str == ":memory:" or path_str.startswith("file::memory:"):
            raise InvalidParameterError(
                "SqliteLeaseStore needs a file path: an in-memory database is invisible to other processes"
            )
        if not isinstance(namespace, str) or not namespace:
            raise InvalidParameterError("namespace must be a non-empty string")
        self.path = path_str
        self.namespace = namespace
        if busy_timeout_seconds != 0:  # 0 is allowed: fail at once on a locked file
            check_positive_seconds("busy_timeout_seconds", busy_timeout_seconds)
        self._busy_timeout = float(busy_timeout_seconds)
        self._next_purge_at = -math.inf
        try:
            _create_private(path_str)
        except OSError as exc:
            raise StoreError(
                f"{self!r}: cannot create the database file ({type(exc).__name__})"
            ) from exc
        self._pool = _ConnectionPool(self._connect, max_idle=_MAX_IDLE_CONNECTIONS)
        try:
            with self._backend_call("open", None):
                self._initialise()
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"SqliteLeaseStore({self.path!r}, namespace={self.namespace!r})"

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False: a pooled connection moves between threads, one at a time.
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA synchronous=FULL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _initialise(self) -> None:
        with self._pool.connection() as conn:
            # Only possible before the first write: a file another process created keeps its own.
            if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
                conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            deadline = time.monotonic() + self._busy_timeout
            # Switching to WAL needs a moment of exclusive access, which another process opening
            # the same new file may hold; SQLite reports that at once instead of waiting.
            while True:
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
            # executescript() would COMMIT on its own, so run the statements one by one; the
            # column check runs in the same transaction, so two processes never both add it.
            with self._transaction(conn):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                columns = {
                    row[1] for row in conn.execute("PRAGMA table_info(stateset_voice_leases)")
                }
                for column, alter in _ADDED_COLUMNS.items():
                    if column not in columns:
                        conn.execute(alter)

    @contextlib.contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # never hand a connection back inside a transaction
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _record(row: tuple[Any, ...] | None) -> LeaseRecord | None:
        if row is None:
            return None
        fingerprint, token, lease_expires_at, forget_at, result, earlier_forget_at = row
        return LeaseRecord(
            fingerprint,
            token,
            lease_expires_at,
            forget_at,
            None if result is None else bytes(result),
            earlier_forget_at,
        )

    def _select(self, conn: sqlite3.Connection, key: str) -> LeaseRecord | None:
        return self._record(
            conn.execute(
                f"SELECT {_COLUMNS} FROM stateset_voice_leases WHERE namespace = ? AND key = ?",  # noqa: S608 - a constant column list
                (self.namespace, key),
            ).fetchone()
        )

    def _read(self, key: str) -> LeaseRecord | None:
        with self._pool.connection() as conn:
            return self._select(conn, key)

    def _read_many(self, keys: list[str]) -> list[LeaseRecord | None]:
        found: dict[str, LeaseRecord | None] = {}
        with self._pool.connection() as conn:
            for start in range(0, len(keys), _PURGE_BATCH_ROWS):  # well below SQLite's ? limit
                chunk = keys[start : start + _PURGE_BATCH_ROWS]
                marks = ",".join("?" * len(chunk))
                for key, *row in conn.execute(
                    f"SELECT key, {_COLUMNS} FROM stateset_voice_leases"  # noqa: S608 - placeholders only
                    f" WHERE namespace = ? AND key IN ({marks})",
                    (self.namespace, *chunk),
                ):
                    found[key] = self._record(tuple(row))
        return [found.get(key) for key in keys]

    def _update(
        self, key: str, decide: Callable[[LeaseRecord | None, float], tuple[_T, LeaseChange]]
    ) -> _T:
        with self._pool.connection() as conn, self._transaction(conn):
            now = self._clock()  # read after taking the lock, so waiting does not age it
            answer, change = decide(self._select(conn, key), now)
            if isinstance(change, LeaseRecord):
                conn.execute(
                    "INSERT OR REPLACE INTO stateset_voice_leases (namespace, key, fingerprint,"
                    " token, lease_expires_at, forget_at, result, earlier_forget_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.namespace,
                        key,
                        change.fingerprint,
                        change.token,
                        change.lease_expires_at,
                        change.forget_at,
                        change.result,
                        change.earlier_forget_at,
                    ),
                )
            elif change == "delete":
                conn.execute(
                    "DELETE FROM stateset_voice_leases WHERE namespace = ? AND key = ?",
                    (self.namespace, key),
                )
            if now >= self._next_purge_at:
                purged = conn.execute(
                    "DELETE FROM stateset_voice_leases WHERE namespace = ? AND key IN"
                    " (SELECT key FROM stateset_voice_leases WHERE namespace = ? AND forget_at <= ?"
                    " LIMIT ?)",
                    (self.namespace, self.namespace, now, _PURGE_BATCH_ROWS),
                ).rowcount
                # A full batch leaves more behind: the next write purges another batch.
                backlog = purged >= _PURGE_BATCH_ROWS
                self._next_purge_at = now if backlog else now + _PURGE_INTERVAL_SECONDS
        return answer

    def _close(self) -> None:
        self._pool.close()
