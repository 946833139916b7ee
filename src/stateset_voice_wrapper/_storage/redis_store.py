"""The Redis lease store: for workers on several hosts (needs the ``[redis]`` extra)."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .._shared.errors import InvalidParameterError, StoreError
from .._shared.redact import mask_phone_numbers
from .leases import (
    DEFAULT_RETENTION_SECONDS,
    LeaseChange,
    LeaseRecord,
    LeaseStoreBase,
)
from .redis_policy import EvictionPolicyCheck, check_eviction_policy, check_mode

if TYPE_CHECKING:
    import redis

_T = TypeVar("_T")

__all__ = ["RedisLeaseStore"]

#: Redis keeps a record this much longer than its logical lifetime, so that a worker whose clock
#: runs slightly ahead of Redis's never sees a record vanish before it is logically forgotten.
_REDIS_TTL_GRACE_SECONDS = 60.0
#: A write whose compare-and-set loses is decided again on a fresh read, this often at most
#: (each loss means another writer made progress on the same key, so this is only reached under
#: pathological contention).
_REDIS_MAX_CAS_RETRIES = 1000


_F_FINGERPRINT, _F_TOKEN, _F_LEASE, _F_FORGET, _F_RESULT, _F_EARLIER, _F_VERSION = (
    b"fingerprint",
    b"token",
    b"lease_expires_at",
    b"forget_at",
    b"result",
    b"earlier_forget_at",
    b"version",
)

# Compare-and-set of one record. The state machine (leases.py) decided on the record as read;
# the script applies that decision only if nobody has written the key since, as told by its
# version field, which every write replaces. ARGV: expected version ('' for an absent key), TTL
# in ms, then the new record's field/value pairs (none: delete the key).
_CAS_SCRIPT = """
local current = redis.call('HGET', KEYS[1], 'version')
if (current or '') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
if #ARGV > 2 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


def _from_url(module: Any, url: str) -> redis.Redis:
    """A client for ``url``; a URL redis-py cannot read is an argument error. redis-py's own
    message is left out (and its exception unchained): for ``redis://:secret`` it quotes the
    password as the port that could not be read."""
    try:
        client: redis.Redis = module.Redis.from_url(url)
    except ValueError:
        raise InvalidParameterError(
            "url_or_client is not a Redis URL redis-py can read: it needs the scheme redis://, "
            "rediss:// or unix://, and a numeric port if it names one",
            parameter="url_or_client",
        ) from None
    return client


def _check_client(module: Any, client: object) -> None:
    """A client of redis-py's sync API: the async clients of this package run store calls in
    worker threads, so an asyncio client (whose commands are coroutines) is refused here, not
    at the first command."""
    if isinstance(client, module.Redis):
        return
    from redis.asyncio import Redis as AsyncRedis

    if isinstance(client, AsyncRedis):
        raise InvalidParameterError(
            "url_or_client is a redis.asyncio client: pass a redis.Redis client (or a URL); the"
            " async clients of this package run store calls in worker threads",
            parameter="url_or_client",
        )
    raise InvalidParameterError(
        f"url_or_client must be a Redis URL or a redis.Redis client; got {type(client).__name__}",
        parameter="url_or_client",
    )


class RedisLeaseStore(LeaseStoreBase):
    """A :class:`LeaseStore` in Redis, for workers on several hosts (needs the ``[redis]`` extra).

    Each key is a hash at ``{namespace}:{key}``. Every operation reads the hash, decides with the
    same state machine as SQLite, and writes with a compare-and-set script on the hash's
    version (a claim or complete is two round trips; a replay of a completed key is one).
    Expiry is decided by this process's ``clock``, and a Redis TTL (the record's lifetime plus a
    grace period) garbage-collects forgotten keys. Hosts sharing a store need synchronised
    clocks (NTP); a skew shortens or lengthens leases by that much. Redis must not evict these
    keys: use ``maxmemory-policy noeviction`` (every key here has a TTL, so ``volatile-*``
    policies evict them too) and persistence that survives a restart. The store checks the
    policy when it opens (``CONFIG GET``, one round trip): ``eviction_policy="refuse"`` (the
    default) raises :class:`ConfigurationError` for a server that may evict, ``"warn"`` logs a
    warning once and opens, ``"ignore"`` does not check. Where ``CONFIG`` is disabled (managed
    Redis), a warning says so once and the store opens.

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
        eviction_policy: EvictionPolicyCheck = "refuse",
    ) -> None:
        super().__init__(clock=clock, retention_seconds=retention_seconds)
        self._eviction_policy = check_mode(eviction_policy)
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "RedisLeaseStore needs the redis extra: pip install 'stateset-voice[redis]'"
            ) from exc
        if not isinstance(namespace, str) or not namespace:
            raise InvalidParameterError("namespace must be a non-empty string")
        if isinstance(url_or_client, str):
            self._client: redis.Redis = _from_url(redis, url_or_client)
            self._owns_client = True
        else:
            _check_client(redis, url_or_client)
            if url_or_client.connection_pool.connection_kwargs.get("decode_responses"):
                raise InvalidParameterError(
                    "RedisLeaseStore stores raw bytes: pass a client created without decode_responses"
                )
            self._client = url_or_client
            self._owns_client = False
        self._backend_errors = (redis.RedisError, OSError)
        self._cas = self._client.register_script(_CAS_SCRIPT)
        self.namespace = namespace
        try:
            self._policy_checked = check_eviction_policy(self._client, self._eviction_policy)
        except BaseException:
            self._close()
            raise

    def _check_policy(self) -> None:
        """The eviction check, if the server could not be reached when the store opened."""
        if not self._policy_checked:
            self._policy_checked = check_eviction_policy(self._client, self._eviction_policy)

    def __repr__(self) -> str:
        return f"RedisLeaseStore(namespace={self.namespace!r})"

    @property
    def client(self) -> redis.Redis:
        """The redis-py client (the store's own when it was given a URL)."""
        return self._client

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
                f"{self!r}: key {mask_phone_numbers(key)!r} holds something that is not a lease record "
                "(give each store its own namespace)"
            ) from exc

    @staticmethod
    def _encode(record: LeaseRecord, version: bytes) -> list[bytes]:
        fields = [
            _F_VERSION,
            version,
            _F_FINGERPRINT,
            record.fingerprint.encode(),
            _F_LEASE,
            repr(record.lease_expires_at).encode(),
            _F_FORGET,
            repr(record.forget_at).encode(),
        ]
        if record.token is not None:
            fields += [_F_TOKEN, record.token.encode()]
        if record.result is not None:
            fields += [_F_RESULT, record.result]
        if record.earlier_forget_at is not None:
            fields += [_F_EARLIER, repr(record.earlier_forget_at).encode()]
        return fields

    def _read_raw(self, redis_key: str) -> dict[bytes, bytes]:
        return cast("dict[bytes, bytes]", self._client.hgetall(redis_key))

    def _read(self, key: str) -> LeaseRecord | None:
        self._check_policy()
        return self._decode(key, self._read_raw(self._redis_key(key)))

    def _read_many(self, keys: list[str]) -> list[LeaseRecord | None]:
        self._check_policy()
        pipe = self._client.pipeline(transaction=False)  # one round trip, no MULTI
        for key in keys:
            pipe.hgetall(self._redis_key(key))
        raws = cast("list[dict[bytes, bytes]]", pipe.execute())
        return [self._decode(key, raw) for key, raw in zip(keys, raws, strict=True)]

    def _update(
        self, key: str, decide: Callable[[LeaseRecord | None, float], tuple[_T, LeaseChange]]
    ) -> _T:
        self._check_policy()
        redis_key = self._redis_key(key)
        for _ in range(_REDIS_MAX_CAS_RETRIES):
            raw = self._read_raw(redis_key)
            now = self._clock()
            answer, change = decide(self._decode(key, raw), now)
            if change is None:
                return answer  # nothing to write: one round trip
            args: list[Any] = [raw.get(_F_VERSION, b"")]
            if isinstance(change, LeaseRecord):
                ttl = change.forget_at - now + _REDIS_TTL_GRACE_SECONDS
                args.append(max(1, math.ceil(ttl * 1000)))
                args += self._encode(change, secrets.token_hex(8).encode())
            else:
                args.append(0)
            if self._cas(keys=[redis_key], args=args):
                return answer
            # Another writer changed the key after our read: decide again on what it wrote.
            # (A script that ran but lost its reply and was re-sent by redis-py lands here too;
            # the decision then sees its own token and answers as the first run did.)
        raise StoreError(
            f"{self!r}: gave up updating key {mask_phone_numbers(key)!r} after "
            f"{_REDIS_MAX_CAS_RETRIES} conflicts"
        )

    def _close(self) -> None:
        if self._owns_client:
            self._client.close()
