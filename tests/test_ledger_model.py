"""Model-based tests: the ledger and the webhook consumer against models of their environment.

The ledger runs against a modelled StateSet server that deduplicates on (tenant, idempotency
key) and, on a repeated key, replays the call it holds *whatever the parameters* (the worst
case: it never checks). Hypothesis interleaves creates (claim, send, record), crashes (a claim
and nothing after it), abandons (``maybe_sent`` true or false), retries with other parameters,
two tenants (scopes) on one store, failures injected into the store's backend calls (before a
call runs, or after it ran with its reply lost; for Redis also a real ``CLIENT KILL``), async
calls, and lease expiry through the injected clock. After every step:

* no caller is ever told the call of another parameter set (checked where a call is returned);
* every call the server holds is protected in the ledger: a live record with that call's
  fingerprint (recorded, in flight, or remembered), so other parameters are refused before
  anything is sent, for as long as the server would replay it;
* two attempts never hold one key while both leases are live;
* a recorded call is replayed (or its key refused to other parameters) for the retention,
  unless a store failure hit that very step.

The consumer runs against deliveries with handlers that succeed, raise, crash mid-handler or
after their side effect, and outlive their lease, with the same store failures. Its handler
succeeds at most once per event plus once per crash-after-effect, lease overrun or uncommitted
commit, and an acknowledged delivery always had a successful run.

``make check`` runs a fixed number of derandomized examples; ``HYPOTHESIS_PROFILE=long`` runs
many more (see docs/idempotency-ledger.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from stateset_voice_wrapper import DuplicateCallInFlightError, IdempotencyConflictError
from stateset_voice_wrapper._storage.keys import _stored_key
from stateset_voice_wrapper._storage.leases import _live
from stateset_voice_wrapper.stores import (
    ClaimOutcome,
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
from stateset_voice_wrapper.webhooks import ExactlyOnceConsumer, ProcessStatus, event_dedup_key

# tests/ is not a package: pytest puts it on sys.path, while mypy names it tests.<module>.
if TYPE_CHECKING:
    from tests.test_storage_failures import Faults, FaultySqliteStore, faulty_redis
else:
    from test_storage_failures import Faults, FaultySqliteStore, faulty_redis

T0 = 1_800_000_000.0
LEASE = 100.0
RETENTION = 1_000.0
# ("a", "b:c") and ("a:b", "c") would collide if scope and key were joined by a plain ":".
COMBOS = tuple((scope, key) for scope in ("a", "a:b") for key in ("b:c", "c"))
FINGERPRINTS = ("params-A", "params-B")
WORKERS = 2


LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"


def _profile() -> tuple[int, int]:
    """(examples, steps per example): fixed in ``make check``; many more when asked."""
    return (2_000, 80) if LONG else (100, 40)


def _settings() -> settings:
    examples, steps = _profile()
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        derandomize=not LONG,  # make check explores the same examples on every run
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


# --- where the store lives ------------------------------------------------------------------------


class Backend:
    """Opens, for one example, faulty stores for the workers and a clean one for observing."""

    def __init__(
        self, kind: str, redis_url: str, clock: FakeClock, retention: float = RETENTION
    ) -> None:
        self.kind, self.redis_url, self.clock, self.retention = kind, redis_url, clock, retention
        self.namespace = f"model-{uuid.uuid4().hex}"
        self.directory = tempfile.mkdtemp(prefix="ledger-model-")
        self.path = os.path.join(self.directory, "ledger.db")
        self.clients: list[redis.Redis] = []
        self.names: list[str] = []

    def open(self, worker: int, faults: Faults) -> SqliteLeaseStore | RedisLeaseStore:
        if self.kind == "sqlite":
            return FaultySqliteStore(
                self.path, faults=faults, namespace="calls", clock=self.clock,
                retention_seconds=self.retention,
            )  # fmt: skip
        # Worker 0's client re-sends a command whose reply was lost (redis-py's default
        # behaviour); worker 1's does not, so its failures reach the ledger.
        client = faulty_redis(self.redis_url, faults, retries=1 if worker == 0 else 0)
        name = f"{self.namespace}-w{worker}"
        client.client_setname(name)
        self.clients.append(client)
        self.names.append(name)
        return RedisLeaseStore(
            client, namespace=self.namespace, clock=self.clock, retention_seconds=self.retention
        )

    def observer(self) -> SqliteLeaseStore | RedisLeaseStore:
        if self.kind == "sqlite":
            return SqliteLeaseStore(
                self.path, namespace="calls", clock=self.clock, retention_seconds=self.retention
            )
        return RedisLeaseStore(
            self.redis_url,
            namespace=self.namespace,
            clock=self.clock,
            retention_seconds=self.retention,
        )

    def kill_connections(self, worker: int) -> int:
        """CLIENT KILL every connection of the worker's client, from another connection."""
        admin = redis.Redis.from_url(self.redis_url)
        try:
            killed = 0
            for info in admin.client_list():
                if info.get("name") == self.names[worker]:
                    killed += int(admin.client_kill_filter(_id=info["id"]))
            return killed
        finally:
            admin.close()

    def cleanup(self) -> None:
        for client in self.clients:
            client.close()
        if self.kind == "redis":
            admin = redis.Redis.from_url(self.redis_url)
            try:
                for key in admin.scan_iter(match=f"{self.namespace}:*"):
                    admin.delete(key)
            finally:
                admin.close()
        shutil.rmtree(self.directory, ignore_errors=True)


# --- the ledger model -----------------------------------------------------------------------------


@attrs.frozen
class ServerCall:
    call_id: str
    scope: str
    key: str
    fingerprint: str
    created_at: float

    def body(self) -> bytes:
        fields = {"call_id": self.call_id, "scope": self.scope, "key": self.key}
        return json.dumps({**fields, "fingerprint": self.fingerprint}).encode()


class Server:
    """A key-deduplicating server that replays a held key's call to any parameters."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str], ServerCall] = {}
        self.created = 0

    def live(self, now: float) -> dict[tuple[str, str], ServerCall]:
        self.calls = {k: c for k, c in self.calls.items() if now < c.created_at + RETENTION}
        return self.calls

    def receive(self, scope: str, key: str, fingerprint: str, now: float) -> ServerCall:
        held = self.live(now).get((scope, key))
        if held is not None:
            return held
        self.created += 1
        call = ServerCall(f"call_{self.created}", scope, key, fingerprint, now)
        self.calls[(scope, key)] = call
        return call


@attrs.define
class Attempt:
    """A create in progress: it holds a ledger entry and may have sent its request."""

    worker: int
    scope: str
    key: str
    fingerprint: str
    entry: LedgerEntry
    claimed_at: float
    sent: bool = False
    reply: ServerCall | None = None


class LedgerMachine(RuleBasedStateMachine):
    kind: ClassVar[str] = "sqlite"
    redis_url: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.server = Server()
        self.backend = Backend(self.kind, self.redis_url, self.clock)
        self.faults = [Faults() for _ in range(WORKERS)]
        self.stores = [self.backend.open(w, self.faults[w]) for w in range(WORKERS)]
        self.ledgers = [IdempotencyLedger(s, lease_seconds=LEASE) for s in self.stores]
        self.observer = self.backend.observer()
        self.combos: list[tuple[str, str]] = list(COMBOS)
        self.attempts: list[Attempt] = []
        # Claims nobody will finish (a crash, or a store failure that may have left them), with
        # when their lease ends: they justify "in flight" answers until then.
        self.orphans: list[tuple[tuple[str, str], float]] = []
        # (scope, key) -> (fingerprint, body, recorded_at) for records known to have landed.
        self.recorded: dict[tuple[str, str], tuple[str, bytes, float]] = {}
        self.disrupted = [False] * WORKERS  # a CLIENT KILL the next operation may trip over

    def teardown(self) -> None:
        for store in [*self.stores, self.observer]:
            store.close()
        self.backend.cleanup()

    # -- helpers

    def _faulted(self, worker: int, failed_before: int) -> bool:
        hit = self.faults[worker].failed > failed_before or self.disrupted[worker]
        self.disrupted[worker] = False
        return hit

    @staticmethod
    def _check_told(scope: str, key: str, fingerprint: str, body: bytes) -> None:
        """A caller is only ever told the call made for its own tenant, key and parameters."""
        told = json.loads(body)
        assert (told["scope"], told["key"], told["fingerprint"]) == (scope, key, fingerprint), (
            f"a caller with {(scope, key, fingerprint)} was told the call {told}"
        )

    def _orphan(self, attempt: Attempt) -> None:
        self.orphans.append(((attempt.scope, attempt.key), attempt.claimed_at + LEASE))

    def _has_live_holder(self, scope: str, key: str) -> bool:
        now = self.clock.now
        return any(
            (a.scope, a.key) == (scope, key) and now < a.claimed_at + LEASE for a in self.attempts
        ) or any(combo == (scope, key) and now < until for combo, until in self.orphans)

    # -- rules

    # -- the steps of one create, used by the rules below

    def _begin(
        self, worker: int, scope: str, key: str, fingerprint: str, use_async: bool
    ) -> Attempt | None:
        ledger, failed_before = self.ledgers[worker], self.faults[worker].failed
        try:
            if use_async:
                outcome = asyncio.run(ledger.abegin(key, fingerprint=fingerprint, scope=scope))
            else:
                outcome = ledger.begin(key, fingerprint=fingerprint, scope=scope)
        except (IdempotencyConflictError, DuplicateCallInFlightError, StoreError) as exc:
            outcome_name = type(exc).__name__
            result: LedgerEntry | Completed | None = None
        else:
            outcome_name, result = type(outcome).__name__, outcome
        faulted = self._faulted(worker, failed_before)
        now = self.clock.now
        if outcome_name == "StoreError":
            self.orphans.append(((scope, key), now + LEASE))  # the claim may have landed
        if outcome_name == "DuplicateCallInFlightError":
            assert self._has_live_holder(scope, key), "in flight, but nobody can hold the key"
        if isinstance(result, Completed):
            self._check_told(scope, key, fingerprint, result.result)
        known = self.recorded.get((scope, key))
        if known is not None and now < known[2] + RETENTION and not faulted:
            if known[0] == fingerprint:
                assert result == Completed(known[1]), f"recorded call not replayed: {outcome_name}"
            else:
                assert outcome_name == "IdempotencyConflictError", outcome_name
        if not isinstance(result, LedgerEntry):
            return None
        held = self.server.live(now).get((scope, key))
        assert held is None or held.fingerprint == fingerprint, (
            "the ledger let other parameters claim a key the server holds"
        )
        attempt = Attempt(worker, scope, key, fingerprint, result, now)
        self.attempts.append(attempt)
        return attempt

    def _send(self, attempt: Attempt, reply_arrives: bool) -> None:
        if self.clock.now >= attempt.claimed_at + LEASE:
            return  # the client's deadline (shorter than the lease) has passed: nothing is sent
        call = self.server.receive(attempt.scope, attempt.key, attempt.fingerprint, self.clock.now)
        attempt.sent = True
        if reply_arrives:
            self._check_told(attempt.scope, attempt.key, attempt.fingerprint, call.body())
            attempt.reply = call

    def _finish_sent(self, attempt: Attempt, use_async: bool) -> None:
        """Record the reply; without one (the connection reset), give up: maybe sent."""
        self.attempts.remove(attempt)
        if attempt.reply is None:
            self._abandon(attempt, maybe_sent=True, use_async=use_async)
            return
        body = attempt.reply.body()
        failed_before = self.faults[attempt.worker].failed
        try:
            if use_async:
                asyncio.run(attempt.entry.arecord(body))
            else:
                attempt.entry.record(body)
        except LedgerRecordError as exc:
            assert exc.result == body  # noqa: PT017 - the placed call is still handed back
            self._faulted(attempt.worker, failed_before)
            self._orphan(attempt)
            return
        if self._faulted(attempt.worker, failed_before):
            self._orphan(attempt)
        stored = self.observer.get(_stored_key(attempt.scope, attempt.key))
        if stored == Completed(body):
            self.recorded[(attempt.scope, attempt.key)] = (
                attempt.fingerprint,
                body,
                self.clock.now,
            )

    def _abandon(self, attempt: Attempt, *, maybe_sent: bool, use_async: bool) -> None:
        if attempt in self.attempts:
            self.attempts.remove(attempt)
        failed_before = self.faults[attempt.worker].failed
        if use_async:
            asyncio.run(attempt.entry.aabandon(maybe_sent=maybe_sent))
        else:
            attempt.entry.abandon(maybe_sent=maybe_sent)  # never raises
        if self._faulted(attempt.worker, failed_before):
            self._orphan(attempt)  # the release may not have landed: the lease runs out instead

    def _crash(self, attempt: Attempt) -> None:
        """The worker dies holding the entry (before or after sending): nothing is released."""
        self.attempts.remove(attempt)
        self._orphan(attempt)

    # -- rules

    @initialize(combos=st.lists(st.sampled_from(COMBOS), min_size=1, max_size=4, unique=True))
    def choose_keys(self, combos: list[tuple[str, str]]) -> None:
        """Most examples use few (scope, key) pairs, so that steps meet on the same key."""
        self.combos = combos

    @rule(
        data=st.data(),
        worker=st.integers(0, WORKERS - 1),
        fingerprint=st.sampled_from(FINGERPRINTS),
        flow=st.sampled_from(
            [
                "placed",  # sent, answered, recorded
                "reply_lost",  # sent (the server has it), no answer: abandoned, maybe sent
                "refused",  # never sent, and the client knows: abandoned, not sent
                "unsure",  # never sent, but the client cannot tell: abandoned, maybe sent
                "crash_after_send",
                "crash_before_send",
                "hold",  # left open, for the other rules to interleave with
            ]
        ),
        use_async=st.booleans(),
    )
    def create(
        self, data: st.DataObject, worker: int, fingerprint: str, flow: str, use_async: bool
    ) -> None:
        """One calls.create: claim, then the flow's steps."""
        scope, key = data.draw(st.sampled_from(self.combos))
        attempt = self._begin(worker, scope, key, fingerprint, use_async)
        if attempt is None or flow == "hold":
            return
        if flow in ("placed", "reply_lost", "crash_after_send"):
            self._send(attempt, reply_arrives=flow == "placed")
        if flow in ("placed", "reply_lost"):
            self._finish_sent(attempt, use_async)
        elif flow in ("refused", "unsure"):
            self._abandon(attempt, maybe_sent=flow == "unsure", use_async=use_async)
        else:
            self._crash(attempt)

    @precondition(lambda self: any(not a.sent for a in self.attempts))
    @rule(data=st.data(), reply_arrives=st.booleans())
    def send(self, data: st.DataObject, reply_arrives: bool) -> None:
        self._send(
            data.draw(st.sampled_from([a for a in self.attempts if not a.sent])), reply_arrives
        )

    @precondition(lambda self: any(a.sent for a in self.attempts))
    @rule(data=st.data(), use_async=st.booleans())
    def finish_sent(self, data: st.DataObject, use_async: bool) -> None:
        self._finish_sent(
            data.draw(st.sampled_from([a for a in self.attempts if a.sent])), use_async
        )

    @precondition(lambda self: any(not a.sent for a in self.attempts))
    @rule(data=st.data(), maybe_sent=st.booleans(), use_async=st.booleans())
    def fail_before_sending(self, data: st.DataObject, maybe_sent: bool, use_async: bool) -> None:
        """The request never left (refused, connect failed); the client may or may not know."""
        attempt = data.draw(st.sampled_from([a for a in self.attempts if not a.sent]))
        self._abandon(attempt, maybe_sent=maybe_sent, use_async=use_async)

    @precondition(lambda self: bool(self.attempts))
    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        self._crash(data.draw(st.sampled_from(self.attempts)))

    @rule(seconds=st.sampled_from([1.0, LEASE, RETENTION]))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    @rule(worker=st.integers(0, WORKERS - 1), count=st.integers(0, 3), after=st.booleans())
    def store_faults(self, worker: int, count: int, after: bool) -> None:
        """The next ``count`` backend calls of this worker's store fail (0: the store heals).

        ``after``: they run, and their reply is lost (a COMMIT for SQLite, the write script for
        Redis).
        """
        if not after or count == 0:
            self.faults[worker].fail(count)
        elif self.kind == "sqlite":
            self.faults[worker].fail(count, when="after", commands="COMMIT")
        else:
            self.faults[worker].fail(count, when="after", commands="EVALSHA EVAL")

    @precondition(lambda self: self.kind == "redis")
    @rule(worker=st.integers(0, WORKERS - 1))
    def client_kill(self, worker: int) -> None:
        self.backend.kill_connections(worker)
        self.disrupted[worker] = True

    # -- invariants

    @invariant()
    def every_held_call_is_protected(self) -> None:
        now = self.clock.now
        for (scope, key), call in self.server.live(now).items():
            record = _live(self.observer._read(_stored_key(scope, key)), now)
            assert record is not None, f"{(scope, key)}: the server holds a call the ledger forgot"
            assert record.fingerprint == call.fingerprint, (
                f"{(scope, key)}: protected with the wrong parameters"
            )
            if record.result is not None:
                self._check_told(scope, key, call.fingerprint, record.result)

    @invariant()
    def no_two_live_holders_of_one_key(self) -> None:
        now = self.clock.now
        holders = Counter((a.scope, a.key) for a in self.attempts if now < a.claimed_at + LEASE)
        assert all(n <= 1 for n in holders.values()), holders


# --- the consumer model ---------------------------------------------------------------------------


class Crash(BaseException):
    """The worker process dies here: nothing after this point runs (no release, no commit)."""


class CrashableStore:
    """A :class:`LeaseStore` whose complete/release can be armed to kill the worker."""

    def __init__(self, inner: SqliteLeaseStore | RedisLeaseStore) -> None:
        self.inner = inner
        self.crash_on_complete = False
        self.crash_on_release = False

    def claim(self, key: str, *, fingerprint: str, lease_seconds: float) -> ClaimOutcome:
        return self.inner.claim(key, fingerprint=fingerprint, lease_seconds=lease_seconds)

    def complete(self, key: str, *, token: str, result: bytes) -> bool:
        if self.crash_on_complete:
            raise Crash
        return self.inner.complete(key, token=token, result=result)

    def release(self, key: str, *, token: str, remember: bool = False) -> bool:
        if self.crash_on_release:
            raise Crash
        return self.inner.release(key, token=token, remember=remember)

    def get(self, key: str) -> Completed | InFlight | None:
        return self.inner.get(key)

    def close(self) -> None:
        self.inner.close()


EVENTS: tuple[Any, ...] = (
    {"id": "evt_1", "type": "call.completed", "call_id": "call_1"},
    {"id": "evt_2", "type": "call.completed", "call_id": "call_1"},
    # Two id-less events of one call and type: distinct payloads, so distinct events.
    {"type": "call.completed", "call_id": "call_2", "data": {"attempt": 1}},
    {"type": "call.completed", "call_id": "call_2", "data": {"attempt": 2}},
)
CONSUMER_LEASE = 30.0
COMMIT_ATTEMPTS = 4  # the consumer's commit and its retries within half a 30 s lease
HANDLER_OUTCOMES = (
    "ok",
    "raise",
    "crash_mid_handler",
    "crash_after_effect",
    "overrun",
    "store_down_after_effect",  # the store fails from the handler's side effect on
    "store_blip_after_effect",  # ... for exactly the commit's attempts, then recovers
)


class ConsumerMachine(RuleBasedStateMachine):
    kind: ClassVar[str] = "sqlite"
    redis_url: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        # Events are remembered far longer than any example runs (24 h in production).
        self.backend = Backend(self.kind, self.redis_url, self.clock, retention=1e9)
        self.faults = Faults()
        self.store = CrashableStore(self.backend.open(0, self.faults))
        self.observer = self.backend.observer()
        self.slept: list[float] = []

        async def no_sleep(seconds: float) -> None:
            self.slept.append(seconds)

        self.consumer = ExactlyOnceConsumer(
            self.store,
            lease_seconds=CONSUMER_LEASE,
            sleep=self.slept.append,
            async_sleep=no_sleep,
        )
        self.runs: Counter[int] = Counter()  # successful handler runs (side effects) per event
        # Per event, instants from which one more run is allowed: a claim left unfinished (a
        # crash after the side effect, a lease overrun, a commit that failed) expires then.
        self.allowances: dict[int, list[float]] = {i: [] for i in range(len(EVENTS))}
        self.granted: Counter[int] = Counter()
        self.committed: dict[int, float] = {}  # event -> when its commit was seen to land
        self.events: list[int] = list(range(len(EVENTS)))

    def teardown(self) -> None:
        self.store.close()
        self.observer.close()
        self.backend.cleanup()

    def _allow(self, event: int, from_instant: float) -> None:
        self.allowances[event].append(from_instant)
        self.granted[event] += 1

    @initialize(
        events=st.lists(st.integers(0, len(EVENTS) - 1), min_size=1, max_size=4, unique=True)
    )
    def choose_events(self, events: list[int]) -> None:
        """Most examples deliver few events, so that deliveries meet on the same event."""
        assert len({event_dedup_key(e) for e in EVENTS}) == len(EVENTS)
        assert len(self.consumer._commit_delays) + 1 == COMMIT_ATTEMPTS
        self.events = events

    @rule(data=st.data(), outcome=st.sampled_from(HANDLER_OUTCOMES), use_async=st.booleans())
    def deliver(self, data: st.DataObject, outcome: str, use_async: bool) -> None:
        event = data.draw(st.sampled_from(self.events))
        payload = EVENTS[event]
        failed_before = self.faults.failed

        started = self.clock.now  # the claim, if this delivery wins, is made at this instant

        def effect(_: object) -> str:
            """The handler's side effect: a second one needs an expired, unfinished claim."""
            if self.runs[event] >= 1:
                due = sorted(t for t in self.allowances[event] if t <= self.clock.now)
                assert due, f"event {event}: the handler ran again while its claim was live"
                self.allowances[event].remove(due[0])
            self.runs[event] += 1
            return "done"

        def handler(value: object) -> str:
            if outcome == "raise":
                raise RuntimeError("handler failed")
            if outcome == "crash_mid_handler":
                self.store.crash_on_release = True
                raise Crash
            effect(value)
            if outcome == "crash_after_effect":
                self._allow(event, started + CONSUMER_LEASE)
                self.store.crash_on_complete = True
            elif outcome == "store_down_after_effect":
                self.faults.fail(100)
            elif outcome == "store_blip_after_effect":
                self.faults.fail(COMMIT_ATTEMPTS)  # each attempt's first backend call fails
            elif outcome == "overrun":
                # The handler outlives its lease and a redelivery takes the event over.
                self._allow(event, started + CONSUMER_LEASE)
                self.clock.now += CONSUMER_LEASE + 1
                self.consumer.process(payload, effect)
            return "done"

        async def async_handler(value: object) -> str:
            return handler(value)

        committed_before = event in self.committed
        try:
            if use_async:
                result = asyncio.run(self.consumer.aprocess(payload, async_handler))
            else:
                result = self.consumer.process(payload, handler)
        except Crash:
            return
        except HandledNotCommittedError as exc:
            assert exc.value == "done"  # noqa: PT017 - a state machine step, not a test case
            self._allow(event, started + CONSUMER_LEASE)  # once the claim expires
            return
        except StoreError:
            assert self.faults.failed > failed_before
            return
        except RuntimeError:
            assert outcome == "raise"
            return
        finally:
            self.store.crash_on_complete = self.store.crash_on_release = False
        if result.acknowledge:
            assert self.runs[event] >= 1, "acknowledged an event whose handler never succeeded"
        if committed_before and self.faults.failed == failed_before:
            assert result.status is ProcessStatus.DUPLICATE, result
        if result.status is ProcessStatus.HANDLED:
            assert result.value == "done"
            if isinstance(self.observer.get(result.key), Completed):
                self.committed[event] = self.clock.now

    @rule(seconds=st.sampled_from([1.0, CONSUMER_LEASE, CONSUMER_LEASE + 1]))
    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    @rule(count=st.sampled_from([1, 2, 4, 100]), after=st.booleans())
    def break_store(self, count: int, after: bool) -> None:
        if not after:
            self.faults.fail(count)
        elif self.kind == "sqlite":
            self.faults.fail(count, when="after", commands="COMMIT")
        else:
            self.faults.fail(count, when="after", commands="EVALSHA EVAL")

    @rule()
    def heal_store(self) -> None:
        self.faults.fail(0)

    @invariant()
    def handler_succeeds_once_per_event_save_for_crashes_and_overruns(self) -> None:
        for event, runs in self.runs.items():
            assert runs <= 1 + self.granted[event], (event, runs, self.granted)


# --- running them -------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return str(request.param)


def _machine(base: type[RuleBasedStateMachine], kind: str, redis_url: str) -> type[Any]:
    return type(f"{base.__name__}_{kind}", (base,), {"kind": kind, "redis_url": redis_url})


#: The long profile outlasts the suite's per-test timeout (pyproject.toml).
_TIMEOUT = pytest.mark.timeout(4 * 3600 if LONG else 120)


@_TIMEOUT
def test_ledger_never_loses_or_doubles_a_call(kind: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("redis_url") if kind == "redis" else ""
    run_state_machine_as_test(_machine(LedgerMachine, kind, url), settings=_settings())


@_TIMEOUT
def test_consumer_runs_each_handler_once_and_never_drops_one(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("redis_url") if kind == "redis" else ""
    run_state_machine_as_test(_machine(ConsumerMachine, kind, url), settings=_settings())
