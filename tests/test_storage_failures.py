"""Store failures surface as typed errors that say what happened to the call or event.

Failures are injected into the backend calls themselves (a SQLite connection whose statements
fail, a Redis client whose commands fail before they are sent or lose their reply after the
server ran them) and, for Redis, by stopping a real redis-server.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from stateset_voice_wrapper import APITimeoutError, DuplicateCallInFlightError, StateSetVoiceError
from stateset_voice_wrapper.stores import (
    Claimed,
    Completed,
    HandledNotCommittedError,
    IdempotencyLedger,
    InFlight,
    LedgerEntry,
    LedgerRecordError,
    RedisLeaseStore,
    SqliteLeaseStore,
    StoreError,
)
from stateset_voice_wrapper.webhooks import ExactlyOnceConsumer, ProcessStatus

if TYPE_CHECKING:
    from tests.flavours import Flavour
else:
    from flavours import Flavour

if TYPE_CHECKING:
    from tests.clocks import T0, FakeClock
else:
    from clocks import T0, FakeClock

CALL = b'{"id":"call_1","to":"+15555555678"}'
PHONE = "+15555555678"


@attrs.define
class Faults:
    """The next ``remaining`` backend calls naming one of ``commands`` (all, if empty) fail.

    ``when="before"``: the call never reaches the backend. ``when="after"``: it runs, and then
    its answer is lost (for Redis, the reply after the server executed the command).
    """

    remaining: int = 0
    when: str = "before"
    commands: frozenset[str] = frozenset()
    failed: int = 0

    def fail(self, count: int, *, when: str = "before", commands: str = "") -> None:
        self.remaining, self.when = count, when
        self.commands = frozenset(commands.upper().split())

    def hit(self, command: str, when: str) -> bool:
        if self.remaining <= 0 or when != self.when:
            return False
        if self.commands and command.upper() not in self.commands:
            return False
        self.remaining -= 1
        self.failed += 1
        return True


class FaultySqliteConnection(sqlite3.Connection):
    faults: Faults

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        command = sql.split(None, 1)[0]
        if self.faults.hit(command, "before"):
            raise sqlite3.OperationalError("disk I/O error")
        cursor = super().execute(sql, parameters)
        if self.faults.hit(command, "after"):
            raise sqlite3.OperationalError("disk I/O error")
        return cursor


class FaultySqliteStore(SqliteLeaseStore):
    def __init__(self, path: str | os.PathLike[str], *, faults: Faults, **kwargs: Any) -> None:
        self.faults = faults
        super().__init__(path, **kwargs)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            factory=FaultySqliteConnection,
        )
        assert isinstance(conn, FaultySqliteConnection)
        conn.faults = self.faults
        conn.execute("PRAGMA synchronous=FULL")
        return conn


class FaultyRedis(redis.Redis):
    """A real client whose commands fail on ``faults``' schedule (no client-side retries)."""

    faults: Faults

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self.faults.hit(str(args[0]), "before"):
            raise redis.ConnectionError("injected: connection reset before sending")
        return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    def parse_response(self, connection: Any, command_name: Any, **options: Any) -> Any:
        response = super().parse_response(connection, command_name, **options)  # type: ignore[no-untyped-call]
        if self.faults.hit(str(command_name), "after"):
            raise redis.ConnectionError("injected: connection reset before the reply")
        return response


def faulty_redis(url: str, faults: Faults, *, retries: int = 0) -> FaultyRedis:
    client = FaultyRedis.from_url(url, retry=Retry(NoBackoff(), retries))
    assert isinstance(client, FaultyRedis)
    client.faults = faults
    return client


@attrs.frozen
class Opened:
    store: SqliteLeaseStore | RedisLeaseStore
    faults: Faults
    clock: FakeClock
    backend_error: type[BaseException]


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opened]:
    faults, clock = Faults(), FakeClock()
    store: SqliteLeaseStore | RedisLeaseStore
    if request.param == "sqlite":
        store = FaultySqliteStore(tmp_path / "s.db", faults=faults, clock=clock)
        error: type[BaseException] = sqlite3.OperationalError
        yield Opened(store, faults, clock, error)
        store.close()
        return
    client = faulty_redis(request.getfixturevalue("redis_url"), faults)
    store = RedisLeaseStore(client, namespace=f"test-faults-{uuid.uuid4().hex}", clock=clock)
    yield Opened(store, faults, clock, redis.ConnectionError)
    store.close()
    client.close()


# --- the lease store ----------------------------------------------------------------------------


def test_every_operation_wraps_backend_failures_naming_operation_and_key(opened: Opened) -> None:
    store, faults = opened.store, opened.faults
    token = store.claim("appt-1", fingerprint="f", lease_seconds=30)
    assert isinstance(token, Claimed)
    operations: dict[str, Callable[[], object]] = {
        "claim": lambda: store.claim("appt-1", fingerprint="f", lease_seconds=30),
        "complete": lambda: store.complete("appt-1", token=token.token, result=CALL),
        "release": lambda: store.release("appt-1", token=token.token),
        "read": lambda: store.get("appt-1"),
    }
    for name, operation in operations.items():
        faults.fail(1)
        with pytest.raises(StoreError) as caught:
            operation()
        message = str(caught.value)
        assert f"{name} of key 'appt-1' failed" in message
        assert isinstance(caught.value.__cause__, opened.backend_error)
        assert PHONE not in message  # never the stored bytes
        assert "call_1" not in message
        assert isinstance(caught.value, StateSetVoiceError)
    assert faults.failed == 4
    # Nothing was applied by the failed operations: the claim is still live and ours.
    assert store.get("appt-1") == InFlight(T0 + 30)
    assert store.complete("appt-1", token=token.token, result=CALL) is True


def test_a_write_applied_before_its_reply_was_lost_is_reported_as_failed(opened: Opened) -> None:
    # The caller cannot tell whether a failed write landed; the typed error says "failed" and
    # the state machine stays consistent either way (here it did land).
    store, faults = opened.store, opened.faults
    faults.fail(1, when="after", commands="COMMIT EVALSHA EVAL")
    with pytest.raises(StoreError, match="claim of key 'k' failed"):
        store.claim("k", fingerprint="f", lease_seconds=30)
    assert store.get("k") == InFlight(T0 + 30)  # the claim landed; nobody holds its token
    opened.clock.advance(30)
    assert isinstance(store.claim("k", fingerprint="f", lease_seconds=30), Claimed)


@pytest.mark.redis
def test_redis_client_retry_after_a_lost_reply_answers_as_the_first_run(redis_url: str) -> None:
    # redis-py re-sends a command whose reply was lost. The claim script ran the first time, so
    # the re-sent compare-and-set fails; the store reads again, sees its own token, and answers
    # Claimed: without that, the caller would be told InFlight for its own claim.
    faults, clock = Faults(), FakeClock()
    client = faulty_redis(redis_url, faults, retries=1)
    store = RedisLeaseStore(client, namespace=f"test-retry-{uuid.uuid4().hex}", clock=clock)
    try:
        faults.fail(1, when="after", commands="EVALSHA EVAL")
        claim = store.claim("k", fingerprint="f", lease_seconds=30)
        assert faults.failed == 1
        assert isinstance(claim, Claimed)
        faults.fail(1, when="after", commands="EVALSHA EVAL")
        assert store.complete("k", token=claim.token, result=b"r") is True
        assert faults.failed == 2
        assert store.get("k") == Completed(b"r")
    finally:
        store.close()
        client.close()


# --- the ledger ---------------------------------------------------------------------------------


def test_a_failed_begin_says_nothing_was_sent(flavour: Flavour, opened: Opened) -> None:
    ledger = IdempotencyLedger(opened.store)
    opened.faults.fail(1)
    with pytest.raises(StoreError) as caught:
        flavour.begin(ledger, "appt-1", fingerprint="f")
    assert caught.value.idempotency_key == "appt-1"
    assert "nothing was sent" in str(caught.value)
    assert type(caught.value.__cause__) is StoreError


def test_a_failed_record_carries_the_placed_call(flavour: Flavour, opened: Opened) -> None:
    ledger = IdempotencyLedger(opened.store)
    entry = flavour.begin(ledger, "appt-1", fingerprint="f", scope="tenant-a")
    assert isinstance(entry, LedgerEntry)
    opened.faults.fail(1)
    with pytest.raises(LedgerRecordError) as caught:
        flavour.record(entry, CALL)
    error = caught.value
    assert isinstance(error, StoreError)
    assert (error.key, error.scope, error.result) == ("appt-1", "tenant-a", CALL)
    assert error.idempotency_key == "appt-1"
    assert "was placed" in str(error)
    assert PHONE not in str(error)
    assert PHONE not in repr(error)
    flavour.abandon(entry)  # after a failed record: nothing to do, and no exception
    assert opened.faults.failed == 1
    # The key stays claimed (no second call meanwhile), then the same parameters take it over
    # and re-send the same key, which the server deduplicates.
    with pytest.raises(DuplicateCallInFlightError):
        flavour.begin(ledger, "appt-1", fingerprint="f", scope="tenant-a")
    opened.clock.advance(ledger.lease_seconds)
    taken_over = flavour.begin(ledger, "appt-1", fingerprint="f", scope="tenant-a")
    assert isinstance(taken_over, LedgerEntry)


def test_a_failed_abandon_never_masks_the_callers_error(
    flavour: Flavour, opened: Opened, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = IdempotencyLedger(opened.store)
    entry = flavour.begin(ledger, "appt-1", fingerprint="f")
    assert isinstance(entry, LedgerEntry)
    opened.faults.fail(10)  # the store is down for good

    def create() -> None:
        try:
            raise APITimeoutError("the deadline ran out", idempotency_key="appt-1")
        except BaseException:
            flavour.abandon(entry)
            raise

    with (
        caplog.at_level(logging.WARNING, logger="stateset_voice.ledger"),
        pytest.raises(APITimeoutError, match="deadline"),
    ):
        create()
    assert "could not release the claim" in caplog.text
    assert "'appt-1'" in caplog.text


# --- a real Redis outage ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test's own, with an append-only file so a restart keeps data."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed (scripts/ensure-system-deps)"
        self.binary, self.workdir, self.port = binary, workdir, _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.workdir)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)  # polling a child process's startup, not test logic

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()  # SIGTERM: redis-server flushes its append-only file and exits
        self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            server.stop()


@pytest.mark.redis
def test_a_stopped_redis_gives_typed_errors_and_the_state_survives_a_restart(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    client = redis.Redis.from_url(private_redis.url, retry=Retry(NoBackoff(), 0))
    store = RedisLeaseStore(client, namespace="calls", clock=clock)
    ledger = IdempotencyLedger(store)
    try:
        placed = ledger.begin("appt-1", fingerprint="f")
        failing = ledger.begin("appt-2", fingerprint="f")
        assert isinstance(placed, LedgerEntry)
        assert isinstance(failing, LedgerEntry)
        private_redis.stop()

        with pytest.raises(LedgerRecordError) as caught:
            placed.record(CALL)
        assert isinstance(caught.value.__cause__, redis.ConnectionError | StoreError)
        assert caught.value.result == CALL

        def create() -> None:
            try:
                raise APITimeoutError("the call failed while Redis is down")
            except APITimeoutError:
                failing.abandon()  # must not replace the API error
                raise

        with (
            caplog.at_level(logging.WARNING, logger="stateset_voice.ledger"),
            pytest.raises(APITimeoutError, match="Redis is down"),
        ):
            create()
        assert "could not release" in caplog.text
        with pytest.raises(StoreError, match="nothing was sent"):
            ledger.begin("appt-3", fingerprint="f")

        private_redis.start()
        # Both claims survived the restart: no other worker can place either call meanwhile.
        with pytest.raises(DuplicateCallInFlightError):
            ledger.begin("appt-1", fingerprint="f")
        with pytest.raises(DuplicateCallInFlightError):
            ledger.begin("appt-2", fingerprint="f")
        assert isinstance(ledger.begin("appt-3", fingerprint="f"), LedgerEntry)
    finally:
        store.close()
        client.close()


# --- the webhook consumer -----------------------------------------------------------------------

EVENT = {"id": "evt_1", "type": "call.completed", "call_id": "call_1"}


class Runs:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, event: object) -> str:
        self.count += 1
        return "crm-row-7"


def _consumer(opened: Opened, slept: list[float], **options: Any) -> ExactlyOnceConsumer:
    """A consumer whose commit-retry pauses, sync or async, are only recorded in ``slept``."""

    async def async_sleep(seconds: float) -> None:
        slept.append(seconds)

    return ExactlyOnceConsumer(opened.store, sleep=slept.append, async_sleep=async_sleep, **options)


def _commit_faults(opened: Opened, count: int) -> None:
    # The claim's writes pass; the commit's write fails ``count`` times.
    opened.faults.fail(count, commands="INSERT EVALSHA EVAL")


def test_a_failed_commit_is_retried_within_the_lease(flavour: Flavour, opened: Opened) -> None:
    slept: list[float] = []
    consumer = _consumer(opened, slept)
    runs = 0

    def handler(event: object) -> str:
        nonlocal runs
        runs += 1
        _commit_faults(opened, 2)  # the next two commit attempts fail, the third lands
        return "crm-row-7"

    result = flavour.process(consumer, EVENT, handler)
    assert result.status is ProcessStatus.HANDLED
    assert result.value == "crm-row-7"
    assert opened.faults.failed == 2
    assert slept == [0.05, 0.25]
    assert flavour.process(consumer, EVENT, handler).status is ProcessStatus.DUPLICATE
    assert runs == 1


def test_a_commit_that_keeps_failing_raises_handled_not_committed(
    flavour: Flavour, opened: Opened
) -> None:
    slept: list[float] = []
    consumer = _consumer(opened, slept)

    def handler(event: object) -> str:
        _commit_faults(opened, 100)  # the store goes down after the handler's side effect
        return "crm-row-7"

    with pytest.raises(HandledNotCommittedError) as caught:
        flavour.process(consumer, EVENT, handler)
    error = caught.value
    assert (error.key, error.value) == ("id:evt_1", "crm-row-7")
    assert isinstance(error, StoreError)
    assert isinstance(error.__cause__, StoreError)
    assert "acknowledge" in str(error)
    assert slept == [0.05, 0.25, 1.0]
    opened.faults.fail(0)
    # The claim is kept: a redelivery during the lease does not run the handler again.
    runs = Runs()
    assert flavour.process(consumer, EVENT, runs).status is ProcessStatus.IN_FLIGHT
    assert runs.count == 0


def test_commit_retries_fit_in_half_a_short_lease(flavour: Flavour, opened: Opened) -> None:
    slept: list[float] = []
    consumer = _consumer(opened, slept, lease_seconds=0.8)

    def handler(event: object) -> str:
        _commit_faults(opened, 100)
        return "x"

    with pytest.raises(HandledNotCommittedError):
        flavour.process(consumer, EVENT, handler)
    assert slept == [0.05, 0.25]  # 1.0 more would exceed half the 0.8 s lease


def test_a_failed_release_never_masks_the_handlers_error(
    flavour: Flavour, opened: Opened, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = ExactlyOnceConsumer(opened.store)

    def handler(event: object) -> None:
        opened.faults.fail(100)
        raise ConnectionError("CRM is down")

    with (
        caplog.at_level(logging.WARNING, logger="stateset_voice.webhooks"),
        pytest.raises(ConnectionError, match="CRM is down"),
    ):
        flavour.process(consumer, EVENT, handler)
    assert "could not release webhook event 'id:evt_1'" in caplog.text


def test_a_failed_claim_is_a_store_error_and_runs_nothing(flavour: Flavour, opened: Opened) -> None:
    consumer, runs = ExactlyOnceConsumer(opened.store), Runs()
    opened.faults.fail(1)
    with pytest.raises(StoreError, match="claim of key 'id:evt_1' failed"):
        flavour.process(consumer, EVENT, runs)
    assert runs.count == 0
