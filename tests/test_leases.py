"""The lease store state machine, against a real SQLite file and a real redis-server.

Every behaviour runs against both stores. Time is an injected clock; nothing sleeps.
"""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
import redis

from stateset_voice_wrapper import InvalidParameterError
from stateset_voice_wrapper._storage.leases import LeaseRecord, _decide_claim, _decide_complete
from stateset_voice_wrapper.stores import (
    DEFAULT_RETENTION_SECONDS,
    Claimed,
    ClaimOutcome,
    Completed,
    InFlight,
    LeaseStore,
    Mismatch,
    RedisLeaseStore,
    SqliteLeaseStore,
    StoreError,
)

if TYPE_CHECKING:
    from tests.clocks import T0, FakeClock
else:
    from clocks import T0, FakeClock


@attrs.frozen
class Backend:
    """Where a store lives; plain strings so that spawned processes can open it too."""

    kind: str
    location: str  # a SQLite file path or a redis:// URL
    namespace: str

    def open(
        self,
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> SqliteLeaseStore | RedisLeaseStore:
        if self.kind == "sqlite":
            return SqliteLeaseStore(
                self.location,
                namespace=self.namespace,
                clock=clock,
                retention_seconds=retention_seconds,
            )
        return RedisLeaseStore(
            self.location,
            namespace=self.namespace,
            clock=clock,
            retention_seconds=retention_seconds,
        )


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    namespace = f"test-{uuid.uuid4().hex}"  # the redis-server is shared by the whole session
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "leases.db"), namespace)
    return Backend("redis", request.getfixturevalue("redis_url"), namespace)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(backend: Backend, clock: FakeClock) -> Iterator[SqliteLeaseStore | RedisLeaseStore]:
    opened = backend.open(clock)
    yield opened
    opened.close()


def claimed(outcome: ClaimOutcome) -> Claimed:
    assert isinstance(outcome, Claimed), outcome
    return outcome


# --- the state machine --------------------------------------------------------------------------


def test_claim_then_complete_then_completed_for_everyone(store: LeaseStore) -> None:
    assert store.get("k") is None
    first = claimed(store.claim("k", fingerprint="f", lease_seconds=30))
    assert store.get("k") == InFlight(T0 + 30)
    assert store.claim("k", fingerprint="f", lease_seconds=30) == InFlight(T0 + 30)

    assert store.complete("k", token=first.token, result=b'{"id":"call_1"}') is True
    assert store.get("k") == Completed(b'{"id":"call_1"}')
    assert store.claim("k", fingerprint="f", lease_seconds=30) == Completed(b'{"id":"call_1"}')
    # Completion is final: neither the old token nor a release can change it.
    assert store.complete("k", token=first.token, result=b"other") is False
    assert store.release("k", token=first.token) is False
    assert store.get("k") == Completed(b'{"id":"call_1"}')


def test_release_makes_the_key_claimable_at_once(store: LeaseStore) -> None:
    first = claimed(store.claim("k", fingerprint="f", lease_seconds=30))
    assert store.release("k", token="not-the-token") is False
    assert store.get("k") == InFlight(T0 + 30)
    assert store.release("k", token=first.token) is True
    assert store.get("k") is None
    assert store.release("k", token=first.token) is False
    # Released keys are forgotten entirely, so even another fingerprint may claim.
    second = claimed(store.claim("k", fingerprint="g", lease_seconds=30))
    assert second.token != first.token


def test_expired_lease_is_taken_over_and_the_old_token_loses(
    store: LeaseStore, clock: FakeClock
) -> None:
    crashed = claimed(store.claim("k", fingerprint="f", lease_seconds=30))
    clock.advance(29.999)
    assert isinstance(store.claim("k", fingerprint="f", lease_seconds=30), InFlight)
    clock.advance(0.001)  # exactly at expiry the lease is over
    assert store.get("k") is None
    takeover = claimed(store.claim("k", fingerprint="f", lease_seconds=30))
    assert takeover.token != crashed.token
    assert store.get("k") == InFlight(clock.now + 30)

    assert store.complete("k", token=crashed.token, result=b"late") is False
    assert store.release("k", token=crashed.token) is False
    assert store.complete("k", token=takeover.token, result=b"done") is True
    assert store.get("k") == Completed(b"done")


def test_holder_may_complete_after_expiry_if_nobody_took_over(
    store: LeaseStore, clock: FakeClock
) -> None:
    slow = claimed(store.claim("k", fingerprint="f", lease_seconds=30))
    clock.advance(45)
    assert store.complete("k", token=slow.token, result=b"done") is True
    assert store.claim("k", fingerprint="f", lease_seconds=30) == Completed(b"done")


def test_mismatched_fingerprint_while_claimed_completed_or_crashed(
    store: LeaseStore, clock: FakeClock
) -> None:
    first = claimed(store.claim("held", fingerprint="a", lease_seconds=30))
    assert store.claim("held", fingerprint="b", lease_seconds=30) == Mismatch()
    # A crashed claim's fingerprint is still checked: the server may hold the key with it.
    clock.advance(31)
    assert store.claim("held", fingerprint="b", lease_seconds=30) == Mismatch()
    assert store.complete("held", token=first.token, result=b"r") is True
    assert store.claim("held", fingerprint="b", lease_seconds=30) == Mismatch()
    assert store.claim("held", fingerprint="a", lease_seconds=30) == Completed(b"r")


def test_completed_keys_are_forgotten_after_retention(backend: Backend, clock: FakeClock) -> None:
    with backend.open(clock, retention_seconds=100) as store:
        token = claimed(store.claim("k", fingerprint="a", lease_seconds=30)).token
        clock.advance(10)
        assert store.complete("k", token=token, result=b"r") is True
        clock.advance(99.999)
        assert store.get("k") == Completed(b"r")
        clock.advance(0.001)
        assert store.get("k") is None
        # Forgotten means forgotten: the fingerprint is no longer checked either.
        assert isinstance(store.claim("k", fingerprint="b", lease_seconds=30), Claimed)


def test_crashed_claims_are_forgotten_after_lease_plus_retention(
    backend: Backend, clock: FakeClock
) -> None:
    with backend.open(clock, retention_seconds=100) as store:
        claimed(store.claim("k", fingerprint="a", lease_seconds=30))
        clock.advance(129)
        assert store.claim("k", fingerprint="b", lease_seconds=30) == Mismatch()
        clock.advance(1)
        assert isinstance(store.claim("k", fingerprint="b", lease_seconds=30), Claimed)


def test_state_is_durable_across_store_instances(backend: Backend, clock: FakeClock) -> None:
    with backend.open(clock) as first:
        token = claimed(first.claim("k", fingerprint="f", lease_seconds=30)).token
    with backend.open(clock) as second:
        assert second.get("k") == InFlight(T0 + 30)
        assert second.complete("k", token=token, result=b"\x00\xffbinary") is True
    with backend.open(clock) as third:
        assert third.claim("k", fingerprint="f", lease_seconds=30) == Completed(b"\x00\xffbinary")


def test_namespaces_are_isolated(backend: Backend, clock: FakeClock) -> None:
    other = attrs.evolve(backend, namespace=backend.namespace + "-other")
    with backend.open(clock) as calls, other.open(clock) as webhooks:
        assert isinstance(calls.claim("k", fingerprint="a", lease_seconds=30), Claimed)
        assert webhooks.get("k") is None
        assert isinstance(webhooks.claim("k", fingerprint="b", lease_seconds=30), Claimed)


def test_bad_arguments_are_refused(store: LeaseStore, backend: Backend) -> None:
    # InvalidParameterError is a ValueError too, so `except ValueError` code keeps working.
    with pytest.raises(InvalidParameterError, match="non-empty"):
        store.claim("", fingerprint="f", lease_seconds=30)
    for lease in (0, -1, math.nan, math.inf):
        with pytest.raises(InvalidParameterError, match="lease_seconds"):
            store.claim("k", fingerprint="f", lease_seconds=lease)
    for retention in (0, -5, math.nan):
        with pytest.raises(InvalidParameterError, match="retention_seconds"):
            backend.open(retention_seconds=retention)
    with pytest.raises(InvalidParameterError, match="non-empty"):
        store.release("", token="t")
    assert store.get("k") is None  # nothing was claimed by the refused calls


def test_a_closed_store_refuses_every_operation(backend: Backend, clock: FakeClock) -> None:
    store = backend.open(clock)
    token = claimed(store.claim("k", fingerprint="f", lease_seconds=30)).token
    store.close()
    store.close()  # idempotent
    operations: list[Callable[[], object]] = [
        lambda: store.claim("k", fingerprint="f", lease_seconds=30),
        lambda: store.complete("k", token=token, result=b"r"),
        lambda: store.release("k", token=token),
        lambda: store.get("k"),
    ]
    for operation in operations:
        with pytest.raises(StoreError, match="closed"):
            operation()
    with backend.open(clock) as reopened:  # the claim made before closing is still there
        assert reopened.get("k") == InFlight(T0 + 30)


# --- releases that remember the fingerprint --------------------------------------------------


def test_release_remembering_keeps_the_fingerprint_for_the_retention(
    backend: Backend, clock: FakeClock
) -> None:
    with backend.open(clock, retention_seconds=100) as store:
        first = claimed(store.claim("k", fingerprint="a", lease_seconds=30))
        clock.advance(5)
        assert store.release("k", token=first.token, remember=True) is True
        assert store.get("k") is None  # claimable at once...
        assert store.release("k", token=first.token) is False  # ...and the old token is spent
        assert store.complete("k", token=first.token, result=b"late") is False
        assert store.claim("k", fingerprint="b", lease_seconds=30) == Mismatch()  # ...by "a" only
        clock.advance(99.999)
        assert store.claim("k", fingerprint="b", lease_seconds=30) == Mismatch()
        clock.advance(0.001)  # retention after the release: forgotten
        assert isinstance(store.claim("k", fingerprint="b", lease_seconds=30), Claimed)


def test_same_fingerprint_takes_a_remembered_key_over(backend: Backend, clock: FakeClock) -> None:
    with backend.open(clock, retention_seconds=100) as store:
        first = claimed(store.claim("k", fingerprint="a", lease_seconds=30))
        store.release("k", token=first.token, remember=True)
        second = claimed(store.claim("k", fingerprint="a", lease_seconds=30))
        assert second.token != first.token
        assert store.claim("k", fingerprint="a", lease_seconds=30) == InFlight(T0 + 30)
        assert store.complete("k", token=second.token, result=b"r") is True
        assert store.claim("k", fingerprint="b", lease_seconds=30) == Mismatch()


def test_plain_release_keeps_an_earlier_holders_protection(
    backend: Backend, clock: FakeClock
) -> None:
    with backend.open(clock, retention_seconds=100) as store:
        # A holder that may have had an effect, then a holder that provably had none.
        first = claimed(store.claim("k", fingerprint="a", lease_seconds=30))
        clock.advance(10)
        store.release("k", token=first.token, remember=True)  # protected until T0 + 110
        second = claimed(store.claim("k", fingerprint="a", lease_seconds=30))
        clock.advance(10)
        assert store.release("k", token=second.token) is True
        assert store.claim("k", fingerprint="b", lease_seconds=30) == Mismatch()
        clock.now = T0 + 110  # the first holder's protection runs out when it would have
        assert isinstance(store.claim("k", fingerprint="b", lease_seconds=30), Claimed)


def test_plain_release_after_taking_over_a_crashed_claim_keeps_it_protected(
    backend: Backend, clock: FakeClock
) -> None:
    with backend.open(clock, retention_seconds=100) as store:
        claimed(store.claim("k", fingerprint="a", lease_seconds=30))  # crashes, maybe after sending
        clock.advance(30)
        takeover = claimed(store.claim("k", fingerprint="a", lease_seconds=30))
        assert store.release("k", token=takeover.token) is True
        assert store.claim("k", fingerprint="b", lease_seconds=30) == Mismatch()
        clock.now = T0 + 30 + 100  # the crashed claim's lease plus the retention
        assert isinstance(store.claim("k", fingerprint="b", lease_seconds=30), Claimed)


# --- decisions are idempotent for their own token (a re-sent write after a lost reply) --------


def test_a_claim_decided_again_on_its_own_write_is_still_claimed() -> None:
    outcome, change = _decide_claim(
        None, T0, fingerprint="f", lease_seconds=30, retention_seconds=100, token="t1"
    )
    assert outcome == Claimed("t1")
    assert isinstance(change, LeaseRecord)
    again, no_change = _decide_claim(
        change, T0 + 1, fingerprint="f", lease_seconds=30, retention_seconds=100, token="t1"
    )
    assert (again, no_change) == (Claimed("t1"), None)
    other, _ = _decide_claim(
        change, T0 + 1, fingerprint="f", lease_seconds=30, retention_seconds=100, token="t2"
    )
    assert other == InFlight(T0 + 30)


def test_a_complete_decided_again_on_its_own_write_succeeds() -> None:
    record = LeaseRecord("f", "t1", T0 + 30, T0 + 130, None)
    ok, change = _decide_complete(record, T0, token="t1", result=b"r", retention_seconds=100)
    assert ok is True
    assert isinstance(change, LeaseRecord)
    assert _decide_complete(change, T0, token="t1", result=b"r", retention_seconds=100) == (
        True,
        None,
    )
    assert _decide_complete(change, T0, token="t2", result=b"r", retention_seconds=100) == (
        False,
        None,
    )


def test_completed_repr_does_not_show_the_result() -> None:
    # Recorded calls contain phone numbers; logging an outcome must not leak them.
    assert "+1555" not in repr(Completed(b'{"to":"+15555555678"}'))


# --- concurrency: exactly one winner --------------------------------------------------------


def test_fifty_threads_racing_one_key_yield_exactly_one_claim(store: LeaseStore) -> None:
    start = threading.Barrier(50)

    def race(_: int) -> ClaimOutcome:
        start.wait(timeout=30)
        return store.claim("race", fingerprint="f", lease_seconds=30)

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(race, range(50)))
    winners = [o for o in outcomes if isinstance(o, Claimed)]
    assert len(winners) == 1
    assert all(o == InFlight(T0 + 30) for o in outcomes if not isinstance(o, Claimed))


def _claim_in_child(backend: Backend, start: Any, results: Any) -> None:
    with backend.open() as store:
        start.wait(timeout=60)
        outcome = store.claim("race", fingerprint="f", lease_seconds=60)
        results.put(type(outcome).__name__)


def test_four_processes_racing_one_key_yield_exactly_one_claim(backend: Backend) -> None:
    # Nothing is created beforehand: each process opens (and may create) the SQLite file itself.
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(4), ctx.Queue()
    workers = [
        ctx.Process(target=_claim_in_child, args=(backend, start, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    try:
        names = sorted(results.get(timeout=60) for _ in workers)
    finally:
        for worker in workers:
            worker.join(timeout=30)
    assert names == ["Claimed", "InFlight", "InFlight", "InFlight"]
    assert all(worker.exitcode == 0 for worker in workers)


# --- backend specifics ------------------------------------------------------------------------


def test_sqlite_refuses_an_in_memory_database() -> None:
    for path in (":memory:", "", "file::memory:?cache=shared"):
        with pytest.raises(InvalidParameterError, match="file path"):
            SqliteLeaseStore(path)


def test_sqlite_uses_wal_and_purges_forgotten_rows(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "leases.db"
    with SqliteLeaseStore(path, clock=clock, retention_seconds=100) as store:
        for key in ("a", "b"):
            token = claimed(store.claim(key, fingerprint="f", lease_seconds=30)).token
            store.complete(key, token=token, result=b"r")
        clock.advance(1000)
        store.claim("c", fingerprint="f", lease_seconds=30)  # a write purges forgotten rows
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        keys = [row[0] for row in db.execute("SELECT key FROM stateset_voice_leases")]
    assert keys == ["c"]


def test_sqlite_store_cannot_be_used_after_close(tmp_path: Path) -> None:
    store = SqliteLeaseStore(tmp_path / "leases.db")
    store.close()

    def use() -> None:
        store.get("k")

    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(StoreError, match="closed"):
        pool.submit(use).result()


@pytest.mark.redis
def test_redis_keys_are_prefixed_and_expire_for_garbage_collection(
    redis_url: str, clock: FakeClock
) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(redis_url)
    try:
        store = RedisLeaseStore(client, namespace=namespace, clock=clock, retention_seconds=100)
        token = claimed(store.claim("k", fingerprint="f", lease_seconds=30)).token
        assert client.exists(f"{namespace}:k") == 1
        # lease 30 + retention 100 + grace 60 seconds, give or take the round trip
        assert 180_000 < client.pttl(f"{namespace}:k") <= 190_000
        store.complete("k", token=token, result=b"r")
        assert 150_000 < client.pttl(f"{namespace}:k") <= 160_000
        store.close()  # a client passed in belongs to the caller and stays open
        assert client.ping() is True
    finally:
        client.close()


@pytest.mark.redis
def test_redis_refuses_a_decoding_client(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        with pytest.raises(InvalidParameterError, match="decode_responses"):
            RedisLeaseStore(client)
    finally:
        client.close()


@pytest.mark.parametrize(
    "url",
    ["not-a-url", "redis://:s3cr3t-pw", "redis://host:notaport/0", "http://host:6379", ""],
)
@pytest.mark.parametrize("store", ["leases", "ledger", "dedup", "limiter"])
def test_a_redis_url_redis_py_cannot_read_is_an_argument_error(url: str, store: str) -> None:
    """Every Redis store says what a URL needs, as a typed argument error, and never quotes the
    URL or redis-py's reading of it (which shows a password as the port it could not read)."""
    with pytest.raises(InvalidParameterError, match="not a Redis URL") as raised:
        _open_redis_store(store, url)
    error = raised.value
    assert error.parameter == "url_or_client"
    assert error.__cause__ is None
    assert error.__suppress_context__
    if url:
        assert url not in str(error)
    assert "s3cr3t" not in str(error)
    assert "s3cr3t" not in repr(error)


@pytest.mark.parametrize("store", ["leases", "ledger", "dedup", "limiter"])
def test_a_client_that_is_not_a_sync_redis_client_is_refused_when_the_store_opens(
    store: str,
) -> None:
    import redis.asyncio

    async_client = redis.asyncio.Redis()  # never connects: nothing is sent
    with pytest.raises(InvalidParameterError, match=r"redis\.asyncio client") as raised:
        _open_redis_store(store, async_client)
    assert raised.value.parameter == "url_or_client"
    for other in (123, None, object()):
        with pytest.raises(InvalidParameterError, match=r"a Redis URL or a redis\.Redis client"):
            _open_redis_store(store, other)


def _open_redis_store(store: str, url_or_client: Any) -> None:
    from stateset_voice_wrapper import RedisCallLimiter, RedisLedger
    from stateset_voice_wrapper.webhooks import RedisDedupStore

    opened: Any
    if store == "leases":
        opened = RedisLeaseStore(url_or_client, eviction_policy="ignore")
    elif store == "ledger":
        opened = RedisLedger(url_or_client, eviction_policy="ignore")
    elif store == "dedup":
        opened = RedisDedupStore(url_or_client, eviction_policy="ignore")
    else:
        opened = RedisCallLimiter(url_or_client, name="t", concurrency=1, eviction_policy="ignore")
    opened.close()
