"""The SQLite lease store: one file, safe across threads and processes on one host."""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from .._shared.errors import InvalidParameterError, StoreError
from .leases import (
    DEFAULT_RETENTION_SECONDS,
    LeaseChange,
    LeaseRecord,
    LeaseStoreBase,
)

_T = TypeVar("_T")

__all__ = ["DEFAULT_BUSY_TIMEOUT_SECONDS", "SqliteLeaseStore"]

#: SQLite waits this long for another writer's lock before failing.
DEFAULT_BUSY_TIMEOUT_SECONDS: float = 30.0
#: Expired SQLite rows are purged at most this often (in clock seconds) per store.
_PURGE_INTERVAL_SECONDS = 60.0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS stateset_voice_leases (
    namespace        TEXT NOT NULL,
    key              TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    token            TEXT,
    lease_expires_at REAL NOT NULL,
    forget_at        REAL NOT NULL,
    result           BLOB,
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


class SqliteLeaseStore(LeaseStoreBase):
    """A :class:`LeaseStore` in one SQLite file: safe across threads and processes on one host.

    ``path`` must be a file (``":memory:"`` is refused: other processes could not see it). The
    file uses WAL mode and ``synchronous=FULL`` (a claim survives power loss, not only a crash);
    every claim, complete and release is one ``BEGIN IMMEDIATE`` transaction, so concurrent
    writers queue on SQLite's lock for up to ``busy_timeout_seconds``. Each thread gets its own
    connection. Several namespaces may share one file. Do not put the file on a network
    filesystem: SQLite's locking is not reliable there; use :class:`RedisLeaseStore` instead.

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
        self.path = path_str
        self.namespace = namespace
        self._busy_timeout = busy_timeout_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._next_purge_at = -math.inf
        with self._backend_call("open", None):
            self._initialise()

    def __repr__(self) -> str:
        return f"SqliteLeaseStore({self.path!r}, namespace={self.namespace!r})"

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False only so that close() may close every thread's connection;
        # each connection is still used by the one thread that opened it.
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        # A forked child must not reuse its parent's connection.
        if conn is not None and self._local.pid == os.getpid():
            return conn
        with self._lock:
            if self._closed:
                raise StoreError(f"{self!r} is closed")
            conn = self._connect()
            self._connections.append(conn)
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    def _initialise(self) -> None:
        conn = self._connection()
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
        with self._transaction() as tx:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    tx.execute(statement)
            columns = {row[1] for row in tx.execute("PRAGMA table_info(stateset_voice_leases)")}
            for column, alter in _ADDED_COLUMNS.items():
                if column not in columns:
                    tx.execute(alter)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # never leave this thread's connection inside a transaction
                conn.execute("ROLLBACK")
            raise

    def _select(self, conn: sqlite3.Connection, key: str) -> LeaseRecord | None:
        row = conn.execute(
            "SELECT fingerprint, token, lease_expires_at, forget_at, result, earlier_forget_at"
            " FROM stateset_voice_leases WHERE namespace = ? AND key = ?",
            (self.namespace, key),
        ).fetchone()
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

    def _read(self, key: str) -> LeaseRecord | None:
        return self._select(self._connection(), key)

    def _update(
        self, key: str, decide: Callable[[LeaseRecord | None, float], tuple[_T, LeaseChange]]
    ) -> _T:
        with self._transaction() as tx:
            now = self._clock()  # read after taking the lock, so waiting does not age it
            answer, change = decide(self._select(tx, key), now)
            if isinstance(change, LeaseRecord):
                tx.execute(
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
                tx.execute(
                    "DELETE FROM stateset_voice_leases WHERE namespace = ? AND key = ?",
                    (self.namespace, key),
                )
            if now >= self._next_purge_at:
                self._next_purge_at = now + _PURGE_INTERVAL_SECONDS
                tx.execute(
                    "DELETE FROM stateset_voice_leases WHERE namespace = ? AND forget_at <= ?",
                    (self.namespace, now),
                )
        return answer

    def _close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
