"""Business idempotency for outbound calls: a durable ledger of idempotency keys.

The server deduplicates an ``Idempotency-Key`` within its window, but only once a request reaches
it; the ledger stops a second process from *starting* the same call and returns the recorded
call without sending anything once it has completed. It is a thin layer over a
:class:`~stateset_voice_wrapper.stores.LeaseStore`::

    outcome = ledger.begin(key, fingerprint=fingerprint_request(params))
    if isinstance(outcome, Completed):
        return outcome.result          # the recorded JSON of the created call; nothing is sent
    try:
        body = send(params, idempotency_key=key)
    except BaseException:
        outcome.abandon()              # a later retry with the same key is safe: the server dedups
        raise
    outcome.record(body)

A crash between sending and recording leaves the claim to expire after ``lease_seconds``; the
next ``begin`` takes it over and the caller sends the same key again, which the server
deduplicates. ``lease_seconds`` (default 120 s) is therefore longer than the client's 60 s
deadline, so a live request never loses its claim.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Self

from .._shared.aio import asyncio_sleep, run_in_thread
from .._shared.errors import DuplicateCallInFlightError, IdempotencyConflictError
from .leases import (
    DEFAULT_RETENTION_SECONDS,
    Claimed,
    ClaimOutcome,
    Completed,
    InFlight,
    LeaseStore,
    Mismatch,
)
from .redis_store import RedisLeaseStore
from .sqlite_store import SqliteLeaseStore

if TYPE_CHECKING:
    import redis

__all__ = [
    "DEFAULT_LEDGER_LEASE_SECONDS",
    "Completed",
    "DuplicateCallInFlightError",
    "IdempotencyConflictError",
    "IdempotencyLedger",
    "LedgerEntry",
    "RedisLedger",
    "SqliteLedger",
    "fingerprint_request",
]

_log = logging.getLogger("stateset_voice.ledger")

#: A claim outlives the client's 60 s deadline, so an in-progress create never loses it.
DEFAULT_LEDGER_LEASE_SECONDS: float = 120.0
#: While waiting for another holder, poll after this long, doubling up to the maximum.
_FIRST_POLL_SECONDS = 0.05
_MAX_POLL_SECONDS = 1.0


def fingerprint_request(params: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``params``: equal parameters, equal fingerprint.

    >>> fingerprint_request({"b": 1, "a": [1, 2]}) == fingerprint_request({"a": [1, 2], "b": 1})
    True
    """
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_lease(lease_seconds: float) -> None:
    if not lease_seconds > 0:
        raise ValueError("lease_seconds must be positive")


class LedgerEntry:
    """Ownership of one idempotency key: send the request, then ``record`` or ``abandon``.

    ``abandon`` after ``record`` does nothing, so ``finally: entry.abandon()`` is safe.
    """

    def __init__(self, store: LeaseStore, key: str, token: str) -> None:
        self.key = key
        self._store = store
        self._token = token
        self._finished = False

    def __repr__(self) -> str:
        return f"LedgerEntry(key={self.key!r}, finished={self._finished})"

    def record(self, result: bytes) -> None:
        """Record the created call (its JSON bytes); later ``begin`` calls return it."""
        if self._finished:
            raise RuntimeError(f"ledger entry {self.key!r} was already recorded or abandoned")
        self._finished = True
        if not self._store.complete(self.key, token=self._token, result=result):
            # The lease ran out and another worker took the key over; it re-sends the same key,
            # the server deduplicates, and it records the same call. Nothing is duplicated, so
            # this is not an error for the caller whose call did succeed.
            _log.warning(
                "idempotency key %r: the lease expired before the call was recorded; "
                "another worker took it over (raise lease_seconds if calls take this long)",
                self.key,
            )

    def abandon(self) -> None:
        """Release the key (the request failed) so that a retry may claim it at once."""
        if self._finished:
            return
        self._finished = True
        self._store.release(self.key, token=self._token)

    async def arecord(self, result: bytes) -> None:
        """:meth:`record`, with the store call run in a worker thread."""
        await run_in_thread(self.record, result)

    async def aabandon(self) -> None:
        """:meth:`abandon`, with the store call run in a worker thread."""
        await run_in_thread(self.abandon)


class IdempotencyLedger:
    """Claims idempotency keys in a :class:`LeaseStore` before a create is sent.

    Use :class:`SqliteLedger` (one host) or :class:`RedisLedger` (a fleet); this base class
    takes any store. ``lease_seconds`` bounds how long a crashed holder blocks its key.
    """

    def __init__(
        self, store: LeaseStore, *, lease_seconds: float = DEFAULT_LEDGER_LEASE_SECONDS
    ) -> None:
        _check_lease(lease_seconds)
        self.store = store
        self.lease_seconds = float(lease_seconds)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r}, lease_seconds={self.lease_seconds})"

    def begin(
        self,
        key: str,
        *,
        fingerprint: str,
        wait: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> LedgerEntry | Completed:
        """Claim ``key``: a :class:`LedgerEntry` to send with, or the recorded :class:`Completed`.

        If another worker holds the key, poll for up to ``wait`` seconds (of ``sleep``) for it to
        finish or give up, then raise :class:`DuplicateCallInFlightError`. A key recorded with a
        different ``fingerprint`` raises :class:`IdempotencyConflictError`.
        """
        remaining, delay = float(wait), _FIRST_POLL_SECONDS
        while True:
            outcome = self.store.claim(
                key, fingerprint=fingerprint, lease_seconds=self.lease_seconds
            )
            step = self._resolve(key, outcome, remaining, delay)
            if not isinstance(step, float):
                return step
            sleep(step)
            remaining, delay = remaining - step, min(delay * 2, _MAX_POLL_SECONDS)

    async def abegin(
        self,
        key: str,
        *,
        fingerprint: str,
        wait: float = 0.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> LedgerEntry | Completed:
        """:meth:`begin` for async code: store calls run in a worker thread."""
        pause = asyncio_sleep if sleep is None else sleep
        remaining, delay = float(wait), _FIRST_POLL_SECONDS
        while True:
            outcome = await run_in_thread(
                self.store.claim, key, fingerprint=fingerprint, lease_seconds=self.lease_seconds
            )
            step = self._resolve(key, outcome, remaining, delay)
            if not isinstance(step, float):
                return step
            await pause(step)
            remaining, delay = remaining - step, min(delay * 2, _MAX_POLL_SECONDS)

    def _resolve(
        self, key: str, outcome: ClaimOutcome, remaining: float, delay: float
    ) -> LedgerEntry | Completed | float:
        """The answer for a claim outcome, or how long to sleep before claiming again."""
        if isinstance(outcome, Claimed):
            return LedgerEntry(self.store, key, outcome.token)
        if isinstance(outcome, Completed):
            return outcome
        if isinstance(outcome, Mismatch):
            raise IdempotencyConflictError(
                "this idempotency key was already used with different call parameters",
                idempotency_key=key,
            )
        assert isinstance(outcome, InFlight)
        if remaining > 0:
            return min(delay, remaining)
        raise DuplicateCallInFlightError(
            "a call with this idempotency key is in flight elsewhere; retry later with the same key",
            idempotency_key=key,
        )

    def close(self) -> None:
        """Close the underlying store."""
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SqliteLedger(IdempotencyLedger):
    """The embedded ledger: one SQLite file, safe across threads and processes on one host.

    >>> voice = VoiceClient(ledger=SqliteLedger("calls.db"))  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lease_seconds: float = DEFAULT_LEDGER_LEASE_SECONDS,
        namespace: str = "calls",
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        _check_lease(lease_seconds)  # before opening the store, so that nothing leaks
        store = SqliteLeaseStore(
            path, namespace=namespace, clock=clock, retention_seconds=retention_seconds
        )
        super().__init__(store, lease_seconds=lease_seconds)


class RedisLedger(IdempotencyLedger):
    """The ledger for a fleet of workers: Redis (needs the ``[redis]`` extra).

    >>> voice = VoiceClient(ledger=RedisLedger("redis://cache:6379/0"))  # doctest: +SKIP
    """

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        lease_seconds: float = DEFAULT_LEDGER_LEASE_SECONDS,
        namespace: str = "stateset_voice:calls",
        clock: Callable[[], float] = time.time,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        _check_lease(lease_seconds)
        store = RedisLeaseStore(
            url_or_client, namespace=namespace, clock=clock, retention_seconds=retention_seconds
        )
        super().__init__(store, lease_seconds=lease_seconds)
