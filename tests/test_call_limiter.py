"""Call limiters: concurrency permits on the lease machinery and the request-rate window.

Every behaviour runs against both limiters: in process, and against a real redis-server. Time
is an injected clock and waiting an injected sleep; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import pickle
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateset_voice_wrapper import (
    CallLimiter,
    CallLimitError,
    CallRateLimitError,
    ConcurrencyLimitError,
    InProcessCallLimiter,
    InvalidParameterError,
    RedisCallLimiter,
    StateSetVoiceError,
)
from stateset_voice_wrapper._storage.rate import MemoryRateWindow, RedisRateWindow
from stateset_voice_wrapper.stores import Permit

if TYPE_CHECKING:
    from tests.profiles import examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import examples

if TYPE_CHECKING:
    from tests.clocks import T0, FakeClock
else:
    from clocks import T0, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


MakeLimiter = Callable[..., CallLimiter]


@pytest.fixture(params=["in_process", pytest.param("redis", marks=pytest.mark.redis)])
def make(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[MakeLimiter]:
    opened: list[CallLimiter] = []
    name = f"tenant-{uuid.uuid4().hex[:8]}"  # the redis-server is shared by the whole session

    def make(**kwargs: Any) -> CallLimiter:
        kwargs.setdefault("name", name)
        kwargs.setdefault("clock", clock)
        limiter: CallLimiter
        if request.param == "redis":
            limiter = RedisCallLimiter(request.getfixturevalue("redis_url"), **kwargs)
        else:
            limiter = InProcessCallLimiter(**kwargs)
        opened.append(limiter)
        return limiter

    yield make
    for limiter in opened:
        limiter.close()


def held(limiter: CallLimiter, n: int) -> list[Permit]:
    return [limiter.acquire() for _ in range(n)]


# --- concurrency ---------------------------------------------------------------------------------


def test_permits_run_out_at_the_limit_and_the_refusal_names_the_limit(make: MakeLimiter) -> None:
    limiter = make(concurrency=3)
    permits = held(limiter, 3)
    assert sorted(p.slot for p in permits if p.slot is not None) == [0, 1, 2]
    assert limiter.in_use() == 3
    with pytest.raises(ConcurrencyLimitError) as caught:
        limiter.acquire()
    error = caught.value
    assert isinstance(error, CallLimitError)
    assert isinstance(error, StateSetVoiceError)
    assert (error.limit, error.waited) == (limiter.name, 0.0)
    assert error.may_have_reached_server is False
    assert str(error).startswith(f"no permit of the concurrency limit {limiter.name!r} was free")
    assert "nothing was sent" in str(error)


def test_a_limit_wider_than_one_scan_batch_finds_its_last_free_slot(make: MakeLimiter) -> None:
    limiter = make(concurrency=40)  # slots are read 16 at a time, in a random order
    permits = held(limiter, 40)
    assert sorted(p.slot for p in permits if p.slot is not None) == list(range(40))
    with pytest.raises(ConcurrencyLimitError):
        limiter.acquire()
    permits[23].release()
    assert limiter.acquire().slot == permits[23].slot


def test_a_released_permit_is_free_again_and_releasing_twice_is_harmless(
    make: MakeLimiter,
) -> None:
    limiter = make(concurrency=2)
    first, second = held(limiter, 2)
    first.release()
    first.release()
    assert limiter.in_use() == 1
    third = limiter.acquire()
    assert third.slot == first.slot
    with pytest.raises(ConcurrencyLimitError):
        limiter.acquire()
    second.release()
    third.release()
    assert limiter.in_use() == 0


def test_an_attached_permit_is_held_until_its_call_is_reported_ended(make: MakeLimiter) -> None:
    limiter = make(concurrency=1)
    permit = limiter.acquire()
    permit.attach("call_1")
    assert permit.call_id == "call_1"
    assert limiter.attached_calls() == ["call_1"]
    with pytest.raises(ConcurrencyLimitError):
        limiter.acquire()
    assert limiter.release_for_call("call_other") is False  # not ours: nothing freed
    assert limiter.in_use() == 1
    assert limiter.release_for_call("call_1") is True
    assert limiter.release_for_call("call_1") is False  # a redelivered event
    assert limiter.attached_calls() == []
    limiter.acquire()


def test_a_call_that_ended_before_its_permit_was_attached_frees_it_at_once(
    make: MakeLimiter,
) -> None:
    """The webhook of a number that fails at once can beat the worker's attach."""
    limiter = make(concurrency=1)
    permit = limiter.acquire()
    assert limiter.release_for_call("call_fast") is False  # nothing attached yet: a mark
    permit.attach("call_fast")
    assert limiter.in_use() == 0
    assert limiter.attached_calls() == []


def test_one_call_answered_to_two_creates_holds_one_permit_and_its_end_frees_it(
    make: MakeLimiter,
) -> None:
    """Two workers sending one job with one idempotency key and no ledger both get the call the
    server deduplicated: it is one call in progress, and its end frees every permit taken."""
    limiter = make(concurrency=2)
    first, second = limiter.acquire(), limiter.acquire()
    first.attach("call_1")
    second.attach("call_1")
    assert limiter.in_use() == 1
    assert limiter.attached_calls() == ["call_1"]
    assert limiter.release_for_call("call_1") is True
    assert limiter.in_use() == 0


@pytest.mark.redis
def test_a_lowered_limit_counts_new_permits_and_the_old_calls_end_by_their_webhooks(
    redis_url: str, clock: FakeClock
) -> None:
    """What docs/fleet-limits.md says of lowering ``concurrency`` under one name: the calls on
    slots above the new limit are not counted by it, nor listed for a call-log poll; their end,
    reported from any worker, frees them."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    before = RedisCallLimiter(redis_url, name=name, concurrency=3, clock=clock)
    for n in range(3):
        before.acquire().attach(f"call_{n}")
    # The same name, redeployed with a lower limit.
    after = RedisCallLimiter(redis_url, name=name, concurrency=1, clock=clock)
    with pytest.raises(ConcurrencyLimitError):
        after.acquire()  # slot 0 is one of the three
    assert after.in_use() == 1
    assert len(after.attached_calls()) == 1
    for n in range(3):
        assert after.release_for_call(f"call_{n}") is True
    assert before.in_use() == 0
    after.acquire()
    before.close()
    after.close()


def test_a_crashed_workers_permit_is_free_after_its_lease(
    make: MakeLimiter, clock: FakeClock
) -> None:
    limiter = make(concurrency=1, lease_seconds=120)
    crashed = limiter.acquire()  # never released nor attached: its worker died
    clock.advance(119.9)
    with pytest.raises(ConcurrencyLimitError):
        limiter.acquire()
    clock.advance(0.2)
    taken_over = limiter.acquire()
    crashed.release()  # the stalled worker wakes up: it must not free the new holder's slot
    assert limiter.in_use() == 1
    taken_over.release()
    assert limiter.in_use() == 0


def test_an_attached_permit_outlives_the_lease_until_the_call_lease(
    make: MakeLimiter, clock: FakeClock
) -> None:
    limiter = make(concurrency=1, lease_seconds=120, call_lease_seconds=3600)
    limiter.acquire().attach("call_lost_webhook")
    clock.advance(121)
    with pytest.raises(ConcurrencyLimitError):
        limiter.acquire()
    clock.advance(3600)
    limiter.acquire()


def test_attaching_after_the_slot_was_taken_over_warns_and_keeps_the_new_holder(
    make: MakeLimiter, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = make(concurrency=1, lease_seconds=10)
    slow = limiter.acquire()
    clock.advance(11)
    fast = limiter.acquire()
    with caplog.at_level(logging.WARNING, logger="stateset_voice.limits"):
        slow.attach("call_slow")
    assert "lease expired before call call_slow was placed" in caplog.text
    assert limiter.attached_calls() == []
    fast.attach("call_fast")
    assert limiter.attached_calls() == ["call_fast"]


def test_waiting_backs_off_on_the_injected_sleep_and_takes_a_freed_permit(
    make: MakeLimiter,
) -> None:
    limiter = make(concurrency=1)
    holder = limiter.acquire()
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 5:
            holder.release()  # another worker's call ends while we wait

    permit = limiter.acquire(wait=30.0, sleep=sleep)
    assert permit.slot == 0
    assert len(pauses) == 5
    assert 0.025 <= pauses[0] <= 0.05
    assert all(b > a for a, b in itertools.pairwise(pauses))  # doubling, jittered


def test_a_wait_that_runs_out_sleeps_exactly_the_wait_then_refuses(make: MakeLimiter) -> None:
    limiter = make(concurrency=1, wait=3.0)
    held(limiter, 1)
    pauses: list[float] = []
    with pytest.raises(ConcurrencyLimitError) as caught:
        limiter.acquire(sleep=pauses.append)  # the limiter's default wait
    assert sum(pauses) == pytest.approx(3.0)
    assert max(pauses) <= 1.0  # the poll interval is capped
    assert caught.value.waited == pytest.approx(3.0)


# --- rate ----------------------------------------------------------------------------------------


def test_the_rate_window_admits_the_limit_then_says_when(
    make: MakeLimiter, clock: FakeClock
) -> None:
    limiter = make(rate=3, rate_window=1.0)
    assert [limiter.acquire().taken_at for _ in range(3)] == [T0, T0, T0]
    with pytest.raises(CallRateLimitError) as caught:
        limiter.acquire()
    assert caught.value.retry_after == pytest.approx(1.0)
    assert caught.value.limit == limiter.name
    clock.advance(0.999)
    with pytest.raises(CallRateLimitError) as caught:
        limiter.acquire()
    assert caught.value.retry_after == pytest.approx(0.001, abs=1e-6)  # T0 has 0.2 µs ULPs
    clock.advance(0.001)  # an admission at t leaves the window at t + window exactly
    assert limiter.acquire().taken_at == T0 + 1.0


def test_waiting_for_the_rate_window_sleeps_until_a_place_frees(
    make: MakeLimiter, clock: FakeClock
) -> None:
    limiter = make(rate=2, rate_window=10.0)
    clock.advance(0.0)
    limiter.acquire()
    clock.advance(4.0)
    limiter.acquire()
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        clock.advance(seconds)

    permit = limiter.acquire(wait=60.0, sleep=sleep)
    assert permit.taken_at >= T0 + 10.0
    assert 6.0 <= sum(pauses) <= 6.06  # the oldest left at T0 + 10, plus a little jitter


def test_a_full_rate_window_gives_the_permit_back(make: MakeLimiter) -> None:
    limiter = make(concurrency=2, rate=1)
    limiter.acquire().release()
    with pytest.raises(CallRateLimitError):
        limiter.acquire()
    assert limiter.in_use() == 0  # the slot claimed before the rate refused is free again


@settings(max_examples=examples(40))
@given(
    steps=st.lists(st.floats(min_value=0.0, max_value=0.7), min_size=1, max_size=40),
    limit=st.integers(min_value=1, max_value=4),
)
def test_no_window_ever_holds_more_than_the_limit_and_redis_agrees(
    redis_url: str, steps: list[float], limit: int
) -> None:
    """The in-process rule and the Lua script decide the same, on the same times."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        in_redis = RedisRateWindow(client, namespace=f"test-rate-{uuid.uuid4().hex}")
        in_memory = MemoryRateWindow()
        now, admitted = T0, []
        for step in steps:
            now += step
            answers = [
                w.try_admit("k", now=now, limit=limit, window=1.0) for w in (in_memory, in_redis)
            ]
            assert (answers[0] is None) == (answers[1] is None), (now, answers)
            if answers[0] is None:
                admitted.append(now)
            else:
                assert answers[1] == pytest.approx(answers[0])
                assert answers[0] > 0
        for i in range(len(admitted) - limit):
            assert admitted[i + limit] - admitted[i] >= 1.0
    finally:
        client.close()


# --- async ---------------------------------------------------------------------------------------


async def test_async_permits_follow_the_same_rules(make: MakeLimiter, clock: FakeClock) -> None:
    limiter = make(concurrency=1, rate=5)
    permit = await limiter.aacquire()
    with pytest.raises(ConcurrencyLimitError):
        await limiter.aacquire()
    await permit.aattach("call_a")
    assert await limiter.aattached_calls() == ["call_a"]
    assert await limiter.arelease_for_call("call_a") is True
    second = await limiter.aacquire(wait=1.0, sleep=_no_sleep)
    await second.arelease()
    assert limiter.in_use() == 0


async def _no_sleep(_: float) -> None:
    return None


@pytest.mark.redis
async def test_a_cancelled_async_acquire_gives_its_slot_back(
    redis_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stateset_voice_wrapper._storage import permits

    limiter = RedisCallLimiter(redis_url, name=f"t-{uuid.uuid4().hex}", concurrency=1, clock=clock)
    entered, proceed, returned = threading.Event(), threading.Event(), threading.Event()
    real_take = permits.ConcurrencyLimit.try_take

    def slow_take(self: permits.ConcurrencyLimit) -> Any:
        hold = real_take(self)  # the slot is claimed in the store...
        entered.set()
        proceed.wait(timeout=30)  # ...and the awaiting task is cancelled before it hears so
        returned.set()
        return hold

    monkeypatch.setattr(permits.ConcurrencyLimit, "try_take", slow_take)
    try:
        task = asyncio.ensure_future(limiter.aacquire())
        assert await asyncio.to_thread(entered.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        proceed.set()
        assert await asyncio.to_thread(returned.wait, 30)
        for _ in range(200):  # the undo runs on its own thread once the claim returned
            if limiter.in_use() == 0:
                break
            await asyncio.to_thread(threading.Event().wait, 0.01)
        assert limiter.in_use() == 0
    finally:
        limiter.close()


# --- arguments and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "concurrency limit, a rate, or both"),
        ({"concurrency": 0}, "concurrency must be a whole number"),
        ({"concurrency": True}, "concurrency must be a whole number"),
        ({"rate": 2.5}, "rate must be a whole number"),
        ({"rate": 1, "rate_window": 0}, "rate_window must be positive"),
        ({"concurrency": 1, "lease_seconds": -1}, "lease_seconds must be positive"),
        ({"concurrency": 1, "call_lease_seconds": float("inf")}, "call_lease_seconds"),
        ({"concurrency": 1, "wait": -1}, "wait must be"),
        ({"concurrency": 1, "name": ""}, "name must be a non-empty string"),
    ],
)
def test_bad_arguments_are_refused(make: MakeLimiter, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        make(**kwargs)


def test_bad_call_ids_are_refused(make: MakeLimiter) -> None:
    limiter = make(concurrency=1)
    with pytest.raises(InvalidParameterError):
        limiter.release_for_call("")
    with pytest.raises(InvalidParameterError):
        limiter.acquire().attach("")


@pytest.mark.redis
@settings(max_examples=examples(40))
@given(call_ids=st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=4, unique=True))
def test_any_call_id_finds_its_own_permit_and_no_other(redis_url: str, call_ids: list[str]) -> None:
    """Call IDs are the server's: huge, non-ASCII, holding the key separator ``:``, or spelling
    another key's suffix (``slot:0``). Each frees its own permit, once, and none other's."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    for limiter in (
        InProcessCallLimiter(name=name, concurrency=len(call_ids)),
        RedisCallLimiter(redis_url, name=name, concurrency=len(call_ids)),
    ):
        try:
            for call_id in call_ids:
                limiter.acquire().attach(call_id)
            assert sorted(limiter.attached_calls()) == sorted(call_ids)
            for n, call_id in enumerate(call_ids):
                if call_id + ":" not in call_ids:  # a neighbour's key frees nothing
                    assert limiter.release_for_call(call_id + ":") is False
                assert limiter.release_for_call(call_id) is True
                assert limiter.release_for_call(call_id) is False
                assert sorted(limiter.attached_calls()) == sorted(call_ids[n + 1 :])
            assert limiter.in_use() == 0
        finally:
            limiter.close()


def test_a_call_id_that_is_not_valid_unicode_is_refused_with_a_typed_error(
    make: MakeLimiter,
) -> None:
    """A webhook's JSON may carry a lone surrogate ("\\ud800"): the handler's release_for_call
    gets an InvalidParameterError, not a raw UnicodeEncodeError from deep in the store."""
    limiter = make(concurrency=1)
    with pytest.raises(InvalidParameterError, match="call_id"):
        limiter.release_for_call("call_\ud800")
    with pytest.raises(InvalidParameterError, match="call_id"):
        limiter.acquire().attach("call_\ud800")


def test_a_limit_named_after_a_phone_number_never_shows_the_number(
    make: MakeLimiter, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Providers cap calls per caller ID, so a limit may well be named after one: its errors,
    reprs and warnings mask the number (``.limit`` keeps the name for the program)."""
    number = "+15555551234"
    limiter = make(name=f"caller-id-{number}", concurrency=1, rate=1, lease_seconds=10)
    permit = limiter.acquire()
    texts = [repr(limiter), repr(permit)]
    with pytest.raises(ConcurrencyLimitError) as busy:
        limiter.acquire()
    assert busy.value.limit == f"caller-id-{number}"
    permit.release()
    with pytest.raises(CallRateLimitError) as full:
        limiter.acquire()
    texts += [str(busy.value), repr(busy.value), str(full.value), repr(full.value)]
    clock.advance(11)  # a permit whose lease ran out, taken over before its call is placed
    late = limiter.acquire()
    clock.advance(11)
    limiter.acquire()
    with caplog.at_level(logging.WARNING, logger="stateset_voice"):
        late.attach("call_1")
    texts += caplog.messages
    assert len(texts) == 7
    for text in texts:
        assert number not in text
        assert "+***34" in text


def test_limit_errors_pickle_with_their_fields() -> None:
    error = CallRateLimitError(
        "full", limit="tenant-1", waited=2.0, retry_after=0.5, idempotency_key="k-1"
    )
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round-tripped
    assert type(again) is CallRateLimitError
    assert (again.limit, again.waited, again.retry_after, again.idempotency_key) == (
        "tenant-1",
        2.0,
        0.5,
        "k-1",
    )
    assert again.may_have_reached_server is False
