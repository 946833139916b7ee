"""Call limiters on a Redis that fails: every store command of a step can be lost, before it
is sent or after the server ran it (its reply dropped), and the limiter still keeps its promises.

* a failure is a typed :class:`StoreError`, never a raw redis exception;
* ``release_for_call`` that failed is completed by its redelivery (the documented contract for
  the webhook handler: answer non-2xx, the redelivery tries again), so no slot is held past
  the end of its call;
* an async create cancelled at any of its awaits leaves its permit attached to the placed call
  or released, and its ledger key free or answered, once the threads it started finish.

Failures are injected into a real client talking to a real redis-server (the helpers of
``test_storage_failures.py``); time is an injected clock.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pytest

from stateset_voice_wrapper import (
    AsyncVoiceClient,
    CallRateLimitError,
    DuplicateCallInFlightError,
    InternalServerError,
    RedisCallLimiter,
    ReliabilityConfig,
    RetryBudget,
    SqliteLedger,
)
from stateset_voice_wrapper.stores import LedgerEntry, StoreError

if TYPE_CHECKING:
    from tests.flavours import Flavour
    from tests.test_storage_failures import Faults, FaultyRedis, faulty_redis
else:
    from flavours import Flavour
    from test_storage_failures import Faults, FaultyRedis, faulty_redis

if TYPE_CHECKING:
    from tests.clocks import FakeClock
else:
    from clocks import FakeClock

pytestmark = pytest.mark.redis

TO, FROM = "+15555555678", "+15555551234"
CALL: dict[str, Any] = {
    "status": "queued",
    "from": FROM,
    "agent_key": "a",
    "session_id": None,
    "created_at": "2026-11-20T15:04:05Z",
    "metadata": {},
}


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
    clock: FakeClock


@pytest.fixture
def faulty(redis_url: str) -> Iterator[Faulty]:
    faults, clock = NthFaults(), FakeClock()
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
    """The end's mark is forgotten after ``lease_seconds``; the release then finds the slot by
    its call."""
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


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_permit_whose_call_was_never_linked_is_freed_by_the_calls_end(
    faulty: Faulty, when: str
) -> None:
    """An attach completes the slot with the call's ID, then links the call to the slot: if the
    link is lost (the store failed, or the worker died between the two), the call's end and the
    call-log poll still find the slot by its call, instead of leaving it held for the call
    lease."""
    limiter, faults = faulty.limiter, faulty.faults
    permit = limiter.acquire()
    faults.fail(1, when=when, commands="HGETALL")
    faults.skip = 1  # the slot's complete goes through; reading the call's key fails
    permit.attach("call_1")  # logged, never raised
    assert faults.failed == 1
    assert limiter.attached_calls() == ["call_1"]
    assert limiter.release_for_call("call_1") is True
    assert limiter.in_use() == 0
    assert limiter.release_for_call("call_1") is False


# attach is four commands too: HGETALL + EVALSHA on the slot (complete it with the call's ID),
# then HGETALL + EVALSHA on the call's key (link it to the slot).
ATTACH_STEPS = RELEASE_STEPS


@pytest.mark.parametrize(("nth", "when"), ATTACH_STEPS, ids=[f"{n}-{w}" for n, w in ATTACH_STEPS])
def test_an_attach_that_failed_at_any_step_holds_its_slot_no_longer_than_its_lease(
    faulty: Faulty, nth: int, when: str
) -> None:
    """Whatever step of the attach was lost, once the call's end is reported the slot is free,
    or free when the permit's lease runs out: never held for the call lease."""
    limiter, faults, clock = faulty.limiter, faulty.faults, faulty.clock
    permit = limiter.acquire()
    faults.fail(1, when=when)
    faults.skip = nth
    permit.attach("call_1")  # a store failure is logged, never raised
    assert faults.failed == 1
    limiter.release_for_call("call_1")
    clock.now += limiter.lease_seconds
    assert limiter.in_use() == 0
    limiter.acquire().attach("call_2")
    assert limiter.attached_calls() == ["call_2"]


# --- the rate window ------------------------------------------------------------------------------


def test_a_rate_admission_resent_after_its_reply_was_lost_is_not_counted_twice(
    redis_url: str,
) -> None:
    """A client with retries re-sends a script whose reply was lost (after Redis ran it): the
    re-sent admission is the same admission, not a second one that finds the window full."""
    faults, clock = NthFaults(), FakeClock()
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
    faults, clock = NthFaults(), FakeClock()
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
        limiter.acquire().release()  # the scripts are loaded: each command is one of ours
        clock.now += 1.0  # and the rate window is empty again
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
    faults, clock = NthFaults(), FakeClock()
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
        limiter.acquire().release()  # the scripts are loaded: each command is one of ours
        clock.now += 1.0  # and the rate window is empty again
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


# --- a create cancelled at any point --------------------------------------------------------------


class SteppingExecutor(ThreadPoolExecutor):
    """The loop's executor, counting the store calls in its threads, so that a test can let a
    task advance one await at a time: :meth:`step` returns once every thread call has finished
    and its result has been handed to the loop."""

    def __init__(self) -> None:
        super().__init__(max_workers=4)
        self.busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        with self._idle:
            self.busy += 1

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self.busy -= 1
                    self._idle.notify_all()

        return super().submit(run)

    async def step(self) -> None:
        with self._idle:  # a thread's store call takes real time: wait for it, not a clock
            assert self._idle.wait_for(lambda: self.busy == 0, timeout=30)
        for _ in range(3):
            await asyncio.sleep(0)


async def test_a_create_cancelled_at_any_point_leaves_no_permit_to_its_lease(
    redis_url: str, tmp_path: Path
) -> None:
    """Cancel an async create after 0, 1, 2, ... loop steps (its store calls run in threads):
    once everything it started has finished, its permit is attached to the placed call or
    released, never left held until its lease; and its ledger key is never left claimed."""
    clock = FakeClock()
    limiter = RedisCallLimiter(
        redis_url, name=f"t-{uuid.uuid4().hex[:8]}", concurrency=2, rate=100, clock=clock
    )
    placed: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        placed.append(f"call_{len(placed) + 1}")
        body = json.loads(request.content)
        return httpx.Response(201, json={**CALL, "call_id": placed[-1], "to": body["to"]})

    async def settled() -> bool:
        for _ in range(500):  # the threads a cancelled create leaves behind finish on their own
            if limiter.in_use() == len(limiter.attached_calls()):
                return True
            await asyncio.to_thread(threading.Event().wait, 0.01)
        return False

    async def no_sleep(_: float) -> None:
        return None

    executor = SteppingExecutor()
    asyncio.get_running_loop().set_default_executor(executor)
    outcomes: set[str] = set()
    with SqliteLedger(tmp_path / "calls.db", clock=clock) as ledger:
        async with AsyncVoiceClient(
            "sk_test",
            base_url="https://voice.example.com",
            transport=httpx.MockTransport(answer),
            reliability=ReliabilityConfig(async_sleep=no_sleep, budget=RetryBudget()),
            ledger=ledger,
            call_limiter=limiter,
        ) as voice:
            for steps in range(40):
                if "placed" in outcomes:
                    break
                key = f"appt-{steps}"
                task = asyncio.ensure_future(
                    voice.calls.create(to=TO, from_=FROM, agent_key="a", idempotency_key=key)
                )
                for _ in range(steps):
                    await executor.step()
                task.cancel()
                try:
                    await task
                    outcomes.add("placed")
                except asyncio.CancelledError:
                    outcomes.add("cancelled")
                assert await settled(), steps
                for call_id in limiter.attached_calls():
                    assert call_id in placed
                    assert limiter.release_for_call(call_id) is True
                assert limiter.in_use() == 0
                # The key is free or answered, once the threads the cancelled create left
                # behind have finished: a retry is not refused as in flight until its lease.
                for _ in range(500):
                    try:
                        await voice.calls.create(
                            to=TO, from_=FROM, agent_key="a", idempotency_key=key
                        )
                        break
                    except DuplicateCallInFlightError:
                        await asyncio.to_thread(threading.Event().wait, 0.01)
                else:
                    raise AssertionError(f"{key} left in flight (cancelled after {steps} steps)")
                for call_id in limiter.attached_calls():
                    limiter.release_for_call(call_id)
                clock.now += 1.0  # the rate window's admissions leave it
    limiter.close()
    assert outcomes == {"placed", "cancelled"}


# --- the create's path on a failing limiter store --------------------------------------------


@pytest.mark.parametrize(
    "step",
    ["acquire", "attach", "release after a failed send"],
)
def test_a_create_on_a_failing_limiter_store_says_what_happened_to_the_call(
    flavour: Flavour, redis_url: str, tmp_path: Path, step: str
) -> None:
    """Redis drops at each step of the create's use of the limiter. Taking the permit: a typed
    StoreError carrying the key, nothing sent, the ledger key free. Attaching it: the call is
    returned (the permit is left to its lease). Releasing it after a failed send: the API's own
    error, not the store's."""
    faults, clock = NthFaults(), FakeClock()
    client = faulty_redis(redis_url, faults)
    limiter = RedisCallLimiter(
        client,
        name=f"t-{uuid.uuid4().hex[:8]}",
        namespace=f"test-limit-faults-{uuid.uuid4().hex}",
        concurrency=1,
        clock=clock,
    )
    limiter.acquire().release()  # the scripts are loaded: each command below is one of ours
    posts: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posts.append(request)
        if step == "release after a failed send":
            faults.fail(100)  # Redis is gone by the time the send fails
            return httpx.Response(500, json={"error": {"code": "boom", "message": "x"}})
        body = json.loads(request.content)
        return httpx.Response(201, json={**CALL, "call_id": "call_1", "to": body["to"]})

    def create(v: Any) -> Any:
        return v.calls.create(to=TO, from_=FROM, agent_key="a", idempotency_key="appt-1")

    try:
        with SqliteLedger(tmp_path / "calls.db", clock=clock) as ledger:
            voice = flavour.client(
                "voice",
                "sk_test",
                base_url="https://voice.example.com",
                transport=httpx.MockTransport(answer),
                reliability=ReliabilityConfig(
                    sleep=lambda s: None, async_sleep=_no_sleep, budget=RetryBudget(), max_retries=0
                ),
                ledger=ledger,
                call_limiter=limiter,
            )
            if step == "acquire":
                faults.fail(1)
                with pytest.raises(StoreError) as caught:
                    flavour.call(voice, create)
                assert caught.value.idempotency_key == "appt-1"
                assert posts == []
                assert isinstance(
                    ledger.begin("appt-1", fingerprint="other", scope=voice.ledger_scope),
                    LedgerEntry,  # forgotten as never sent: even other parameters may claim it
                )
            elif step == "attach":
                faults.fail(1, commands="EVALSHA")
                faults.skip = 1  # the slot's claim goes through; completing it with the call fails
                assert flavour.call(voice, create).call_id == "call_1"
                faults.fail(0)
                clock.now += limiter.lease_seconds
                assert limiter.in_use() == 0
            else:
                with pytest.raises(InternalServerError):
                    flavour.call(voice, create)
                faults.fail(0)
                clock.now += limiter.lease_seconds  # the release was lost: the lease frees it
                assert limiter.in_use() == 0
    finally:
        limiter.close()
        client.close()


async def _no_sleep(_: float) -> None:
    return None
