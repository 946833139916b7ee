"""Exactly-once webhook handling over both stores: redelivery, concurrency, failures, crashes.

The consumer's behaviours run through ``process`` and ``aprocess`` (the ``flavour`` fixture,
tests/flavours.py); cancellation, which only ``aprocess`` has, is
tests/test_ledger_cancellation.py.
"""

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
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from stateset_voice_wrapper import InvalidParameterError, StateSetVoiceError
from stateset_voice_wrapper.stores import (
    LeaseStore,
    RedisLeaseStore,
    SqliteLeaseStore,
    StoreError,
)
from stateset_voice_wrapper.webhooks import (
    ExactlyOnceConsumer,
    InvalidEventError,
    ProcessResult,
    ProcessStatus,
    RedisDedupStore,
    SqliteDedupStore,
    event_dedup_key,
    parse_event,
)

if TYPE_CHECKING:
    from tests.flavours import Flavour
else:
    from flavours import Flavour

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

    def __call__(self, event: object) -> str:
        with self._lock:
            self.seen.append(event)
        return event.type if isinstance(event, Event) else "other"


def test_redelivered_event_runs_the_handler_once(flavour: Flavour, store: LeaseStore) -> None:
    consumer, handler = ExactlyOnceConsumer(store), Recorder()
    first = flavour.process(consumer, EVENT, handler)
    assert first == ProcessResult(HANDLED, f"id:{EVENT.id}", "call.completed")
    assert (first.handled, first.acknowledge) == (True, True)
    again = flavour.process(consumer, EVENT, handler)
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


def test_failing_handler_releases_so_a_redelivery_runs_it_again(
    flavour: Flavour, store: LeaseStore
) -> None:
    consumer, calls = ExactlyOnceConsumer(store), []

    def flaky(event: Event) -> str:
        calls.append(event)
        if len(calls) == 1:
            raise ConnectionError("CRM is down")
        return "ok"

    with pytest.raises(ConnectionError, match="CRM is down"):
        flavour.process(consumer, EVENT, flaky)
    assert flavour.process(consumer, EVENT, flaky) == ProcessResult(HANDLED, f"id:{EVENT.id}", "ok")
    assert len(calls) == 2
    assert flavour.process(consumer, EVENT, flaky).status is DUPLICATE


def _crash_in_handler(backend: Backend) -> None:
    def handler(event: Event) -> None:
        os._exit(3)  # the worker dies mid-handler: no release, no commit

    with backend.open() as store:
        ExactlyOnceConsumer(store, lease_seconds=30).process(EVENT, handler)


def test_crashed_handler_is_run_again_after_the_lease_expires(
    flavour: Flavour, backend: Backend, store: LeaseStore, clock: FakeClock
) -> None:
    worker = multiprocessing.get_context("spawn").Process(target=_crash_in_handler, args=(backend,))
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == 3
    clock.now = time.time()  # the child claimed on the real clock, before this instant

    consumer, handler = ExactlyOnceConsumer(store, lease_seconds=30), Recorder()
    assert flavour.process(consumer, EVENT, handler).status is IN_FLIGHT  # the dead worker's lease
    clock.advance(31)
    assert flavour.process(consumer, EVENT, handler).status is HANDLED
    assert flavour.process(consumer, EVENT, handler).status is DUPLICATE
    assert handler.seen == [EVENT]


def test_handler_outliving_its_lease_is_logged(
    flavour: Flavour, store: LeaseStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = ExactlyOnceConsumer(store, lease_seconds=30)
    late: list[ProcessResult[str]] = []
    runs: list[Event] = []

    def slow(event: Event) -> str:
        runs.append(event)
        clock.advance(31)
        if len(runs) == 1:  # a redelivery arrives after the lease and takes the event over
            late.append(consumer.process(EVENT, slow))  # another worker, sync either way
        return "done"

    with caplog.at_level(logging.WARNING, logger="stateset_voice_wrapper.webhooks"):
        result = flavour.process(consumer, EVENT, slow)
    assert result.status is HANDLED
    assert late[0].status is HANDLED
    assert len(runs) == 2  # the price of a lease shorter than the handler: an extra run
    assert "may have run twice" in caplog.text


# --- dedup keys: one function, event_dedup_key ---------------------------------------------------

CALL_COMPLETED: dict[str, Any] = {
    "type": "call.completed",
    "api_version": "2026-11-01",
    "occurred_at": "2026-11-20T15:05:45Z",
    "tenant_id": "ten_1",
    "call_id": "call_9",
    "data": {
        "call_id": "call_9",
        "status": "completed",
        "direction": "outbound",
        "agent_key": "front_desk",
        "duration_seconds": 42,
    },
}


def test_the_consumer_uses_event_dedup_key() -> None:
    for event in (EVENT, {"id": "evt_1", "type": "call.failed"}, parse_event(CALL_COMPLETED)):
        assert ExactlyOnceConsumer.dedup_key(event) == event_dedup_key(event)


def test_events_with_an_id_dedup_on_the_namespaced_id() -> None:
    assert event_dedup_key(EVENT) == f"id:{EVENT.id}"
    assert event_dedup_key({"id": "evt_1", "type": "call.failed"}) == "id:evt_1"
    typed = parse_event({**CALL_COMPLETED, "id": "evt_1"})
    assert event_dedup_key(typed) == "id:evt_1"


def test_a_parsed_event_without_an_id_is_deduplicated_by_the_consumer(
    flavour: Flavour, store: LeaseStore
) -> None:
    # parse_event reads a missing id as "" and names the type `type_`: the consumer used to
    # read `type` and refuse the event.
    typed = parse_event(CALL_COMPLETED)
    consumer, handler = ExactlyOnceConsumer(store), Recorder()
    assert flavour.process(consumer, typed, handler).status is HANDLED
    assert flavour.process(consumer, parse_event(CALL_COMPLETED), handler).status is DUPLICATE
    assert len(handler.seen) == 1


def test_typed_events_and_mappings_share_a_key() -> None:
    key = event_dedup_key(parse_event(CALL_COMPLETED))
    assert key.startswith("fallback:")
    assert event_dedup_key(CALL_COMPLETED) == key
    assert event_dedup_key({**CALL_COMPLETED, "id": None}) == key
    assert event_dedup_key({**CALL_COMPLETED, "id": "", "session_id": None}) == key
    reordered = dict(reversed(list(CALL_COMPLETED.items())))
    assert event_dedup_key(reordered) == key
    # An unknown type too (kept as UnknownEvent, with its envelope).
    unknown = {**CALL_COMPLETED, "type": "call.teleported", "extra": [1, 2]}
    assert event_dedup_key(parse_event(unknown)) == event_dedup_key(unknown)


def test_distinct_events_without_ids_never_share_a_key() -> None:
    first = {**CALL_COMPLETED}
    second = {**CALL_COMPLETED, "occurred_at": "2026-11-20T15:07:00Z"}  # same call, same type
    third = {**CALL_COMPLETED, "data": {**CALL_COMPLETED["data"], "duration_seconds": 43}}
    keys = {event_dedup_key(e) for e in (first, second, third)}
    assert len(keys) == 3
    # Attribute events without a payload model: their fields are the payload.
    a = Event(id=None, type="call.completed", call_id="call_1")
    b = Event(id=None, type="call.failed", call_id="call_1")
    assert event_dedup_key(a) != event_dedup_key(b)
    assert event_dedup_key(a) == event_dedup_key(
        Event(id="", type="call.completed", call_id="call_1")
    )


def test_a_fallback_key_never_equals_an_id_key() -> None:
    fallback = event_dedup_key(CALL_COMPLETED)
    mimic = {"id": fallback, "type": "call.completed"}  # an id shaped like a fallback key
    assert event_dedup_key(mimic) != fallback
    legacy_shape = {"id": "call_9:call.completed", "type": "call.completed"}
    assert event_dedup_key(legacy_shape) != event_dedup_key(CALL_COMPLETED)


def test_id_less_events_that_cannot_be_deduplicated_raise_invalid_event_error() -> None:
    no_subject = {k: v for k, v in CALL_COMPLETED.items() if k != "call_id"}
    for event in (
        no_subject,
        Event(id=None, type="call.completed"),
        {"call_id": "call_1"},  # no type
        object(),
        {"id": 7, "type": "call.completed"},  # an id that is not a string
        {"type": "call.completed", "call_id": "c", "data": {"x": float("nan")}},
    ):
        with pytest.raises(InvalidEventError) as caught:
            event_dedup_key(event)
        assert isinstance(caught.value, StateSetVoiceError)


def test_the_consumer_refuses_an_undeduplicatable_event_with_invalid_event_error(
    flavour: Flavour,
    store: LeaseStore,
) -> None:
    handler = Recorder()
    with pytest.raises(InvalidEventError):
        flavour.process(ExactlyOnceConsumer(store), Event(id=None, type="call.completed"), handler)
    assert handler.seen == []


def test_events_without_ids_are_deduplicated_by_their_payload(
    flavour: Flavour, store: LeaseStore
) -> None:
    consumer, handler = ExactlyOnceConsumer(store), Recorder()
    completed = Event(id=None, type="call.completed", call_id="call_1")
    failed = Event(id=None, type="call.failed", call_id="call_1")
    assert flavour.process(consumer, completed, handler).status is HANDLED
    assert flavour.process(consumer, completed, handler).status is DUPLICATE
    assert flavour.process(consumer, failed, handler).status is HANDLED
    second_completion = {**CALL_COMPLETED, "occurred_at": "2026-11-21T09:00:00Z"}
    assert flavour.process(consumer, CALL_COMPLETED, handler).status is HANDLED
    assert flavour.process(consumer, second_completion, handler).status is HANDLED  # not merged
    assert flavour.process(consumer, parse_event(CALL_COMPLETED), handler).status is DUPLICATE
    assert len(handler.seen) == 4


def test_bad_lease_is_invalid_parameter(store: LeaseStore) -> None:
    for lease in (0, -1, float("nan"), float("inf")):
        with pytest.raises(InvalidParameterError, match="lease_seconds"):
            ExactlyOnceConsumer(store, lease_seconds=lease)


def test_a_key_held_by_something_else_is_a_store_error(flavour: Flavour, store: LeaseStore) -> None:
    store.claim(event_dedup_key(EVENT), fingerprint="a ledger's fingerprint", lease_seconds=30)
    with pytest.raises(StoreError, match="own namespace"):
        flavour.process(ExactlyOnceConsumer(store), EVENT, Recorder())


def test_a_delivery_during_handling_is_in_flight(flavour: Flavour, store: LeaseStore) -> None:
    consumer = ExactlyOnceConsumer(store)
    during: list[ProcessResult[None]] = []

    def handler(event: Event) -> None:
        during.append(ExactlyOnceConsumer(store).process(EVENT, noop))  # a second worker

    def noop(event: Event) -> None:
        raise AssertionError("must not run while the event is in flight")

    assert flavour.process(consumer, EVENT, handler).status is HANDLED
    assert [r.status for r in during] == [IN_FLIGHT]
    assert during[0].acknowledge is False
    assert flavour.process(consumer, EVENT, noop).status is DUPLICATE


async def test_an_async_delivery_on_the_same_loop_during_handling_is_in_flight(
    store: LeaseStore,
) -> None:
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
