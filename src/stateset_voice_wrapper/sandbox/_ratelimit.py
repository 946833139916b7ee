"""Token buckets per caller: pure bookkeeping over an injected clock, in bounded memory.

The caller is whoever the request proved to be: the tenant of a valid runtime key, the admin
key, Twilio (a valid signature), or else the peer address. A bucket is never keyed by what a
request merely claims (a junk ``Authorization`` value), so a client cannot mint a fresh bucket
per request.

Memory stays bounded without changing what any caller sees: a bucket that has refilled to
capacity is the same as no bucket, so full buckets are dropped; and when ``max_buckets`` are
still in use, callers without a bucket share one overflow bucket until room frees up.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Outcome of taking one token, and the values of the ``X-RateLimit-*`` headers."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    """Seconds until the bucket is full again."""
    retry_after: int
    """Seconds until one token is available (0 when allowed)."""

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


def check_rate(capacity: object, refill_per_second: object) -> tuple[int, float]:
    """Validate a bucket size and refill rate; return them as ``(int, float)``.

    Raises:
        ValueError: for a size below 1, a rate that is not positive, or NaN / infinity.
        TypeError: for anything but numbers (booleans included).
    """
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise TypeError("rate limit capacity must be an integer")
    if isinstance(refill_per_second, bool) or not isinstance(refill_per_second, int | float):
        raise TypeError("rate limit refill must be a number")
    if capacity < 1:
        raise ValueError("rate limit capacity must be at least 1")
    if not math.isfinite(refill_per_second) or refill_per_second <= 0:
        raise ValueError("rate limit refill must be a positive finite number")
    return capacity, float(refill_per_second)


class TokenBucketLimiter:
    """A bucket of ``capacity`` tokens per caller, refilled at ``refill_per_second``.

    >>> now = [0.0]
    >>> limiter = TokenBucketLimiter(capacity=1, refill_per_second=0.5, clock=lambda: now[0])
    >>> limiter.take("k").allowed, limiter.take("k").retry_after
    (True, 2)
    >>> now[0] = 2.0; limiter.take("other").allowed, limiter.size
    (True, 1)
    """

    def __init__(
        self,
        *,
        capacity: int,
        refill_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 10_000,
    ) -> None:
        if max_buckets < 1:
            raise ValueError("max_buckets must be at least 1")
        self._clock = clock
        self.max_buckets = max_buckets
        # Least recently used first: (tokens, time of the last take).
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._overflow: tuple[float, float] | None = None
        self.overflowed = 0
        """Takes charged to the shared overflow bucket because the table was full."""
        self.configure(capacity=capacity, refill_per_second=refill_per_second)

    @property
    def size(self) -> int:
        """Buckets currently held (the overflow bucket not counted)."""
        return len(self._buckets)

    def configure(self, *, capacity: int, refill_per_second: float) -> None:
        """Change the limits; every bucket starts full again."""
        self.capacity, self.refill_per_second = check_rate(capacity, refill_per_second)
        self._buckets.clear()
        self._overflow = None

    def _refilled(self, bucket: tuple[float, float] | None, now: float) -> float:
        if bucket is None:
            return float(self.capacity)
        tokens, last = bucket
        return min(float(self.capacity), tokens + max(0.0, now - last) * self.refill_per_second)

    def _drop_full(self, now: float, *, everywhere: bool) -> None:
        """Forget buckets that are full again: from the least recently used end, or all."""
        if everywhere:
            full = [k for k, b in self._buckets.items() if self._refilled(b, now) >= self.capacity]
            for key in full:
                del self._buckets[key]
            return
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if self._refilled(bucket, now) < self.capacity:
                return
            del self._buckets[key]

    def take(self, caller: str) -> RateDecision:
        """Take one token from ``caller``'s bucket (or the overflow bucket when full)."""
        now = self._clock()
        self._drop_full(now, everywhere=False)
        overflow = False
        if caller not in self._buckets and len(self._buckets) >= self.max_buckets:
            self._drop_full(now, everywhere=True)
            overflow = len(self._buckets) >= self.max_buckets
        if overflow:
            self.overflowed += 1
            tokens = self._refilled(self._overflow, now)
        else:
            tokens = self._refilled(self._buckets.pop(caller, None), now)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if overflow:
            self._overflow = (tokens, now)
        else:
            self._buckets[caller] = (tokens, now)  # re-inserted: now the most recently used
        missing = self.capacity - tokens
        return RateDecision(
            allowed=allowed,
            limit=self.capacity,
            remaining=max(0, math.floor(tokens)),
            reset_seconds=max(0, math.ceil(missing / self.refill_per_second)),
            retry_after=0
            if allowed
            else max(1, math.ceil((1.0 - tokens) / self.refill_per_second)),
        )
