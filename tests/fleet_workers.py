"""Worker processes for tests/test_call_limiter_fleet.py (spawned: kept free of test imports).

Every worker reads "now" from one Redis key (:class:`RedisClock`), so the test moves time for
the whole fleet at once, and records what it saw in Redis lists for the test to check.
"""

from __future__ import annotations

import asyncio
import os

import redis

from stateset_voice_wrapper import CallRateLimitError, RedisCallLimiter


class RedisClock:
    """The fleet's shared, test-controlled clock: a float at ``key``."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self._client: redis.Redis | None = None

    def __call__(self) -> float:
        if self._client is None:
            self._client = redis.Redis.from_url(self.url)
        value = self._client.get(self.key)
        assert value is not None, "the test sets the clock before starting workers"
        return float(value)


def hold_permits(url: str, name: str, prefix: str, concurrency: int, tasks: int) -> None:
    """``tasks`` concurrent tasks, each taking a permit, holding it a moment, releasing it.

    While holding, a task counts itself in ``{prefix}:inside`` (incremented after the acquire,
    decremented before the release, so the count never exceeds the true number of holders) and
    records each reading; it also records its holding interval as two numbers of one global
    sequence (``INCR``), from which the test computes the largest overlap.
    """
    asyncio.run(_hold_permits(url, name, prefix, concurrency, tasks))


async def _hold_permits(url: str, name: str, prefix: str, concurrency: int, tasks: int) -> None:
    clock = RedisClock(url, f"{prefix}:clock")
    limiter = RedisCallLimiter(url, name=name, concurrency=concurrency, clock=clock)
    r = redis.Redis.from_url(url)

    async def poll(pause: float) -> None:
        # The limiter waits for other processes to release: a real (shortened) pause lets
        # them run. Limiter time (leases) is the shared clock, which stands still here.
        await asyncio.sleep(pause / 20)

    async def one(i: int) -> None:
        permit = await limiter.aacquire(wait=1e6, sleep=poll)
        r.rpush(f"{prefix}:samples", r.incr(f"{prefix}:inside"))
        start = r.incr(f"{prefix}:seq")
        call_id = f"call-{os.getpid()}-{i}"
        if i % 2:  # half are placed calls, released as the webhook consumer would
            await permit.aattach(call_id)
        for _ in range(3):
            await asyncio.sleep(0)
            r.rpush(f"{prefix}:samples", r.get(f"{prefix}:inside") or 0)
        end = r.incr(f"{prefix}:seq")
        r.decr(f"{prefix}:inside")
        r.rpush(f"{prefix}:intervals", f"{start}:{end}")
        if i % 2:
            assert await limiter.arelease_for_call(call_id)
        else:
            await permit.arelease()

    try:
        await asyncio.gather(*(one(i) for i in range(tasks)))
    finally:
        limiter.close()
        r.close()


def hold_and_hang(url: str, name: str, prefix: str, concurrency: int) -> None:
    """Take every permit (attach one to a call), say so, then hang until killed."""
    clock = RedisClock(url, f"{prefix}:clock")
    limiter = RedisCallLimiter(url, name=name, concurrency=concurrency, clock=clock)
    permits = [limiter.acquire() for _ in range(concurrency)]
    permits[0].attach("call-of-the-crashed-worker")
    r = redis.Redis.from_url(url)
    r.rpush(f"{prefix}:ready", os.getpid())
    r.blpop([f"{prefix}:never"], timeout=0)  # kill -9 ends this


def take_rate_tokens(url: str, name: str, prefix: str, index: int, tasks: int, rate: int) -> None:
    """Each round (a message on this worker's list), ``tasks`` concurrent attempts at one rate
    token without waiting; records the limiter-clock instant of every admission."""
    asyncio.run(_take_rate_tokens(url, name, prefix, index, tasks, rate))


async def _take_rate_tokens(
    url: str, name: str, prefix: str, index: int, tasks: int, rate: int
) -> None:
    clock = RedisClock(url, f"{prefix}:clock")
    limiter = RedisCallLimiter(url, name=name, rate=rate, rate_window=1.0, clock=clock)
    r = redis.Redis.from_url(url)

    async def attempt() -> None:
        try:
            permit = await limiter.aacquire(wait=0)
        except CallRateLimitError:
            return
        r.rpush(f"{prefix}:admitted", repr(permit.taken_at))

    try:
        while True:
            popped = r.blpop([f"{prefix}:go:{index}"], timeout=60)
            if popped is None or popped[1] == b"stop":
                return
            await asyncio.gather(*(attempt() for _ in range(tasks)))
            r.rpush(f"{prefix}:done", index)
    finally:
        limiter.close()
        r.close()
