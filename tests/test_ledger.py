"""The idempotency ledger over both stores: record, replay, in flight, conflicts, crash recovery."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from stateset_voice_wrapper import (
    DuplicateCallInFlightError,
    IdempotencyConflictError,
    StateSetVoiceError,
)
from stateset_voice_wrapper.stores import (
    Completed,
    IdempotencyLedger,
    LedgerEntry,
    RedisLedger,
    SqliteLedger,
    fingerprint_request,
)

T0 = 1_800_000_000.0
KEY = "appt-A-123-confirm"
PARAMS = {"to": "+15555555678", "from": "+15555551234", "agent_key": "support_primary"}
FP = fingerprint_request(PARAMS)
CALL = b'{"id":"call_1","status":"queued"}'


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


LedgerFactory = Callable[[], IdempotencyLedger]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def make_ledger(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[LedgerFactory]:
    """Opens ledgers (one per simulated worker) on one shared store location."""
    opened: list[IdempotencyLedger] = []
    namespace = f"test-calls-{uuid.uuid4().hex}"
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""

    def make() -> IdempotencyLedger:
        ledger: IdempotencyLedger
        if request.param == "sqlite":
            ledger = SqliteLedger(tmp_path / "calls.db", clock=clock)
        else:
            ledger = RedisLedger(redis_url, namespace=namespace, clock=clock)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(make_ledger: LedgerFactory) -> IdempotencyLedger:
    return make_ledger()


def entry_of(outcome: LedgerEntry | Completed) -> LedgerEntry:
    assert isinstance(outcome, LedgerEntry), outcome
    return outcome


def test_recorded_call_is_returned_without_sending(make_ledger: LedgerFactory) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    entry = entry_of(worker_a.begin(KEY, fingerprint=FP))
    assert entry.key == KEY
    entry.record(CALL)
    assert worker_a.begin(KEY, fingerprint=FP) == Completed(CALL)
    assert worker_b.begin(KEY, fingerprint=FP) == Completed(CALL)


def test_key_in_flight_elsewhere_raises(make_ledger: LedgerFactory) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    entry_of(worker_a.begin(KEY, fingerprint=FP))
    with pytest.raises(DuplicateCallInFlightError) as caught:
        worker_b.begin(KEY, fingerprint=FP)
    assert caught.value.idempotency_key == KEY
    assert KEY in str(caught.value)
    assert "5555" not in str(caught.value)


def test_waiting_returns_the_other_holders_result(make_ledger: LedgerFactory) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    holder = entry_of(worker_a.begin(KEY, fingerprint=FP))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            holder.record(CALL)  # the other worker finishes while we wait

    assert worker_b.begin(KEY, fingerprint=FP, wait=10, sleep=sleep) == Completed(CALL)
    assert slept == [0.05, 0.1, 0.2]  # doubling backoff


def test_waiting_takes_over_a_lease_that_expires_meanwhile(
    make_ledger: LedgerFactory, clock: FakeClock
) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    entry_of(worker_a.begin(KEY, fingerprint=FP))

    def sleep(seconds: float) -> None:
        clock.advance(100)  # worker A has crashed; its 120 s lease runs out while we wait

    entry = entry_of(worker_b.begin(KEY, fingerprint=FP, wait=5, sleep=sleep))
    assert entry.key == KEY


def test_waiting_gives_up_after_the_wait_budget(make_ledger: LedgerFactory) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    entry_of(worker_a.begin(KEY, fingerprint=FP))
    slept: list[float] = []
    with pytest.raises(DuplicateCallInFlightError):
        worker_b.begin(KEY, fingerprint=FP, wait=5, sleep=slept.append)
    # Doubling, capped at 1 s, and the last sleep only uses what is left of the budget.
    assert slept == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 0.45])


def test_same_key_with_other_parameters_conflicts(ledger: IdempotencyLedger) -> None:
    ledger.begin(KEY, fingerprint=FP)
    other = fingerprint_request({**PARAMS, "agent_key": "sales"})
    with pytest.raises(IdempotencyConflictError) as caught:
        ledger.begin(KEY, fingerprint=other)
    assert caught.value.idempotency_key == KEY
    entry_of(ledger.begin("another-key", fingerprint=other)).record(CALL)
    with pytest.raises(IdempotencyConflictError):
        ledger.begin("another-key", fingerprint=FP)


def test_crash_between_send_and_record_is_recovered_after_the_lease(
    make_ledger: LedgerFactory, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    crashed_worker, next_worker = make_ledger(), make_ledger()
    assert crashed_worker.lease_seconds == 120.0
    crashed = entry_of(crashed_worker.begin(KEY, fingerprint=FP))  # sent, then "crashed"
    with pytest.raises(DuplicateCallInFlightError):
        next_worker.begin(KEY, fingerprint=FP)
    clock.advance(120)
    retry = entry_of(next_worker.begin(KEY, fingerprint=FP))  # re-sends the same key
    retry.record(CALL)
    # The stalled worker wakes up: its record is refused (logged), the first record stands.
    with caplog.at_level(logging.WARNING, logger="stateset_voice.ledger"):
        crashed.record(b'{"id":"call_1","status":"ringing"}')
    assert "lease expired" in caplog.text
    assert next_worker.begin(KEY, fingerprint=FP) == Completed(CALL)


def test_abandon_frees_the_key_for_an_immediate_retry(make_ledger: LedgerFactory) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    failed = entry_of(worker_a.begin(KEY, fingerprint=FP))
    failed.abandon()
    failed.abandon()  # idempotent
    with pytest.raises(RuntimeError, match="already"):
        failed.record(CALL)
    retry = entry_of(worker_b.begin(KEY, fingerprint=FP))
    retry.record(CALL)
    retry.abandon()  # after record: a no-op, so `finally: entry.abandon()` is safe
    assert worker_a.begin(KEY, fingerprint=FP) == Completed(CALL)


def test_fifty_threads_racing_one_key_get_one_entry(ledger: IdempotencyLedger) -> None:
    start = threading.Barrier(50)

    def race(_: int) -> str:
        start.wait(timeout=30)
        try:
            return type(ledger.begin(KEY, fingerprint=FP)).__name__
        except DuplicateCallInFlightError:
            return "in flight"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(race, range(50)))
    assert sorted(set(outcomes)) == ["LedgerEntry", "in flight"]
    assert outcomes.count("LedgerEntry") == 1


async def test_async_begin_record_and_replay(make_ledger: LedgerFactory) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    entry = entry_of(await worker_a.abegin(KEY, fingerprint=FP))
    with pytest.raises(DuplicateCallInFlightError):
        await worker_b.abegin(KEY, fingerprint=FP)
    await entry.arecord(CALL)
    assert await worker_b.abegin(KEY, fingerprint=FP) == Completed(CALL)
    with pytest.raises(IdempotencyConflictError):
        await worker_b.abegin(KEY, fingerprint="different")


async def test_async_wait_and_abandon(make_ledger: LedgerFactory) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    holder = entry_of(await worker_a.abegin(KEY, fingerprint=FP))
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await holder.aabandon()  # the holder's request failed

    entry = entry_of(await worker_b.abegin(KEY, fingerprint=FP, wait=1, sleep=sleep))
    assert slept == [0.05]
    await entry.arecord(CALL)
    assert await worker_a.abegin(KEY, fingerprint=FP) == Completed(CALL)


def test_fingerprint_is_sha256_of_canonical_json() -> None:
    params = {"to": "+15555555678", "metadata": {"b": 2, "a": "é"}}
    expected = '{"metadata":{"a":"é","b":2},"to":"+15555555678"}'
    assert fingerprint_request(params) == hashlib.sha256(expected.encode()).hexdigest()
    reordered = {"metadata": {"a": "é", "b": 2}, "to": "+15555555678"}
    assert fingerprint_request(reordered) == fingerprint_request(params)
    assert fingerprint_request({**params, "to": "+15555550000"}) != fingerprint_request(params)


def test_errors_belong_to_the_package_hierarchy(tmp_path: Path) -> None:
    assert issubclass(DuplicateCallInFlightError, StateSetVoiceError)
    assert issubclass(IdempotencyConflictError, StateSetVoiceError)
    with pytest.raises(ValueError, match="lease_seconds"):
        SqliteLedger(tmp_path / "calls.db", lease_seconds=0)
