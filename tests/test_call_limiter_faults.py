"""Call limiters on a Redis that fails: every store command of a step can be lost, before it
is sent or after the server ran it (its reply dropped), and the limiter still keeps its promises.

* a failure is a typed :class:`StoreError`, never a raw redis exception;
* ``release_for_call`` that failed is completed by its redelivery (the documented contract for
  the webhook handler: answer non-2xx, the redelivery tries again), so no slot is held past
  the end of its call.

Failures are injected into a real client talking to a real redis-server (the helpers of
``test_storage_failures.py``); time is an injected clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs
import pytest

from stateset_voice_wrapper import CallRateLimitError, RedisCallLimiter
from stateset_voice_wrapper.stores import StoreError

if TYPE_CHECKING:
    from tests.test_storage_failures import Faults, FaultyRedis, faulty_redis
else:
    from test_storage_failures import Faults, FaultyRedis, faulty_redis

pytestmark = pytest.mark.redis

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@attrs.define
class NthFaults(Faults):
    """:class:`Faults` that let the first ``skip`` matching commands through."""

    skip: int = 0

    def hit(self, command: str, when: str) -> bool:
        matches = not self.commands or command.upper() in self.commands
        if self.remaining > 0 and when == self.when and self.skip > 0 and matches:
            self.skip -= 1
            return False
        return super().hit(command, when)


@attrs.frozen
class Faulty:
    limiter: RedisCallLimiter
    faults: NthFaults
    clock: Clock


@pytest.fixture
def faulty(redis_url: str) -> Iterator[Faulty]:
    faults, clock = NthFaults(), Clock()
    client: FaultyRedis = faulty_redis(redis_url, faults)
    limiter = RedisCallLimiter(
        client,
        name=f"t-{uuid.uuid4().hex[:8]}",
        namespace=f"test-limit-faults-{uuid.uuid4().hex}",
        concurrency=1,
        clock=clock,
    )
    yield Faulty(limiter, faults, clock)
    limiter.close()
    client.close()


# release_for_call is four commands: HGETALL + EVALSHA on the call's key (mark it ended, learn
# its slot), then HGETALL + EVALSHA on the slot (free it).
RELEASE_STEPS = [(n, when) for n in range(4) for when in ("before", "after")]


@pytest.mark.parametrize(("nth", "when"), RELEASE_STEPS, ids=[f"{n}-{w}" for n, w in RELEASE_STEPS])
def test_a_release_for_call_that_failed_is_completed_by_its_redelivery(
    faulty: Faulty, nth: int, when: str
) -> None:
    limiter, faults = faulty.limiter, faulty.faults
    limiter.acquire().attach("call_1")
    faults.fail(1, when=when)
    faults.skip = nth
    with pytest.raises(StoreError) as caught:
        limiter.release_for_call("call_1")
    assert "redis" not in type(caught.value).__module__
    assert faults.failed == 1
    # The webhook answered non-2xx; its redelivery frees the slot (whatever the first got to).
    released = limiter.release_for_call("call_1")
    assert limiter.in_use() == 0
    assert released is (nth < 3 or when == "before")  # a lost reply of the free itself: done
    assert limiter.release_for_call("call_1") is False  # and a third delivery frees nothing
    limiter.acquire().attach("call_2")  # the slot is free for the next call
    assert limiter.attached_calls() == ["call_2"]


def test_a_redelivery_long_after_the_end_still_frees_a_slot_the_failure_left_held(
    faulty: Faulty,
) -> None:
    """The end's mark lives as long as the slot it names may be held: the call lease."""
    limiter, faults, clock = faulty.limiter, faulty.faults, faulty.clock
    limiter.acquire().attach("call_1")
    faults.fail(1, when="before", commands="HGETALL")
    faults.skip = 1  # the mark is written; reading the slot to free it fails
    with pytest.raises(StoreError):
        limiter.release_for_call("call_1")
    clock.now += limiter.lease_seconds + 1  # a redelivery backs off for minutes
    assert limiter.in_use() == 1
    assert limiter.release_for_call("call_1") is True
    assert limiter.in_use() == 0


# --- the rate window ------------------------------------------------------------------------------


def test_a_rate_admission_resent_after_its_reply_was_lost_is_not_counted_twice(
    redis_url: str,
) -> None:
    """A client with retries re-sends a script whose reply was lost (after Redis ran it): the
    re-sent admission is the same admission, not a second one that finds the window full."""
    faults, clock = NthFaults(), Clock()
    client = faulty_redis(redis_url, faults, retries=1)
    limiter = RedisCallLimiter(
        client,
        name=f"t-{uuid.uuid4().hex[:8]}",
        namespace=f"test-limit-faults-{uuid.uuid4().hex}",
        rate=1,
        rate_window=10.0,
        clock=clock,
    )
    try:
        faults.fail(1, when="after", commands="EVALSHA")
        limiter.acquire()  # admitted, though its first reply was lost and the script re-sent
        assert faults.failed == 1
        with pytest.raises(CallRateLimitError):  # the window holds one admission, not two
            limiter.acquire()
    finally:
        limiter.close()
        client.close()


def test_a_rate_admission_that_failed_raises_a_store_error(redis_url: str) -> None:
    faults, clock = NthFaults(), Clock()
    client = faulty_redis(redis_url, faults)
    limiter = RedisCallLimiter(
        client,
        name=f"t-{uuid.uuid4().hex[:8]}",
        namespace=f"test-limit-faults-{uuid.uuid4().hex}",
        concurrency=1,
        rate=1,
        clock=clock,
    )
    try:
        faults.fail(1, when="before", commands="EVALSHA")
        faults.skip = 1  # the slot's claim goes through; the rate script fails
        with pytest.raises(StoreError, match="rate admission"):
            limiter.acquire()
        assert limiter.in_use() == 0  # the slot taken first was given back
    finally:
        limiter.close()
        client.close()


def test_store_errors_of_a_limit_named_after_a_phone_number_never_show_the_number(
    redis_url: str,
) -> None:
    number = "+15555551234"
    faults, clock = NthFaults(), Clock()
    client = faulty_redis(redis_url, faults)
    namespace = f"test-limit-faults-{uuid.uuid4().hex}"
    limiter = RedisCallLimiter(
        client,
        name=f"caller-id-{number}",
        namespace=namespace,
        concurrency=1,
        rate=1,
        clock=clock,
    )
    try:
        faults.fail(1, when="before", commands="EVALSHA")
        faults.skip = 1  # the rate script, after the slot's claim
        with pytest.raises(StoreError) as rate:
            limiter.acquire()
        # Something that is not a permit where a slot should be (a namespace shared by mistake).
        client.hset(f"{namespace}:{len(limiter.name)}:{limiter.name}:slot:0", "x", "y")
        with pytest.raises(StoreError) as garbled:
            limiter.acquire()
        for error in (rate.value, garbled.value):
            assert number not in str(error)
            assert "+***34" in str(error)
    finally:
        limiter.close()
        client.close()
