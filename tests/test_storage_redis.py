"""Redis store specifics: round trips per operation, and the compare-and-set under contention."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from stateset_voice_wrapper._storage import redis_store
from stateset_voice_wrapper.stores import (
    Claimed,
    Completed,
    IdempotencyLedger,
    InFlight,
    LedgerEntry,
    RedisLeaseStore,
    StoreError,
)

pytestmark = pytest.mark.redis

T0 = 1_800_000_000.0


class CountingRedis(redis.Redis):
    """A real client that records each command it sends and may act just before a script runs."""

    commands: list[str]
    before_script: Callable[[], None] | None = None

    def execute_command(self, *args: Any, **options: Any) -> Any:
        name = str(args[0]).upper()
        self.commands.append(name)
        if name in ("EVALSHA", "EVAL") and self.before_script is not None:
            self.before_script()
        return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]


@pytest.fixture
def client(redis_url: str) -> Iterator[CountingRedis]:
    counting = CountingRedis.from_url(redis_url)
    assert isinstance(counting, CountingRedis)
    counting.commands = []
    yield counting
    counting.close()


def _store(client: redis.Redis) -> RedisLeaseStore:
    return RedisLeaseStore(client, namespace=f"test-rt-{uuid.uuid4().hex}", clock=lambda: T0)


def test_a_create_takes_four_round_trips_and_a_replay_one(client: CountingRedis) -> None:
    ledger = IdempotencyLedger(_store(client))
    warm = ledger.begin("warm-up", fingerprint="f")  # loads the script on the server once
    assert isinstance(warm, LedgerEntry)
    client.commands.clear()

    entry = ledger.begin("appt-1", fingerprint="f")
    assert isinstance(entry, LedgerEntry)
    entry.record(b'{"id":"call_1"}')
    assert client.commands == ["HGETALL", "EVALSHA", "HGETALL", "EVALSHA"]  # was 6, with WATCH
    client.commands.clear()

    assert ledger.begin("appt-1", fingerprint="f") == Completed(b'{"id":"call_1"}')
    assert client.commands == ["HGETALL"]  # was 3
    client.commands.clear()
    with pytest.raises(Exception, match="in flight"):
        ledger.begin("warm-up", fingerprint="f")
    assert client.commands == ["HGETALL"]


def test_a_write_that_loses_the_compare_and_set_is_decided_again(
    client: CountingRedis, redis_url: str
) -> None:
    store = _store(client)
    rival = RedisLeaseStore(redis_url, namespace=store.namespace, clock=lambda: T0)
    raced = False

    def rival_claims_first() -> None:
        nonlocal raced
        if not raced:
            raced = True
            assert isinstance(rival.claim("k", fingerprint="f", lease_seconds=30), Claimed)

    client.before_script = rival_claims_first
    try:
        # Our read saw an absent key; the rival's claim lands before our script runs, so the
        # script refuses, and the decision on a fresh read is InFlight: never two holders.
        assert store.claim("k", fingerprint="f", lease_seconds=30) == InFlight(T0 + 30)
        assert client.commands.count("HGETALL") == 2
    finally:
        rival.close()


def test_endless_conflicts_are_a_store_error(
    client: CountingRedis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_store, "_REDIS_MAX_CAS_RETRIES", 5)
    store = _store(client)
    rival = RedisLeaseStore(redis_url, namespace=store.namespace, clock=lambda: T0)

    def rival_writes_first() -> None:  # a claim and a remembered release: a new version
        outcome = rival.claim("k", fingerprint="f", lease_seconds=30)
        assert isinstance(outcome, Claimed)
        rival.release("k", token=outcome.token, remember=True)

    client.before_script = rival_writes_first
    try:
        with pytest.raises(StoreError, match="after 5 conflicts"):
            store.claim("k", fingerprint="f", lease_seconds=30)
        assert client.commands.count("HGETALL") == 5
    finally:
        rival.close()


def test_a_key_that_is_not_a_lease_record_is_a_store_error(
    client: CountingRedis, redis_url: str
) -> None:
    store = _store(client)
    client.hset(f"{store.namespace}:k", "something", "else")
    with pytest.raises(StoreError, match="not a lease record"):
        store.get("k")
    with pytest.raises(StoreError, match="not a lease record"):
        store.claim("k", fingerprint="f", lease_seconds=30)
