"""Cancelling async ledger calls: a claim is never orphaned, a placed call's record still lands.

Store calls run in worker threads, which a cancellation does not stop. The store here is a real
SQLite store behind gates, so each test decides exactly when a store call starts and finishes;
nothing waits on a timer.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from stateset_voice_wrapper import (
    AsyncVoiceClient,
    DuplicateCallInFlightError,
    ReliabilityConfig,
    RetryBudget,
)
from stateset_voice_wrapper.stores import (
    ClaimOutcome,
    Completed,
    IdempotencyLedger,
    InFlight,
    LedgerEntry,
    SqliteLeaseStore,
)

REPO = Path(__file__).resolve().parent.parent
KEY, FP = "appt-A-123-confirm", "fingerprint-a"
CALL = b'{"id":"call_1"}'
OPERATIONS = ("claim", "complete", "release")


class GatedStore:
    """A :class:`LeaseStore` over a real SQLite store; each operation waits for its gate."""

    def __init__(self, inner: SqliteLeaseStore) -> None:
        self.inner = inner
        self.gates = {op: threading.Event() for op in OPERATIONS}
        self.started = {op: threading.Event() for op in OPERATIONS}
        self.done = {op: threading.Event() for op in OPERATIONS}
        for gate in self.gates.values():
            gate.set()

    def _enter(self, op: str) -> None:
        self.started[op].set()
        assert self.gates[op].wait(timeout=30)

    def claim(self, key: str, *, fingerprint: str, lease_seconds: float) -> ClaimOutcome:
        self._enter("claim")
        try:
            return self.inner.claim(key, fingerprint=fingerprint, lease_seconds=lease_seconds)
        finally:
            self.done["claim"].set()

    def complete(self, key: str, *, token: str, result: bytes) -> bool:
        self._enter("complete")
        try:
            return self.inner.complete(key, token=token, result=result)
        finally:
            self.done["complete"].set()

    def release(self, key: str, *, token: str, remember: bool = False) -> bool:
        self._enter("release")
        try:
            return self.inner.release(key, token=token, remember=remember)
        finally:
            self.done["release"].set()

    def get(self, key: str) -> Completed | InFlight | None:
        return self.inner.get(key)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GatedStore]:
    gated = GatedStore(SqliteLeaseStore(tmp_path / "calls.db"))
    yield gated
    gated.close()


#: Waits for the gates' events run here, never in the loop's default executor (which some tests
#: make a single, busy thread).
_WAITERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-waiter")


async def wait_for(event: threading.Event) -> None:
    assert await asyncio.get_running_loop().run_in_executor(_WAITERS, event.wait, 30)


async def test_a_cancelled_claim_is_released_once_its_thread_finishes(store: GatedStore) -> None:
    ledger = IdempotencyLedger(store)
    store.gates["claim"].clear()
    task = asyncio.create_task(ledger.abegin(KEY, fingerprint=FP))
    await wait_for(store.started["claim"])
    task.cancel()  # the caller gives up while the store is slow (asyncio.wait_for, a shutdown)
    with pytest.raises(asyncio.CancelledError):
        await task
    store.gates["claim"].set()  # the claim lands in its thread after the caller has gone
    await wait_for(store.done["release"])
    # Not orphaned for the 120 s lease: a retry gets the key at once.
    assert isinstance(ledger.begin(KEY, fingerprint=FP), LedgerEntry)


async def test_a_claim_delivered_just_as_its_task_is_cancelled_is_released(
    store: GatedStore,
) -> None:
    # The thread finished and handed its result over, but the task is cancelled before it
    # resumes to take it: the loop is held while both happen.
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1)
    loop.set_default_executor(executor)
    ledger = IdempotencyLedger(store)
    store.gates["claim"].clear()
    task = asyncio.create_task(ledger.abegin(KEY, fingerprint=FP))
    await wait_for(store.started["claim"])
    store.gates["claim"].set()
    executor.submit(lambda: None).result(timeout=30)  # blocks the loop until the claim's thread
    task.cancel()  # ...has returned; its result is queued but not yet seen by the task
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.done["release"].wait(timeout=30)
    assert isinstance(ledger.begin(KEY, fingerprint=FP), LedgerEntry)


@pytest.fixture
def busy_executor() -> Iterator[tuple[ThreadPoolExecutor, threading.Event]]:
    """A one-thread default executor, busy until the event is set: jobs queue behind it."""
    executor, free = ThreadPoolExecutor(max_workers=1), threading.Event()
    yield executor, free
    free.set()
    executor.shutdown(wait=True)


async def test_a_cancelled_record_still_records_the_placed_call(
    store: GatedStore, busy_executor: tuple[ThreadPoolExecutor, threading.Event]
) -> None:
    ledger = IdempotencyLedger(store)
    entry = await ledger.abegin(KEY, fingerprint=FP)
    assert isinstance(entry, LedgerEntry)
    executor, free = busy_executor
    asyncio.get_running_loop().set_default_executor(executor)
    executor.submit(free.wait, 30)  # every store call now queues behind this job
    task = asyncio.create_task(entry.arecord(CALL))
    await asyncio.sleep(0)  # arecord submits its job to the queue
    task.cancel()  # ...and is cancelled before a thread has started it
    with pytest.raises(asyncio.CancelledError):
        await task
    free.set()
    await wait_for(store.done["complete"])
    assert ledger.begin(KEY, fingerprint=FP) == Completed(CALL)
    await entry.aabandon()  # the entry finished when the record was asked for: a no-op
    assert not store.started["release"].is_set()


async def test_a_cancelled_abandon_still_releases(
    store: GatedStore, busy_executor: tuple[ThreadPoolExecutor, threading.Event]
) -> None:
    ledger = IdempotencyLedger(store)
    entry = await ledger.abegin(KEY, fingerprint=FP)
    assert isinstance(entry, LedgerEntry)
    executor, free = busy_executor
    asyncio.get_running_loop().set_default_executor(executor)
    executor.submit(free.wait, 30)
    task = asyncio.create_task(entry.aabandon())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    free.set()
    await wait_for(store.done["release"])
    assert isinstance(ledger.begin(KEY, fingerprint=FP), LedgerEntry)


# --- through the async client ---------------------------------------------------------------------


def _call_body() -> dict[str, Any]:
    contract = json.loads((REPO / "api-contracts" / "stateset-voice-public.json").read_text())
    op = contract["paths"]["/api/v1/make-call"]["post"]
    value: dict[str, Any] = op["responses"]["201"]["content"]["application/json"]["examples"][
        "default"
    ]["value"]
    return value


async def _no_sleep(_: float) -> None:
    return None


async def test_cancelling_a_create_during_its_claim_does_not_block_the_retry(
    store: GatedStore, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/api/v1/make-call", method="POST").respond_with_json(
        _call_body(), status=201
    )
    reliability = ReliabilityConfig(
        sleep=lambda s: None, async_sleep=_no_sleep, budget=RetryBudget()
    )
    async with AsyncVoiceClient(
        "sk_test_ledger",
        base_url=httpserver.url_for("").rstrip("/"),
        ledger=IdempotencyLedger(store),
        reliability=reliability,
    ) as voice:
        params: dict[str, Any] = {
            "to": "+15555555678",
            "from_": "+15555551234",
            "agent_key": "front_desk",
            "idempotency_key": KEY,
        }
        store.gates["claim"].clear()
        task = asyncio.create_task(voice.calls.create(**params))
        await wait_for(store.started["claim"])
        task.cancel()  # as asyncio.wait_for(voice.calls.create(...), 0.2) does on a slow store
        with pytest.raises(asyncio.CancelledError):
            await task
        store.gates["claim"].set()
        await wait_for(store.done["release"])
        try:
            call = await voice.calls.create(**params)
        except DuplicateCallInFlightError:  # the orphaned claim of the cancelled create
            pytest.fail("the cancelled create's claim blocks the retry for its whole lease")
        assert call.call_id == _call_body()["call_id"]
    assert len(httpserver.log) == 1  # the cancelled create never sent anything
