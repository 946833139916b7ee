"""Per-credential token buckets: pure bookkeeping over an injected clock."""

from __future__ import annotations

import math
import time
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


class TokenBucketLimiter:
    """A bucket of ``capacity`` tokens per credential, refilled at ``refill_per_second``.

    >>> now = [0.0]
    >>> limiter = TokenBucketLimiter(capacity=1, refill_per_second=0.5, clock=lambda: now[0])
    >>> limiter.take("k").allowed, limiter.take("k").retry_after
    (True, 2)
    """

    def __init__(
        self,
        *,
        capacity: int,
        refill_per_second: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self.configure(capacity=capacity, refill_per_second=refill_per_second)

    def configure(self, *, capacity: int, refill_per_second: float) -> None:
        """Change the limits; every bucket starts full again."""
        if capacity < 1:
            raise ValueError("rate limit capacity must be at least 1")
        if refill_per_second <= 0:
            raise ValueError("rate limit refill must be positive")
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self._buckets.clear()

    def take(self, credential: str) -> RateDecision:
        now = self._clock()
        tokens, last = self._buckets.get(credential, (float(self.capacity), now))
        tokens = min(float(self.capacity), tokens + (now - last) * self.refill_per_second)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[credential] = (tokens, now)
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
