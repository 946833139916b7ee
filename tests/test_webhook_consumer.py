"""Exactly-once webhook handling over both stores: redelivery, concurrency, failures, crashes."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest

from stateset_voice_wrapper.stores import LeaseStore, RedisLeaseStore, SqliteLeaseStore
from stateset_voice_wrapper.webhooks import (
    ExactlyOnceConsumer,
    ProcessResult,
    ProcessStatus,
    RedisDedupStore,
    SqliteDedupStore,
)

HANDLED, DUPLICATE, IN_FLIGHT = (
    ProcessStatus.HANDLED,
    ProcessStatus.DUPLICATE,
    ProcessStatus.IN_FLIGHT,
)


@attrs.frozen
class Event:
    id: str | None
    type: str
    call_id: str | None = None
    session_id: str | None = None


EVENT = Event(id="evt_01JD4ZC8H2J5K7L9M3N6P8Q1R4", type="call.completed", call_id="call_1")


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@attrs.frozen
class Backend:
    """Where the dedup store lives; plain strings so that spawned processes can open it too."""

    kind: str
    location: str
    namespace: str

    def open(self, clock: Any = time.time) -> SqliteDedupStore | RedisDedupStore:
        if self.kind == "sqlite":
            return SqliteDedupStore(self.location, namespace=self.namespace, clock=clock)
        return RedisDedupStore(self.location, namespace=self.namespace, clock=clock)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    namespace = f"test-webhooks-{uuid.uuid4().hex}"
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "webhooks.db"), namespace)
    return Backend("redis", request.getfixturevalue("redis_url"), namespace)


@pytest.fixture
def clock() -> FakeClock:
    # Near real time, so that claims made by a child process on the real clock line up.
    return FakeClock(time.time())


@pytest.fixture
def store(backend: Backend, clock: FakeClock) -> Iterator[LeaseStore]:
    opened = backend.open(clock)
    yield opened
    opened.close()


class Recorder:
    """A handler that counts its runs and returns the event type."""

    def __init__(self) -> None:
        self.seen: list[object] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> str:
        with self._lock:
            self.seen.append(event)
        return event.type


def test_redelivered_event_runs_the_handler_once(store: LeaseStore) -> None:
    consumer, handler = ExactlyOnceConsumer(store), Recorder()
    first = consumer.process(EVENT, handler)
    assert first == ProcessResult(HANDLED, EVENT.id or "", "call.completed")
    assert (first.handled, first.acknowledge) == (True, True)
    again = consumer.process(EVENT, handler)
    assert (again.status, again.duplicate, again.acknowledge, again.value) == (
        DUPLICATE,
        True,
        True,
        None,
    )
    assert handler.seen == [EVENT]


def test_concurrent_deliveries_in_threads_run_the_handler_once(store: LeaseStore) -> None:
    consumer = ExactlyOnceConsumer(store)
    start, others_done, returned = threading.Barrier(20), threading.Event(), threading.Semaphore(0)
    runs: list[Event] = []

    def slow_handler(event: Event) -> None:
        runs.append(event)
        assert others_done.wait(timeout=30)  # hold the claim while every other delivery arrives

    def deliver(_: int) -> ProcessStatus:
        start.wait(timeout=30)
        status = consumer.process(EVENT, slow_handler).status
        returned.release()
        return status

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(deliver, i) for i in range(20)]
        for _ in range(19):  # every delivery but the handling one comes back while it runs
            assert returned.acquire(timeout=30)
        others_done.set()
        statuses = [future.result(timeout=30) for future in futures]
    assert statuses.count(HANDLED) == 1
    assert statuses.count(IN_FLIGHT) == 19
    assert len(runs) == 1
    assert ExactlyOnceConsumer(store).process(EVENT, slow_handler).status is DUPLICATE


def _deliver_in_child(backend: Backend, start: Any, results: Any, runs_file: str) -> None:
    def handler(event: Event) -> None:
        with open(runs_file, "a") as runs:
            runs.write(f"{os.getpid()}\n")

    with backend.open() as store:
        start.wait(timeout=60)
        results.put(ExactlyOnceConsumer(store).process(EVENT, handler).status.value)


def test_concurrent_deliveries_in_two_processes_run_the_handler_once(
    backend: Backend, tmp_path: Path
) -> None:
    backend.open().close()  # create the SQLite file before the race, as a deployment would
    runs_file = tmp_path / "runs.txt"
    runs_file.touch()
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=_deliver_in_child, args=(backend, start, results, str(runs_file)))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        statuses = sorted(results.get(timeout=60) for _ in workers)
    finally:
        for worker in workers:
            worker.join(timeout=30)
    assert statuses in (["duplicate", "handled"], ["handled", "in_flight"])
    assert len(runs_file.read_text().splitlines()) == 1
    with backend.open() as store:  # whichever way the race went, a redelivery is a duplicate
        assert ExactlyOnceConsumer(store).process(EVENT, Recorder()).status is DUPLICATE


def test_failing_handler_releases_so_a_redelivery_runs_it_again(store: LeaseStore) -> None:
    consumer, calls = ExactlyOnceConsumer(store), []

    def flaky(event: Event) -> str:
        calls.append(event)
        if len(calls) == 1:
            raise ConnectionError("CRM is down")
        return "ok"

    with pytest.raises(ConnectionError, match="CRM is down"):
        consumer.process(EVENT, flaky)
    assert consumer.process(EVENT, flaky) == ProcessResult(HANDLED, EVENT.id or "", "ok")
    assert len(calls) == 2
    assert consumer.process(EVENT, flaky).status is DUPLICATE


def _crash_in_handler(backend: Backend) -> None:
    def handler(event: Event) -> None:
        os._exit(3)  # the worker dies mid-handler: no release, no commit

    with backend.open() as store:
        ExactlyOnceConsumer(store, lease_seconds=30).process(EVENT, handler)


def test_crashed_handler_is_run_again_after_the_lease_expires(
    backend: Backend, store: LeaseStore, clock: FakeClock
) -> None:
    worker = multiprocessing.get_context("spawn").Process(target=_crash_in_handler, args=(backend,))
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == 3
    clock.now = time.time()  # the child claimed on the real clock, before this instant

    consumer, handler = ExactlyOnceConsumer(store, lease_seconds=30), Recorder()
    assert consumer.process(EVENT, handler).status is IN_FLIGHT  # the dead worker's lease
    clock.advance(31)
    assert consumer.process(EVENT, handler).status is HANDLED
    assert consumer.process(EVENT, handler).status is DUPLICATE
    assert handler.seen == [EVENT]


def test_handler_outliving_its_lease_is_logged(
    store: LeaseStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = ExactlyOnceConsumer(store, lease_seconds=30)
    late: list[ProcessResult[str]] = []
    runs: list[Event] = []

    def slow(event: Event) -> str:
        runs.append(event)
        clock.advance(31)
        if len(runs) == 1:  # a redelivery arrives after the lease and takes the event over
            late.append(consumer.process(EVENT, slow))
        return "done"

    with caplog.at_level(logging.WARNING, logger="stateset_voice_wrapper.webhooks"):
        result = consumer.process(EVENT, slow)
    assert result.status is HANDLED
    assert late[0].status is HANDLED
    assert len(runs) == 2  # the price of a lease shorter than the handler: an extra run
    assert "may have run twice" in caplog.text


@pytest.mark.parametrize(
    ("event", "key"),
    [
        (EVENT, EVENT.id),
        (Event(id=None, type="call.completed", call_id="call_1"), "call_1:call.completed"),
        (Event(id="", type="session.ended", session_id="sess_1"), "sess_1:session.ended"),
        (
            Event(id=None, type="session.ended", call_id="call_1", session_id="s"),
            "call_1:session.ended",
        ),
        ({"id": None, "type": "call.failed", "call_id": "call_9"}, "call_9:call.failed"),
        ({"id": "evt_1", "type": "call.failed"}, "evt_1"),
    ],
)
def test_dedup_key_falls_back_to_call_or_session_and_type(
    tmp_path: Path, event: object, key: str
) -> None:
    with SqliteDedupStore(tmp_path / "webhooks.db") as store:
        assert ExactlyOnceConsumer(store).dedup_key(event) == key


def test_dedup_key_needs_an_id_or_a_subject_and_type(tmp_path: Path) -> None:
    with SqliteDedupStore(tmp_path / "webhooks.db") as store:
        consumer = ExactlyOnceConsumer(store)
        for event in (Event(id=None, type="call.completed"), {"call_id": "call_1"}, object()):
            with pytest.raises(ValueError, match="cannot deduplicate"):
                consumer.dedup_key(event)


def test_events_without_ids_are_deduplicated_by_call_and_type(store: LeaseStore) -> None:
    consumer, handler = ExactlyOnceConsumer(store), Recorder()
    completed = Event(id=None, type="call.completed", call_id="call_1")
    failed = Event(id=None, type="call.failed", call_id="call_1")
    assert consumer.process(completed, handler).status is HANDLED
    assert consumer.process(completed, handler).status is DUPLICATE
    assert consumer.process(failed, handler).status is HANDLED
    assert handler.seen == [completed, failed]


async def test_async_process_handles_once_and_releases_on_failure(store: LeaseStore) -> None:
    consumer, calls = ExactlyOnceConsumer(store), []

    async def handler(event: Event) -> int:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("transient")
        return len(calls)

    with pytest.raises(RuntimeError, match="transient"):
        await consumer.aprocess(EVENT, handler)
    assert await consumer.aprocess(EVENT, handler) == ProcessResult(HANDLED, EVENT.id or "", 2)
    assert (await consumer.aprocess(EVENT, handler)).status is DUPLICATE
    assert len(calls) == 2


async def test_async_delivery_during_handling_is_in_flight(store: LeaseStore) -> None:
    consumer = ExactlyOnceConsumer(store)
    during: list[ProcessResult[None]] = []

    async def handler(event: Event) -> None:
        during.append(await consumer.aprocess(EVENT, noop))

    async def noop(event: Event) -> None:
        raise AssertionError("must not run while the event is in flight")

    assert (await consumer.aprocess(EVENT, handler)).status is HANDLED
    assert [r.status for r in during] == [IN_FLIGHT]
    assert during[0].acknowledge is False


def test_dedup_stores_default_to_their_own_namespace(tmp_path: Path) -> None:
    with SqliteDedupStore(tmp_path / "webhooks.db") as sqlite_store:
        assert isinstance(sqlite_store, SqliteLeaseStore)
        assert sqlite_store.namespace == "webhooks"


@pytest.mark.redis
def test_redis_dedup_store_namespace(redis_url: str) -> None:
    with RedisDedupStore(redis_url) as redis_store:
        assert isinstance(redis_store, RedisLeaseStore)
        assert redis_store.namespace == "stateset_voice:webhooks"
