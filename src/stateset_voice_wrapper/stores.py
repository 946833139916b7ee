"""Durable stores: leases, the idempotency ledger of outbound calls, webhook deduplication.

Every store here is built on one lease state machine (claim, then complete or release; an
expired lease may be taken over), kept in SQLite for one host or Redis for a fleet:

- :class:`SqliteLedger`, :class:`RedisLedger`: business idempotency for ``calls.create``
  (``VoiceClient(ledger=...)``); see ``docs/idempotency-ledger.md``.
- :class:`SqliteDedupStore`, :class:`RedisDedupStore`: the webhook consumer's event store.
- :class:`SqliteLeaseStore`, :class:`RedisLeaseStore` and the :class:`LeaseStore` protocol,
  for a store of your own; :func:`aclaim`, :func:`acomplete` and :func:`arelease` call any of
  them from async code and stay correct when the awaiting task is cancelled.
- :class:`RedisCallLimiter`, :class:`InProcessCallLimiter` (over :class:`CallLimiter`): limits
  on concurrent calls and on the make-call rate, shared by every worker; a :class:`Permit` is
  one call's share. See ``docs/fleet-limits.md``.
- :class:`StoreError` (every store failure) and its subclasses :class:`LedgerRecordError` (the
  call was placed but not recorded) and :class:`HandledNotCommittedError` (the webhook handler
  ran but its event was not committed).

Example::

    from stateset_voice_wrapper.stores import SqliteLeaseStore

    with SqliteLeaseStore("jobs.db", namespace="nightly") as store:
        outcome = store.claim("job-2026-12-01", fingerprint="v1", lease_seconds=60)
"""

from __future__ import annotations

from ._storage.aio import aclaim, acomplete, arelease
from ._storage.call_limiters import InProcessCallLimiter, RedisCallLimiter
from ._storage.dedup import RedisDedupStore, SqliteDedupStore
from ._storage.errors import HandledNotCommittedError, LedgerRecordError, StoreError
from ._storage.leases import (
    DEFAULT_RETENTION_SECONDS,
    Claimed,
    ClaimOutcome,
    Completed,
    InFlight,
    LeaseStore,
    Mismatch,
)
from ._storage.ledger import (
    DEFAULT_LEDGER_LEASE_SECONDS,
    DEFAULT_LEDGER_SCOPE,
    IdempotencyLedger,
    LedgerEntry,
    RedisLedger,
    SqliteLedger,
    fingerprint_request,
    ledger_scope,
)
from ._storage.limiter import DEFAULT_CALL_LEASE_SECONDS, DEFAULT_PERMIT_LEASE_SECONDS, CallLimiter
from ._storage.permits import Permit
from ._storage.redis_store import RedisLeaseStore
from ._storage.sqlite_store import DEFAULT_BUSY_TIMEOUT_SECONDS, SqliteLeaseStore

__all__ = [
    "DEFAULT_BUSY_TIMEOUT_SECONDS",
    "DEFAULT_CALL_LEASE_SECONDS",
    "DEFAULT_LEDGER_LEASE_SECONDS",
    "DEFAULT_LEDGER_SCOPE",
    "DEFAULT_PERMIT_LEASE_SECONDS",
    "DEFAULT_RETENTION_SECONDS",
    "CallLimiter",
    "ClaimOutcome",
    "Claimed",
    "Completed",
    "HandledNotCommittedError",
    "IdempotencyLedger",
    "InFlight",
    "InProcessCallLimiter",
    "LeaseStore",
    "LedgerEntry",
    "LedgerRecordError",
    "Mismatch",
    "Permit",
    "RedisCallLimiter",
    "RedisDedupStore",
    "RedisLeaseStore",
    "RedisLedger",
    "SqliteDedupStore",
    "SqliteLeaseStore",
    "SqliteLedger",
    "StoreError",
    "aclaim",
    "acomplete",
    "arelease",
    "fingerprint_request",
    "ledger_scope",
]
