"""The idempotency ledger over both stores: record, replay, in flight, conflicts, crash recovery.

Every behaviour runs through ``begin``/``record``/``abandon`` and through ``abegin``/``arecord``/
``aabandon`` (the ``flavour`` fixture, tests/flavours.py); cancellation, which only the async
path has, is tests/test_ledger_cancellation.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from stateset_voice_wrapper import (
    DuplicateCallInFlightError,
    IdempotencyConflictError,
    InvalidParameterError,
    StateSetVoiceError,
)
from stateset_voice_wrapper.stores import (
    DEFAULT_LEDGER_SCOPE,
    DEFAULT_RETENTION_SECONDS,
    Completed,
    IdempotencyLedger,
    LedgerEntry,
    LedgerRecordError,
    RedisLedger,
    SqliteLedger,
    StoreError,
    fingerprint_request,
    ledger_scope,
)

if TYPE_CHECKING:
    from tests.flavours import Flavour
else:
    from flavours import Flavour

if TYPE_CHECKING:
    from tests.clocks import FakeClock
else:
    from clocks import FakeClock

KEY = "appt-A-123-confirm"
PARAMS = {"to": "+15555555678", "from": "+15555551234", "agent_key": "support_primary"}
FP = fingerprint_request(PARAMS)
CALL = b'{"id":"call_1","status":"queued"}'


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


def test_recorded_call_is_returned_without_sending(
    flavour: Flavour, make_ledger: LedgerFactory
) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    entry = entry_of(flavour.begin(worker_a, KEY, fingerprint=FP))
    assert entry.key == KEY
    flavour.record(entry, CALL)
    assert flavour.begin(worker_a, KEY, fingerprint=FP) == Completed(CALL)
    assert flavour.begin(worker_b, KEY, fingerprint=FP) == Completed(CALL)


def test_key_in_flight_elsewhere_raises(flavour: Flavour, make_ledger: LedgerFactory) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    entry_of(flavour.begin(worker_a, KEY, fingerprint=FP))
    with pytest.raises(DuplicateCallInFlightError) as caught:
        flavour.begin(worker_b, KEY, fingerprint=FP)
    assert caught.value.idempotency_key == KEY
    assert KEY in str(caught.value)
    assert "5555" not in str(caught.value)


def test_waiting_returns_the_other_holders_result(
    flavour: Flavour, make_ledger: LedgerFactory
) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    holder = entry_of(flavour.begin(worker_a, KEY, fingerprint=FP))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            holder.record(CALL)  # the other worker (sync either way) finishes while we wait

    assert flavour.begin(worker_b, KEY, fingerprint=FP, wait=10, sleep=sleep) == Completed(CALL)
    assert slept == [0.05, 0.1, 0.2]  # doubling backoff


def test_waiting_takes_over_a_lease_that_expires_meanwhile(
    flavour: Flavour, make_ledger: LedgerFactory, clock: FakeClock
) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    entry_of(flavour.begin(worker_a, KEY, fingerprint=FP))

    def sleep(seconds: float) -> None:
        clock.advance(100)  # worker A has crashed; its 120 s lease runs out while we wait

    entry = entry_of(flavour.begin(worker_b, KEY, fingerprint=FP, wait=5, sleep=sleep))
    assert entry.key == KEY


def test_waiting_gives_up_after_the_wait_budget(
    flavour: Flavour, make_ledger: LedgerFactory
) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    entry_of(flavour.begin(worker_a, KEY, fingerprint=FP))
    slept: list[float] = []
    with pytest.raises(DuplicateCallInFlightError):
        flavour.begin(worker_b, KEY, fingerprint=FP, wait=5, sleep=slept.append)
    # Doubling, capped at 1 s, and the last sleep only uses what is left of the budget.
    assert slept == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 0.45])


def test_same_key_with_other_parameters_conflicts(
    flavour: Flavour, ledger: IdempotencyLedger
) -> None:
    flavour.begin(ledger, KEY, fingerprint=FP)
    other = fingerprint_request({**PARAMS, "agent_key": "sales"})
    with pytest.raises(IdempotencyConflictError) as caught:
        flavour.begin(ledger, KEY, fingerprint=other)
    assert caught.value.idempotency_key == KEY
    flavour.record(entry_of(flavour.begin(ledger, "another-key", fingerprint=other)), CALL)
    with pytest.raises(IdempotencyConflictError):
        flavour.begin(ledger, "another-key", fingerprint=FP)


def test_crash_between_send_and_record_is_recovered_after_the_lease(
    flavour: Flavour, make_ledger: LedgerFactory, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    crashed_worker, next_worker = make_ledger(), make_ledger()
    assert crashed_worker.lease_seconds == 120.0
    crashed = entry_of(flavour.begin(crashed_worker, KEY, fingerprint=FP))  # sent, then "crashed"
    with pytest.raises(DuplicateCallInFlightError):
        flavour.begin(next_worker, KEY, fingerprint=FP)
    clock.advance(120)
    retry = entry_of(flavour.begin(next_worker, KEY, fingerprint=FP))  # re-sends the same key
    flavour.record(retry, CALL)
    # The stalled worker wakes up: its record is refused (logged), the first record stands.
    with caplog.at_level(logging.WARNING, logger="stateset_voice.ledger"):
        flavour.record(crashed, b'{"id":"call_1","status":"ringing"}')
    assert "lease expired" in caplog.text
    assert flavour.begin(next_worker, KEY, fingerprint=FP) == Completed(CALL)


def test_abandon_frees_the_key_for_an_immediate_retry(
    flavour: Flavour, make_ledger: LedgerFactory
) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    failed = entry_of(flavour.begin(worker_a, KEY, fingerprint=FP))
    flavour.abandon(failed)
    flavour.abandon(failed)  # idempotent
    with pytest.raises(StoreError, match="already"):
        flavour.record(failed, CALL)
    retry = entry_of(flavour.begin(worker_b, KEY, fingerprint=FP))
    flavour.record(retry, CALL)
    flavour.abandon(retry)  # after record: a no-op, so `finally: entry.abandon()` is safe
    assert flavour.begin(worker_a, KEY, fingerprint=FP) == Completed(CALL)


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


def test_fifty_tasks_racing_one_key_get_one_entry(ledger: IdempotencyLedger) -> None:
    async def race() -> list[str]:
        async def one() -> str:
            try:
                return type(await ledger.abegin(KEY, fingerprint=FP)).__name__
            except DuplicateCallInFlightError:
                return "in flight"

        return list(await asyncio.gather(*(one() for _ in range(50))))

    outcomes = asyncio.run(race())
    assert sorted(set(outcomes)) == ["LedgerEntry", "in flight"]
    assert outcomes.count("LedgerEntry") == 1


def test_waiting_claims_a_key_its_holder_abandons(
    flavour: Flavour, make_ledger: LedgerFactory
) -> None:
    worker_a, worker_b = make_ledger(), make_ledger()
    holder = entry_of(flavour.begin(worker_a, KEY, fingerprint=FP))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        holder.abandon()  # the holder's request failed (the other worker, sync either way)

    entry = entry_of(flavour.begin(worker_b, KEY, fingerprint=FP, wait=1, sleep=sleep))
    assert slept == [0.05]
    flavour.record(entry, CALL)
    assert flavour.begin(worker_a, KEY, fingerprint=FP) == Completed(CALL)
    with pytest.raises(IdempotencyConflictError):
        flavour.begin(worker_b, KEY, fingerprint="different")


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
    assert issubclass(LedgerRecordError, StoreError)
    for lease in (0, -1, float("nan")):
        with pytest.raises(InvalidParameterError, match="lease_seconds"):
            SqliteLedger(tmp_path / "calls.db", lease_seconds=lease)
    with pytest.raises(InvalidParameterError, match="retention_seconds"):
        SqliteLedger(tmp_path / "calls.db", retention_seconds=0)
    with pytest.raises(InvalidParameterError, match="file path"):
        SqliteLedger(":memory:")
    assert not (tmp_path / "calls.db").exists()  # refused before anything was created


def test_bad_begin_arguments_raise_invalid_parameter(
    flavour: Flavour, ledger: IdempotencyLedger
) -> None:
    calls: list[Callable[[], object]] = [
        lambda: flavour.begin(ledger, "", fingerprint=FP),
        lambda: flavour.begin(ledger, KEY, fingerprint=FP, scope=""),
        lambda: flavour.begin(ledger, KEY, fingerprint=FP, wait=-1),
        lambda: flavour.begin(ledger, KEY, fingerprint=FP, wait=float("inf")),
    ]
    for call in calls:
        with pytest.raises(InvalidParameterError):
            call()
    entry_of(flavour.begin(ledger, KEY, fingerprint=FP))  # nothing was claimed by the refused calls


def test_recording_twice_is_a_store_error(flavour: Flavour, ledger: IdempotencyLedger) -> None:
    entry = entry_of(flavour.begin(ledger, KEY, fingerprint=FP))
    flavour.record(entry, CALL)
    with pytest.raises(StoreError, match="already recorded"):
        flavour.record(entry, CALL)


# --- abandon: what the server may already hold ------------------------------------------------

OTHER_PARAMS = {**PARAMS, "to": "+15555550199"}
OTHER_FP = fingerprint_request(OTHER_PARAMS)


def test_abandoning_a_maybe_sent_attempt_keeps_the_parameters(
    flavour: Flavour, make_ledger: LedgerFactory, clock: FakeClock
) -> None:
    # appt-1 for A: the server commits, then the connection resets, three times; the client
    # gives up. The server holds appt-1 with A's parameters, so B must not be sent with it:
    # the server would answer B with A's call.
    worker, other = make_ledger(), make_ledger()
    for _ in range(3):
        flavour.abandon(entry_of(flavour.begin(worker, KEY, fingerprint=FP)))
    with pytest.raises(IdempotencyConflictError):
        flavour.begin(other, KEY, fingerprint=OTHER_FP)
    # A's parameters may retry at once (the server deduplicates the re-send).
    retry = entry_of(flavour.begin(other, KEY, fingerprint=FP))
    flavour.record(retry, CALL)
    assert flavour.begin(worker, KEY, fingerprint=FP) == Completed(CALL)
    with pytest.raises(IdempotencyConflictError):
        flavour.begin(worker, KEY, fingerprint=OTHER_FP)


def test_a_maybe_sent_abandon_is_remembered_for_the_retention_window(
    flavour: Flavour, make_ledger: LedgerFactory, clock: FakeClock
) -> None:
    ledger = make_ledger()
    flavour.abandon(entry_of(flavour.begin(ledger, KEY, fingerprint=FP)), maybe_sent=True)
    clock.advance(DEFAULT_RETENTION_SECONDS - 1)
    with pytest.raises(IdempotencyConflictError):
        flavour.begin(ledger, KEY, fingerprint=OTHER_FP)
    clock.advance(1)  # the server's window is over too
    entry_of(flavour.begin(ledger, KEY, fingerprint=OTHER_FP))


def test_abandoning_an_attempt_that_was_never_sent_forgets_the_key(
    flavour: Flavour,
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    flavour.abandon(entry_of(flavour.begin(ledger, KEY, fingerprint=FP)), maybe_sent=False)
    flavour.record(entry_of(flavour.begin(ledger, KEY, fingerprint=OTHER_FP)), CALL)


def test_a_never_sent_attempt_after_a_maybe_sent_one_keeps_the_parameters(
    flavour: Flavour, make_ledger: LedgerFactory, clock: FakeClock
) -> None:
    ledger = make_ledger()
    flavour.abandon(
        entry_of(flavour.begin(ledger, KEY, fingerprint=FP)), maybe_sent=True
    )  # may have arrived
    flavour.abandon(
        entry_of(flavour.begin(ledger, KEY, fingerprint=FP)), maybe_sent=False
    )  # connect refused
    with pytest.raises(IdempotencyConflictError):
        flavour.begin(ledger, KEY, fingerprint=OTHER_FP)
    # Likewise after taking over a crashed claim, which may have sent its request.
    flavour.begin(ledger, "crashed", fingerprint=FP)
    clock.advance(ledger.lease_seconds)
    flavour.abandon(entry_of(flavour.begin(ledger, "crashed", fingerprint=FP)), maybe_sent=False)
    with pytest.raises(IdempotencyConflictError):
        flavour.begin(ledger, "crashed", fingerprint=OTHER_FP)


# --- scopes: one store, several APIs or tenants ---------------------------------------------------


def test_two_tenants_sharing_a_ledger_never_see_each_others_keys(
    flavour: Flavour,
    make_ledger: LedgerFactory,
) -> None:
    sandbox = ledger_scope(base_url="https://sandbox.voice.example", credential="sk_test_1")
    production = ledger_scope(base_url="https://voice.example", credential="sk_live_1")
    tenant_b = ledger_scope(base_url="https://voice.example", credential="sk_live_2")
    assert len({sandbox, production, tenant_b}) == 3
    ledger = make_ledger()
    flavour.record(entry_of(flavour.begin(ledger, KEY, fingerprint=FP, scope=production)), CALL)
    # The same business key elsewhere is its own key: claimed (and sent), never A's record.
    for scope in (sandbox, tenant_b):
        entry = entry_of(flavour.begin(ledger, KEY, fingerprint=OTHER_FP, scope=scope))
        assert entry.scope == scope
        flavour.record(entry, b'{"id":"call_2"}')
    assert flavour.begin(ledger, KEY, fingerprint=FP, scope=production) == Completed(CALL)
    assert flavour.begin(ledger, KEY, fingerprint=OTHER_FP, scope=tenant_b) == Completed(
        b'{"id":"call_2"}'
    )
    assert entry_of(flavour.begin(ledger, KEY, fingerprint=FP)).scope == DEFAULT_LEDGER_SCOPE


def test_scope_and_key_are_folded_together_unambiguously(
    flavour: Flavour, make_ledger: LedgerFactory
) -> None:
    ledger = make_ledger()
    flavour.record(entry_of(flavour.begin(ledger, "b:c", fingerprint=FP, scope="a")), CALL)
    # ("a:b", "c") would be the same string as ("a", "b:c") if joined with a plain separator.
    entry = entry_of(flavour.begin(ledger, "c", fingerprint=OTHER_FP, scope="a:b"))
    flavour.abandon(entry, maybe_sent=False)
    entry_of(
        flavour.begin(ledger, "1:a:b:c", fingerprint=OTHER_FP)
    )  # nor a key that mimics the prefix


def test_ledger_scope_hashes_base_url_and_credential() -> None:
    scope = ledger_scope(base_url="https://voice.example/", credential="sk_live_SECRET")
    assert scope == ledger_scope(base_url="https://voice.example", credential="sk_live_SECRET")
    assert "SECRET" not in scope
    assert scope.startswith("api-")
    assert len(scope) == 36
    # The pair is length-prefixed: moving characters between the two changes the scope.
    assert ledger_scope(base_url="https://a", credential="bc") != ledger_scope(
        base_url="https://ab", credential="c"
    )
    with pytest.raises(InvalidParameterError):
        ledger_scope(base_url=None, credential="x")  # type: ignore[arg-type]
