"""The Redis lease store: for workers on several hosts (needs the ``[redis]`` extra)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .._shared.errors import InvalidParameterError, StoreError
from .leases import (
    DEFAULT_RETENTION_SECONDS,
    LeaseChange,
    LeaseRecord,
    LeaseStoreBase,
)

if TYPE_CHECKING:
    import redis

_T = TypeVar("_T")

__all__ = ["RedisLeaseStore"]

#: Redis keeps a record this much longer than its logical lifetime, so that a worker whose clock
#: runs slightly ahead of Redis's never sees a record vanish before it is logically forgotten.
_REDIS_TTL_GRACE_SECONDS = 60.0
#: Optimistic Redis transactions retry this often before giving up (each retry means another
#: writer made progress on the same key, so this is only reached under pathological contention).
_REDIS_MAX_WATCH_RETRIES = 1000


_F_FINGERPRINT, _F_TOKEN, _F_LEASE, _F_FORGET, _F_RESULT, _F_EARLIER = (
    b"fingerprint",
    b"token",
    b"lease_expires_at",
    b"forget_at",
    b"result",
    b"earlier_forget_at",
)


class RedisLeaseStore(LeaseStoreBase):
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
        if not isinstance(namespace, str) or not namespace:
            raise InvalidParameterError("namespace must be a non-empty string")
        if isinstance(url_or_client, str):
            self._client: redis.Redis = redis.Redis.from_url(url_or_client)
            self._owns_client = True
        else:
            if url_or_client.connection_pool.connection_kwargs.get("decode_responses"):
                raise InvalidParameterError(
                    "RedisLeaseStore stores raw bytes: pass a client created without decode_responses"
                )
            self._client = url_or_client
            self._owns_client = False
        self._watch_error = redis.WatchError
        self._backend_errors = (redis.RedisError, OSError)
        self.namespace = namespace

    def __repr__(self) -> str:
        return f"RedisLeaseStore(namespace={self.namespace!r})"

    def _redis_key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def _decode(self, key: str, raw: dict[bytes, bytes]) -> LeaseRecord | None:
        if not raw:
            return None
        try:
            token, earlier = raw.get(_F_TOKEN), raw.get(_F_EARLIER)
            return LeaseRecord(
                fingerprint=raw[_F_FINGERPRINT].decode(),
                token=None if token is None else token.decode(),
                lease_expires_at=float(raw[_F_LEASE]),
                forget_at=float(raw[_F_FORGET]),
                result=raw.get(_F_RESULT),
                earlier_forget_at=None if earlier is None else float(earlier),
            )
        except (KeyError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            raise StoreError(
                f"{self!r}: key {key!r} holds something that is not a lease record "
                "(give each store its own namespace)"
            ) from exc

    @staticmethod
    def _encode(record: LeaseRecord) -> dict[bytes, bytes]:
        fields = {
            _F_FINGERPRINT: record.fingerprint.encode(),
            _F_LEASE: repr(record.lease_expires_at).encode(),
            _F_FORGET: repr(record.forget_at).encode(),
        }
        if record.token is not None:
            fields[_F_TOKEN] = record.token.encode()
        if record.result is not None:
            fields[_F_RESULT] = record.result
        if record.earlier_forget_at is not None:
            fields[_F_EARLIER] = repr(record.earlier_forget_at).encode()
        return fields

    def _read(self, key: str) -> LeaseRecord | None:
        raw = cast("dict[bytes, bytes]", self._client.hgetall(self._redis_key(key)))
        return self._decode(key, raw)

    def _update(
        self, key: str, decide: Callable[[LeaseRecord | None, float], tuple[_T, LeaseChange]]
    ) -> _T:
        redis_key = self._redis_key(key)
        with self._client.pipeline(transaction=True) as pipe:
            for _ in range(_REDIS_MAX_WATCH_RETRIES):
                try:
                    pipe.watch(redis_key)  # type: ignore[no-untyped-call]
                    raw = cast("dict[bytes, bytes]", pipe.hgetall(redis_key))
                    now = self._clock()
                    answer, change = decide(self._decode(key, raw), now)
                    if change is None:
                        return answer  # nothing to write; leaving the block unwatches
                    pipe.multi()
                    pipe.delete(redis_key)
                    if isinstance(change, LeaseRecord):
                        pipe.hset(redis_key, mapping=cast("Any", self._encode(change)))
                        ttl = change.forget_at - now + _REDIS_TTL_GRACE_SECONDS
                        pipe.pexpire(redis_key, max(1, math.ceil(ttl * 1000)))
                    pipe.execute()
                    return answer
                except self._watch_error:
                    continue  # another writer changed the key first: decide again
        raise StoreError(
            f"{self!r}: gave up updating key {key!r} after {_REDIS_MAX_WATCH_RETRIES} conflicts"
        )

    def _close(self) -> None:
        if self._owns_client:
            self._client.close()
