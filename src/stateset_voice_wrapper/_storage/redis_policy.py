"""Whether a Redis server may evict the stores' keys, checked once when a Redis store opens.

Every key the stores write has a TTL (for garbage collection), so ``volatile-*`` policies evict
them first, and ``allkeys-*`` policies evict them like any other key. An evicted ledger key is a
completed call that will be sent again; an evicted permit is a call the concurrency limit no
longer counts. Only ``noeviction`` (or no ``maxmemory`` at all) keeps them.

``CONFIG GET`` is often disabled on managed Redis (renamed, or denied by an ACL): then the check
says so once per server, at WARNING, and lets the store open.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Literal, TypeAlias

from .._shared.errors import ConfigurationError, InvalidParameterError

if TYPE_CHECKING:
    import redis

__all__ = ["EvictionPolicyCheck", "check_eviction_policy", "check_mode"]

_log = logging.getLogger("stateset_voice.stores")

#: What a Redis store does about a server that may evict its keys.
EvictionPolicyCheck: TypeAlias = Literal["refuse", "warn", "ignore"]
_MODES = ("refuse", "warn", "ignore")

#: (server, finding) pairs already logged by this process: each is said once, not per store.
_said: set[tuple[str, str]] = set()
_said_lock = threading.Lock()


def check_mode(mode: str) -> EvictionPolicyCheck:
    if mode not in _MODES:
        raise InvalidParameterError(
            f"eviction_policy must be one of {', '.join(map(repr, _MODES))}",
            parameter="eviction_policy",
        )
    return mode  # type: ignore[return-value]


def _location(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
    return f"{where}/{kwargs.get('db', 0)}"


def _once(location: str, finding: str, message: str, *args: object) -> None:
    with _said_lock:
        if (location, finding) in _said:
            return
        _said.add((location, finding))
    _log.warning(message, *args)


def check_eviction_policy(client: redis.Redis, mode: EvictionPolicyCheck) -> bool:
    """Check the server's ``maxmemory-policy`` (one round trip); False if it could not be reached
    (the check is then due again on the store's first operation).

    Raises :class:`ConfigurationError` when ``mode`` is ``"refuse"`` and the server may evict.
    """
    if mode == "ignore":
        return True
    import redis

    location = _location(client)
    try:
        raw = client.config_get("maxmemory*")
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False  # the store's first operation reports the outage, and checks again
    except redis.ResponseError as exc:  # CONFIG renamed or denied: managed Redis
        _once(
            location,
            "unreadable",
            "Redis at %s does not allow CONFIG GET (%s): cannot check that maxmemory-policy is "
            "noeviction; make sure it is, or the stores' keys may be evicted (see "
            "docs/idempotency-ledger.md, 'Sizing and operations')",
            location,
            type(exc).__name__,
        )
        return True
    values = {_text(k): _text(v) for k, v in dict(raw).items()}
    policy = values.get("maxmemory-policy", "")
    maxmemory = values.get("maxmemory", "0")
    if policy == "noeviction" or maxmemory == "0":
        return True
    message = (
        f"Redis at {location} has maxmemory-policy {policy!r} with maxmemory {maxmemory}: it may "
        "evict the stores' keys (each has a TTL), and an evicted ledger key lets a completed "
        "call be sent again. Set maxmemory-policy noeviction"
    )
    if mode == "refuse":
        raise ConfigurationError(
            f"{message}, or pass eviction_policy='warn' to open the store anyway"
        )
    _once(location, f"policy {policy}", "%s", message)
    return True


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
