"""Request-rate windows: at most ``limit`` admissions in any ``window`` seconds (a sliding log).

One rule, two backends: a sorted list in this process's memory, and a Redis sorted set updated
by one Lua script (one round trip per attempt), for a fleet. Both decide with the caller's clock
(``now``), like the lease stores: injected in tests, and across hosts the same NTP-synchronised
wall clock the leases already need. An admission at ``t`` leaves the window at ``t + window``
exactly, so any ``window``-long interval holds at most ``limit`` admissions.
"""

from __future__ import annotations

import bisect
import math
import secrets
import threading
from typing import TYPE_CHECKING, Protocol

from .._shared.errors import StoreError
from .._shared.redact import mask_phone_numbers

if TYPE_CHECKING:
    import redis

__all__ = ["MemoryRateWindow", "RateWindow", "RedisRateWindow", "decide_admission"]

#: Redis keeps a window's set this much longer than the window, so a worker whose clock runs a
#: little behind still finds the admissions it must count.
_TTL_GRACE_MS = 60_000


class RateWindow(Protocol):
    def try_admit(self, key: str, *, now: float, limit: int, window: float) -> float | None:
        """Admit one request at ``now`` (None), or the seconds until one may be admitted."""
        ...

    def close(self) -> None: ...


def decide_admission(
    times: list[float], now: float, *, limit: int, window: float
) -> tuple[float | None, list[float]]:
    """(None, the new log) if one more request fits at ``now``, else (seconds to wait, the log
    without its expired entries). ``times`` is sorted; so is the result."""
    kept = times[bisect.bisect_right(times, now - window) :]
    if len(kept) < limit:
        bisect.insort(kept, now)
        return None, kept
    # The (len - limit)-th oldest must leave before the count drops below the limit (more than
    # `limit` are kept only after the limit was lowered).
    return kept[len(kept) - limit] + window - now, kept


class MemoryRateWindow:
    """A :class:`RateWindow` in this process's memory."""

    def __init__(self) -> None:
        self._logs: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def try_admit(self, key: str, *, now: float, limit: int, window: float) -> float | None:
        with self._lock:
            wait, self._logs[key] = decide_admission(
                self._logs.get(key, []), now, limit=limit, window=window
            )
            return wait

    def close(self) -> None:
        with self._lock:
            self._logs.clear()


# The same rule as decide_admission. Lua numbers are doubles and ARGV carries Python's repr of
# each float, so both compute `now - window` identically. KEYS[1]: the window's sorted set
# (member: a random id, score: the admission instant). ARGV: now, window (s), limit, member, TTL
# in ms. A refusal answers the wait as a string (Redis would truncate a Lua number to an integer).
# A member already in the set is this admission, re-sent after its reply was lost: admitted.
_ADMIT_SCRIPT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  return false
end
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return false
end
local nth = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return string.format('%.17g', tonumber(nth[2]) + window - now)
"""


class RedisRateWindow:
    """A :class:`RateWindow` in Redis: a sorted set at ``{namespace}:{key}``, one script call
    per attempt. The client is the caller's (the limiter's store shares it)."""

    def __init__(self, client: redis.Redis, *, namespace: str) -> None:
        import redis

        self._client = client
        self._namespace = namespace
        self._admit = client.register_script(_ADMIT_SCRIPT)
        self._backend_errors = (redis.RedisError, OSError)

    def try_admit(self, key: str, *, now: float, limit: int, window: float) -> float | None:
        ttl_ms = math.ceil(window * 1000) + _TTL_GRACE_MS
        member = secrets.token_hex(8)
        try:
            answer = self._admit(
                keys=[f"{self._namespace}:{key}"],
                args=[repr(float(now)), repr(float(window)), limit, member, ttl_ms],
            )
        except self._backend_errors as exc:  # the text could quote stored values: class only
            shown = mask_phone_numbers(key)  # a limit may be named after a caller ID
            raise StoreError(f"rate admission of {shown!r} failed ({type(exc).__name__})") from exc
        return None if answer is None else float(answer)

    def close(self) -> None:
        pass  # the client belongs to the limiter's store
