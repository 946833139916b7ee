"""Durable leases: claim a key, then complete or release it.

One primitive serves two features: the idempotency ledger for outbound calls (``_ledger.py``)
and the exactly-once webhook consumer (``webhooks/_consumer.py``). A key moves through::

    absent --claim--> claimed(token, lease) --complete(token)--> completed(result)
                          |   \\--release(token)--> absent
                          \\--lease expires--> claimable again: the next claim takes it over

* ``claim`` returns :class:`Claimed` (you own the key until the lease expires), :class:`Completed`
  (someone finished it; here is what they recorded), :class:`InFlight` (someone holds a live
  lease) or :class:`Mismatch` (the key is known with a different fingerprint).
* ``complete`` and ``release`` only succeed for the token that still owns the key; once another
  caller has taken over an expired lease, the old token gets ``False``.
* A completed key is remembered for ``retention_seconds`` (default 24 h, the server's idempotency
  window) and then forgotten. A claim is remembered for its lease plus the retention, so that a
  crashed claim's fingerprint is still checked while the server may hold the key.

The decisions are pure functions of (stored record, now); each store only supplies an atomic
read-decide-write (:meth:`_StoreBase._update`), so SQLite and Redis share one state machine.
Time comes from an injectable ``clock`` (wall-clock seconds, because leases are compared across
processes and hosts), so tests never sleep.
"""

from __future__ import annotations

import abc
import contextlib
import math
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, TypeAlias, TypeVar, cast

import attrs

if TYPE_CHECKING:
    import redis

__all__ = [
    "DEFAULT_RETENTION_SECONDS",
    "ClaimOutcome",
    "Claimed",
    "Completed",
    "InFlight",
    "LeaseStore",
    "Mismatch",
    "RedisLeaseStore",
    "SqliteLeaseStore",
]

#: How long a completed key is remembered: the server's idempotency window.
DEFAULT_RETENTION_SECONDS: float = 24 * 60 * 60
#: SQLite waits this long for another writer's lock before failing.
DEFAULT_BUSY_TIMEOUT_SECONDS: float = 30.0
#: Expired SQLite rows are purged at most this often (in clock seconds) per store.
_PURGE_INTERVAL_SECONDS = 60.0
#: Redis keeps a record this much longer than its logical lifetime, so that a worker whose clock
#: runs slightly ahead of Redis's never sees a record vanish before it is logically forgotten.
_REDIS_TTL_GRACE_SECONDS = 60.0
#: Optimistic Redis transactions retry this often before giving up (each retry means another
#: writer made progress on the same key, so this is only reached under pathological contention).
_REDIS_MAX_WATCH_RETRIES = 1000

_T = TypeVar("_T")


@attrs.frozen
class Claimed:
    """You own the key until the lease expires; finish with ``complete`` or ``release``."""

    token: str


@attrs.frozen
class Completed:
    """Someone finished the key; ``result`` is what they recorded."""

    # The result may hold personal data (a created call's phone numbers): keep it out of reprs.
    result: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")


@attrs.frozen
class InFlight:
    """Someone else holds a live lease, until ``expires_at`` (store clock seconds)."""

    expires_at: float


@attrs.frozen
class Mismatch:
    """The key was claimed or completed with a different fingerprint."""


ClaimOutcome: TypeAlias = Claimed | Completed | InFlight | Mismatch


class LeaseStore(Protocol):
    """A durable store of leased keys. See the module docstring for the state machine."""

    def claim(self, key: str, *, fingerprint: str, lease_seconds: float) -> ClaimOutcome: ...

    def complete(self, key: str, *, token: str, result: bytes) -> bool: ...

    def release(self, key: str, *, token: str) -> bool: ...

    def get(self, key: str) -> Completed | InFlight | None: ...

    def close(self) -> None: ...


# --- the state machine: pure functions of (record, now) -----------------------------------------


@attrs.frozen
class _Record:
    fingerprint: str
    token: str | None  # the lease holder; None once completed
    lease_expires_at: float  # meaningful while claimed
    forget_at: float  # from this instant the record counts as absent
    result: bytes | None  # set once completed


#: What an update does to the stored record: write this one, delete it, or leave it alone.
_Change: TypeAlias = _Record | Literal["delete"] | None


def _live(record: _Record | None, now: float) -> _Record | None:
    return record if record is not None and now < record.forget_at else None


def _decide_claim(
    record: _Record | None,
    now: float,
    *,
    fingerprint: str,
    lease_seconds: float,
    retention_seconds: float,
    token: str,
) -> tuple[ClaimOutcome, _Change]:
    record = _live(record, now)
    if record is not None:
        if record.fingerprint != fingerprint:
            return Mismatch(), None
        if record.result is not None:
            return Completed(record.result), None
        if now < record.lease_expires_at:
            return InFlight(record.lease_expires_at), None
        # An expired lease: its holder crashed or stalled; take it over with a new token.
    lease_expires_at = now + lease_seconds
    claimed = _Record(
        fingerprint, token, lease_expires_at, lease_expires_at + retention_seconds, None
    )
    return Claimed(token), claimed


def _decide_complete(
    record: _Record | None, now: float, *, token: str, result: bytes, retention_seconds: float
) -> tuple[bool, _Change]:
    # A holder whose lease ran out may still complete as long as nobody took the key over.
    if record is None or record.result is not None or record.token != token:
        return False, None
    return True, _Record(record.fingerprint, None, now, now + retention_seconds, result)


def _decide_release(record: _Record | None, now: float, *, token: str) -> tuple[bool, _Change]:
    if record is None or record.result is not None or record.token != token:
        return False, None
    return True, "delete"


def _visible_state(record: _Record | None, now: float) -> Completed | InFlight | None:
    record = _live(record, now)
    if record is None:
        return None
    if record.result is not None:
        return Completed(record.result)
    if now < record.lease_expires_at:
        return InFlight(record.lease_expires_at)
    return None


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError("a lease key must be a non-empty string")


# --- the shared store front-end ---------------------------------------------------------------


class _StoreBase(abc.ABC):
    """Implements :class:`LeaseStore` over one atomic primitive supplied by each backend."""

    def __init__(self, *, clock: Callable[[], float], retention_seconds: float) -> None:
        if not retention_seconds > 0:
            raise ValueError("retention_seconds must be positive")
        self._clock = clock
        self._retention_seconds = float(retention_seconds)

    @property
    def retention_seconds(self) -> float:
        """How long a completed key is remembered."""
        return self._retention_seconds

    def claim(self, key: str, *, fingerprint: str, lease_seconds: float) -> ClaimOutcome:
        """Claim ``key`` for ``lease_seconds``, or report who has it."""
        _check_key(key)
        if not lease_seconds > 0:
            raise ValueError("lease_seconds must be positive")
        token = secrets.token_hex(16)
        return self._update(
            key,
            lambda record, now: _decide_claim(
                record,
                now,
                fingerprint=fingerprint,
                lease_seconds=float(lease_seconds),
                retention_seconds=self._retention_seconds,
                token=token,
            ),
        )

    def complete(self, key: str, *, token: str, result: bytes) -> bool:
        """Record ``result``; False if ``token`` no longer owns the key (it was taken over)."""
        _check_key(key)
        result = bytes(result)
        return self._update(
            key,
            lambda record, now: _decide_complete(
                record, now, token=token, result=result, retention_seconds=self._retention_seconds
            ),
        )

    def release(self, key: str, *, token: str) -> bool:
        """Give up the claim so another caller can claim now; False if ``token`` lost it."""
        _check_key(key)
        return self._update(key, lambda record, now: _decide_release(record, now, token=token))

    def get(self, key: str) -> Completed | InFlight | None:
        """The key's visible state: completed, held by a live lease, or claimable (None)."""
        _check_key(key)
        return _visible_state(self._read(key), self._clock())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def _read(self, key: str) -> _Record | None: ...

    @abc.abstractmethod
    def _update(
        self, key: str, decide: Callable[[_Record | None, float], tuple[_T, _Change]]
    ) -> _T:
        """Atomically read the record, call ``decide(record, now)`` and apply its change."""


# --- SQLite -------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stateset_voice_leases (
    namespace        TEXT NOT NULL,
    key              TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    token            TEXT,
    lease_expires_at REAL NOT NULL,
    forget_at        REAL NOT NULL,
    result           BLOB,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stateset_voice_leases_forget
    ON stateset_voice_leases (namespace, forget_at);
"""


class SqliteLeaseStore(_StoreBase):
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
            raise ValueError(
                "SqliteLeaseStore needs a file path: an in-memory database is invisible to other processes"
            )
        self.path = path_str
        self.namespace = namespace
        self._busy_timeout = busy_timeout_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        self._next_purge_at = -math.inf
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
                raise RuntimeError(f"{self!r} is closed")
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
        # executescript() would COMMIT on its own, so run the statements one by one.
        with self._transaction() as tx:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    tx.execute(statement)

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

    def _select(self, conn: sqlite3.Connection, key: str) -> _Record | None:
        row = conn.execute(
            "SELECT fingerprint, token, lease_expires_at, forget_at, result"
            " FROM stateset_voice_leases WHERE namespace = ? AND key = ?",
            (self.namespace, key),
        ).fetchone()
        if row is None:
            return None
        fingerprint, token, lease_expires_at, forget_at, result = row
        return _Record(
            fingerprint,
            token,
            lease_expires_at,
            forget_at,
            None if result is None else bytes(result),
        )

    def _read(self, key: str) -> _Record | None:
        return self._select(self._connection(), key)

    def _update(
        self, key: str, decide: Callable[[_Record | None, float], tuple[_T, _Change]]
    ) -> _T:
        with self._transaction() as tx:
            now = self._clock()  # read after taking the lock, so waiting does not age it
            answer, change = decide(self._select(tx, key), now)
            if isinstance(change, _Record):
                tx.execute(
                    "INSERT OR REPLACE INTO stateset_voice_leases"
                    " (namespace, key, fingerprint, token, lease_expires_at, forget_at, result)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.namespace,
                        key,
                        change.fingerprint,
                        change.token,
                        change.lease_expires_at,
                        change.forget_at,
                        change.result,
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

    def close(self) -> None:
        """Close every thread's connection. The store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()


# --- Redis --------------------------------------------------------------------------------------

_F_FINGERPRINT, _F_TOKEN, _F_LEASE, _F_FORGET, _F_RESULT = (
    b"fingerprint",
    b"token",
    b"lease_expires_at",
    b"forget_at",
    b"result",
)


class RedisLeaseStore(_StoreBase):
    """A :class:`LeaseStore` in Redis, for workers on several hosts (needs the ``[redis]`` extra).

    Each key is a hash at ``{namespace}:{key}``. Claim, complete and release are optimistic
    transactions (``WATCH``/``MULTI``) around the same state machine as SQLite; expiry is decided
    by this process's ``clock``, and a Redis TTL (the record's lifetime plus a grace period)
    garbage-collects forgotten keys. Hosts sharing a store need synchronised clocks (NTP); a
    skew shortens or lengthens leases by that much.

    ``url_or_client`` is a ``redis://`` URL (the store owns and closes the client) or an
    existing :class:`redis.Redis` created without ``decode_responses`` (the caller closes it).
    """

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        namespace: str = "stateset_voice",
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        super().__init__(clock=clock, retention_seconds=retention_seconds)
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "RedisLeaseStore needs the redis extra: pip install 'stateset-voice[redis]'"
            ) from exc
        if isinstance(url_or_client, str):
            self._client: redis.Redis = redis.Redis.from_url(url_or_client)
            self._owns_client = True
        else:
            if url_or_client.connection_pool.connection_kwargs.get("decode_responses"):
                raise ValueError(
                    "RedisLeaseStore stores raw bytes: pass a client created without decode_responses"
                )
            self._client = url_or_client
            self._owns_client = False
        self._watch_error = redis.WatchError
        self.namespace = namespace

    def __repr__(self) -> str:
        return f"RedisLeaseStore(namespace={self.namespace!r})"

    def _redis_key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    @staticmethod
    def _decode(raw: dict[bytes, bytes]) -> _Record | None:
        if not raw:
            return None
        token = raw.get(_F_TOKEN)
        return _Record(
            fingerprint=raw[_F_FINGERPRINT].decode(),
            token=None if token is None else token.decode(),
            lease_expires_at=float(raw[_F_LEASE]),
            forget_at=float(raw[_F_FORGET]),
            result=raw.get(_F_RESULT),
        )

    @staticmethod
    def _encode(record: _Record) -> dict[bytes, bytes]:
        fields = {
            _F_FINGERPRINT: record.fingerprint.encode(),
            _F_LEASE: repr(record.lease_expires_at).encode(),
            _F_FORGET: repr(record.forget_at).encode(),
        }
        if record.token is not None:
            fields[_F_TOKEN] = record.token.encode()
        if record.result is not None:
            fields[_F_RESULT] = record.result
        return fields

    def _read(self, key: str) -> _Record | None:
        return self._decode(cast("dict[bytes, bytes]", self._client.hgetall(self._redis_key(key))))

    def _update(
        self, key: str, decide: Callable[[_Record | None, float], tuple[_T, _Change]]
    ) -> _T:
        redis_key = self._redis_key(key)
        with self._client.pipeline(transaction=True) as pipe:
            for _ in range(_REDIS_MAX_WATCH_RETRIES):
                try:
                    pipe.watch(redis_key)  # type: ignore[no-untyped-call]
                    raw = cast("dict[bytes, bytes]", pipe.hgetall(redis_key))
                    now = self._clock()
                    answer, change = decide(self._decode(raw), now)
                    if change is None:
                        return answer  # nothing to write; leaving the block unwatches
                    pipe.multi()
                    pipe.delete(redis_key)
                    if isinstance(change, _Record):
                        pipe.hset(redis_key, mapping=cast("Any", self._encode(change)))
                        ttl = change.forget_at - now + _REDIS_TTL_GRACE_SECONDS
                        pipe.pexpire(redis_key, max(1, math.ceil(ttl * 1000)))
                    pipe.execute()
                    return answer
                except self._watch_error:
                    continue  # another writer changed the key first: decide again
        raise RuntimeError(
            f"gave up updating lease {key!r} after {_REDIS_MAX_WATCH_RETRIES} conflicts"
        )

    def close(self) -> None:
        """Close the client if this store created it from a URL."""
        if self._owns_client:
            self._client.close()
