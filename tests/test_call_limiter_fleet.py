"""The limits hold across a fleet: real processes against a real redis-server.

* 4 processes x 50 tasks take, hold and release permits of a limit of 5: the number of holders,
  counted by the holders themselves and sampled at every step, and the largest overlap of the
  holding intervals (one global sequence), never exceed 5, and do reach it.
* A worker holding every permit is killed with SIGKILL: its permits stay taken until their
  leases expire on the fleet's shared clock (a Redis key the test moves), and no sooner.
* 4 processes x 50 tasks draw rate tokens in lock-step rounds while the test moves the clock a
  quarter of the window per round: exactly 5 per window are admitted, and no window-long
  interval holds more than 5.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, cast

import pytest
import redis

from stateset_voice_wrapper import ConcurrencyLimitError, RedisCallLimiter

if TYPE_CHECKING:
    from tests import fleet_workers
else:  # spawned workers import it by this name (tests/ is on sys.path)
    import fleet_workers

pytestmark = pytest.mark.redis

T0 = 1_800_000_000.0
PROCESSES, TASKS = 4, 50


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def prefix(r: redis.Redis) -> Iterator[str]:
    prefix = f"test-fleet-{uuid.uuid4().hex}"
    r.set(f"{prefix}:clock", repr(T0))
    yield prefix
    for key in r.scan_iter(f"{prefix}:*"):
        r.delete(key)


def _list(r: redis.Redis, key: str) -> list[bytes]:
    return cast("list[bytes]", r.lrange(key, 0, -1))


def _run(target: Callable[..., None], *argsets: tuple[object, ...]) -> list[BaseProcess]:
    ctx = multiprocessing.get_context("spawn")
    workers: list[BaseProcess] = [ctx.Process(target=target, args=args) for args in argsets]
    for worker in workers:
        worker.start()
    return workers


def _join(workers: list[BaseProcess]) -> None:
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * len(workers)


def test_concurrency_never_exceeds_the_limit_across_processes(
    redis_url: str, r: redis.Redis, prefix: str
) -> None:
    limit, name = 5, f"tenant-{uuid.uuid4().hex[:8]}"
    workers = _run(
        fleet_workers.hold_permits, *[(redis_url, name, prefix, limit, TASKS)] * PROCESSES
    )
    _join(workers)
    samples = [int(v) for v in _list(r, f"{prefix}:samples")]
    intervals = [tuple(map(int, v.split(b":"))) for v in _list(r, f"{prefix}:intervals")]
    assert len(intervals) == PROCESSES * TASKS  # every task got a permit in the end
    assert len(samples) == 4 * PROCESSES * TASKS
    assert max(samples) <= limit
    assert max(samples) == limit  # there was contention: the limit was reached, not exceeded
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = overlap = 0
    for _, step in events:
        running += step
        overlap = max(overlap, running)
    assert overlap <= limit
    assert int(r.get(f"{prefix}:inside") or 0) == 0
    with RedisCallLimiter(redis_url, name=name, concurrency=limit) as limiter:
        assert limiter.in_use() == 0  # every permit was released
        assert limiter.attached_calls() == []


def test_a_killed_worker_holds_its_permits_only_until_their_leases_expire(
    redis_url: str, r: redis.Redis, prefix: str
) -> None:
    limit, name = 3, f"tenant-{uuid.uuid4().hex[:8]}"
    (worker,) = _run(fleet_workers.hold_and_hang, (redis_url, name, prefix, limit))
    ready = r.blpop([f"{prefix}:ready"], timeout=120)
    assert ready is not None
    os.kill(int(ready[1]), signal.SIGKILL)
    worker.join(timeout=30)
    assert worker.exitcode == -signal.SIGKILL

    clock = fleet_workers.RedisClock(redis_url, f"{prefix}:clock")
    with RedisCallLimiter(
        redis_url,
        name=name,
        concurrency=limit,
        clock=clock,
        lease_seconds=120,
        call_lease_seconds=3600,
    ) as limiter:

        def set_clock(offset: float) -> None:
            r.set(f"{prefix}:clock", repr(T0 + offset))

        def available() -> int:
            """How many permits can be taken now (given back after counting)."""
            taken = []
            while True:
                try:
                    taken.append(limiter.acquire())
                except ConcurrencyLimitError:
                    break
            assert limiter.in_use() == limit  # never more than the limit, the dead included
            for permit in taken:
                permit.release()
            return len(taken)

        set_clock(119)
        assert available() == 0  # the dead worker's leases still run
        set_clock(121)
        assert available() == 2  # its two unattached permits: their lease ran out
        set_clock(3599)
        assert available() == 2  # the one attached to a call is held for the call lease...
        set_clock(3601)
        assert available() == 3  # ...and no longer


def test_the_rate_limit_holds_within_its_window_across_processes(
    redis_url: str, r: redis.Redis, prefix: str
) -> None:
    rate, name, rounds = 5, f"tenant-{uuid.uuid4().hex[:8]}", 12
    workers = _run(
        fleet_workers.take_rate_tokens,
        *[(redis_url, name, prefix, i, TASKS, rate) for i in range(PROCESSES)],
    )
    try:
        for step in range(rounds):  # the clock moves a quarter of the window per round
            r.set(f"{prefix}:clock", repr(T0 + step * 0.25))
            for i in range(PROCESSES):
                r.rpush(f"{prefix}:go:{i}", step)
            for _ in range(PROCESSES):
                assert r.blpop([f"{prefix}:done"], timeout=120) is not None
    finally:
        for i in range(PROCESSES):
            r.rpush(f"{prefix}:go:{i}", "stop")
    _join(workers)
    admitted = sorted(float(v) for v in _list(r, f"{prefix}:admitted"))
    # 200 attempts a round; a full window at T0, T0 + 1 and T0 + 2 admits 5 each, and none else.
    assert admitted == [T0] * rate + [T0 + 1.0] * rate + [T0 + 2.0] * rate
    for i in range(len(admitted) - rate):
        assert admitted[i + rate] - admitted[i] >= 1.0
