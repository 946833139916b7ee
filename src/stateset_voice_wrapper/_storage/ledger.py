"""Business idempotency for outbound calls: a durable ledger of idempotency keys.

The server deduplicates an ``Idempotency-Key`` within its window, but only once a request reaches
it; the ledger stops a second process from *starting* the same call and returns the recorded
call without sending anything once it has completed. It is a thin layer over a
:class:`~stateset_voice_wrapper.stores.LeaseStore`::

    outcome = ledger.begin(key, fingerprint=fingerprint_request(params), scope=scope)
    if isinstance(outcome, Completed):
        return outcome.result          # the recorded JSON of the created call; nothing is sent
    try:
        body = send(params, idempotency_key=key)
    except BaseException as exc:
        outcome.abandon(maybe_sent=may_have_reached_the_server(exc))
        raise
    outcome.record(body)               # LedgerRecordError: the call exists, return exc.result

Keys live in a *scope*, one per API and credential (:func:`ledger_scope`), so two tenants'
clients sharing one store never answer each other's keys.

A crash between sending and recording leaves the claim to expire after ``lease_seconds``; the
next ``begin`` takes it over and the caller sends the same key again, which the server
deduplicates. ``lease_seconds`` (default 120 s) is therefore longer than the client's 60 s
deadline, so a live request never loses its claim. An abandoned attempt that may have reached
the server keeps the key's fingerprint, exactly like a crashed one: the server may hold the key
with these parameters, so other parameters get :class:`IdempotencyConflictError`.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Self

from .._shared.aio import asyncio_sleep
from .._shared.errors import (
    DuplicateCallInFlightError,
    IdempotencyConflictError,
    InvalidParameterError,
    StoreError,
)
from .._shared.redact import mask_phone_numbers
from .aio import aclaim, run_to_completion
from .errors import LedgerRecordError
from .keys import _stored_key, fingerprint_request, ledger_scope
from .leases import (
    DEFAULT_RETENTION_SECONDS,
    Claimed,
    ClaimOutcome,
    Completed,
    InFlight,
    LeaseStore,
    Mismatch,
    check_positive_seconds,
)
from .redis_policy import EvictionPolicyCheck
from .redis_store import RedisLeaseStore
from .sqlite_store import DEFAULT_BUSY_TIMEOUT_SECONDS, SqliteLeaseStore

if TYPE_CHECKING:
    import redis

__all__ = [
    "DEFAULT_LEDGER_LEASE_SECONDS",
    "DEFAULT_LEDGER_SCOPE",
    "Completed",
    "DuplicateCallInFlightError",
    "IdempotencyConflictError",
    "IdempotencyLedger",
    "LedgerEntry",
    "LedgerRecordError",
    "RedisLedger",
    "SqliteLedger",
    "fingerprint_request",
    "ledger_scope",
]

_log = logging.getLogger("stateset_voice.ledger")

#: A claim outlives the client's 60 s deadline, so an in-progress create never loses it.
DEFAULT_LEDGER_LEASE_SECONDS: float = 120.0
#: The scope of ``begin`` calls that name none: fine for one API and credential per store.
DEFAULT_LEDGER_SCOPE = "default"
#: While waiting for another holder, poll after this long, doubling up to the maximum.
_FIRST_POLL_SECONDS = 0.05
_MAX_POLL_SECONDS = 1.0


class LedgerEntry:
    """Ownership of one idempotency key: send the request, then ``record`` or ``abandon``.

    The first of ``record`` and ``abandon`` wins (also across threads); ``abandon`` afterwards
    does nothing, so ``finally: entry.abandon()`` is safe, and ``record`` afterwards raises
    :class:`StoreError`.
    """

    def __init__(
        self, store: LeaseStore, key: str, token: str, *, scope: str = DEFAULT_LEDGER_SCOPE
    ) -> None:
        self.key = key
        self.scope = scope
        self._stored_key = _stored_key(scope, key)
        self._store = store
        self._token = token
        self._lock = threading.Lock()
        self._finished = False

    def __repr__(self) -> str:
        # A business key may embed a phone number: shown masked; ``key`` keeps it exact.
        key = mask_phone_numbers(self.key)
        return f"LedgerEntry(key={key!r}, scope={self.scope!r}, finished={self._finished})"

    def _finish(self) -> bool:
        """Mark the entry finished; False if it already was."""
        with self._lock:
            if self._finished:
                return False
            self._finished = True
            return True

    def record(self, result: bytes) -> None:
        """Record the created call (its JSON bytes); later ``begin`` calls return it.

        Raises :class:`LedgerRecordError` (carrying ``result``) if the store fails: the call
        was placed all the same, so return it.
        """
        if not self._finish():
            raise StoreError(f"ledger entry {self.key!r} was already recorded or abandoned")
        self._record(bytes(result))

    def _record(self, result: bytes) -> None:
        try:
            recorded = self._store.complete(self._stored_key, token=self._token, result=result)
        except Exception as exc:  # a custom store may raise anything: the call exists regardless
            raise LedgerRecordError(
                f"the call with idempotency key {self.key!r} was placed, but the ledger could not "
                f"record it ({type(exc).__name__}); the key stays claimed until its lease expires",
                key=self.key,
                scope=self.scope,
                result=result,
            ) from exc
        if not recorded:
            # The lease ran out and another worker took the key over; it re-sends the same key,
            # the server deduplicates, and it records the same call. Nothing is duplicated, so
            # this is not an error for the caller whose call did succeed.
            _log.warning(
                "idempotency key %r: the lease expired before the call was recorded; "
                "another worker took it over (raise lease_seconds if calls take this long)",
                self.key,
            )

    def abandon(self, *, maybe_sent: bool = True) -> None:
        """Give the key up after a failed attempt, so that a retry may claim it at once.

        ``maybe_sent=True`` (the default, always safe): the request may have reached the server,
        which may hold the key with these parameters; the same parameters may claim again at
        once, other parameters get :class:`IdempotencyConflictError` for the retention window.
        ``maybe_sent=False`` only when the request provably never left this process (refused
        before sending, or no attempt's connection was ever established): the key is forgotten,
        unless an earlier attempt on it may have reached the server.

        Never raises: a store failure is logged at WARNING and the claim simply expires with its
        lease, so the caller's own error is never masked.
        """
        if not self._finish():
            return
        self._abandon(bool(maybe_sent))

    def _abandon(self, maybe_sent: bool) -> None:
        try:
            self._store.release(self._stored_key, token=self._token, remember=maybe_sent)
        except Exception:
            _log.warning(
                "idempotency key %r: could not release the claim after a failed attempt; "
                "it is claimable again when its lease expires",
                self.key,
                exc_info=True,
            )

    async def arecord(self, result: bytes) -> None:
        """:meth:`record` from async code. The record runs in a worker thread and is written
        even if the awaiting task is cancelled (the call was placed; a failure then is logged)."""
        if not self._finish():
            raise StoreError(f"ledger entry {self.key!r} was already recorded or abandoned")
        data = bytes(result)
        await run_to_completion(
            lambda: self._record(data), what=f"recording idempotency key {self.key!r}"
        )

    async def aabandon(self, *, maybe_sent: bool = True) -> None:
        """:meth:`abandon` from async code; it completes even if the awaiting task is cancelled."""
        if not self._finish():
            return
        flag = bool(maybe_sent)
        await run_to_completion(
            lambda: self._abandon(flag), what=f"abandoning idempotency key {self.key!r}"
        )


class IdempotencyLedger:
    """Claims idempotency keys in a :class:`LeaseStore` before a create is sent.

    Use :class:`SqliteLedger` (one host) or :class:`RedisLedger` (a fleet); this base class
    takes any store. ``lease_seconds`` bounds how long a crashed holder blocks its key.
    """

    def __init__(
        self, store: LeaseStore, *, lease_seconds: float = DEFAULT_LEDGER_LEASE_SECONDS
    ) -> None:
        self.lease_seconds = check_positive_seconds("lease_seconds", lease_seconds)
        self.store = store

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r}, lease_seconds={self.lease_seconds})"

    def begin(
        self,
        key: str,
        *,
        fingerprint: str,
        scope: str = DEFAULT_LEDGER_SCOPE,
        wait: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> LedgerEntry | Completed:
        """Claim ``key`` in ``scope``: a :class:`LedgerEntry` to send with, or the recorded
        :class:`Completed`.

        If another worker holds the key, poll for up to ``wait`` seconds (of ``sleep``) for it to
        finish or give up, then raise :class:`DuplicateCallInFlightError`. A key known with a
        different ``fingerprint`` raises :class:`IdempotencyConflictError`. A store failure
        raises :class:`StoreError`; nothing was sent.
        """
        stored = _stored_key(scope, key)
        remaining, delay = _check_wait(wait), _FIRST_POLL_SECONDS
        while True:
            try:
                outcome = self.store.claim(
                    stored, fingerprint=fingerprint, lease_seconds=self.lease_seconds
                )
            except Exception as exc:
                raise _claim_failed(key, exc) from exc
            step = self._resolve(key, scope, outcome, remaining, delay)
            if not isinstance(step, float):
                return step
            sleep(step)
            remaining, delay = remaining - step, min(delay * 2, _MAX_POLL_SECONDS)

    async def abegin(
        self,
        key: str,
        *,
        fingerprint: str,
        scope: str = DEFAULT_LEDGER_SCOPE,
        wait: float = 0.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> LedgerEntry | Completed:
        """:meth:`begin` for async code: store calls run in a worker thread.

        If the awaiting task is cancelled while its claim is being made, the claim is released
        as soon as it exists (the request was never sent), and the cancellation propagates at
        once: a retry is not blocked for the lease.
        """
        stored = _stored_key(scope, key)
        pause = asyncio_sleep if sleep is None else sleep
        remaining, delay = _check_wait(wait), _FIRST_POLL_SECONDS
        while True:
            try:
                outcome = await aclaim(
                    self.store, stored, fingerprint=fingerprint, lease_seconds=self.lease_seconds
                )
            except Exception as exc:
                raise _claim_failed(key, exc) from exc
            step = self._resolve(key, scope, outcome, remaining, delay)
            if not isinstance(step, float):
                return step
            await pause(step)
            remaining, delay = remaining - step, min(delay * 2, _MAX_POLL_SECONDS)

    def _resolve(
        self, key: str, scope: str, outcome: ClaimOutcome, remaining: float, delay: float
    ) -> LedgerEntry | Completed | float:
        """The answer for a claim outcome, or how long to sleep before claiming again."""
        if isinstance(outcome, Claimed):
            return LedgerEntry(self.store, key, outcome.token, scope=scope)
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


def _check_wait(wait: float) -> float:
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not wait >= 0:
        raise InvalidParameterError("wait must be a number of seconds, zero or more")
    if not math.isfinite(wait):
        raise InvalidParameterError("wait must be finite")
    return float(wait)


def _claim_failed(key: str, exc: Exception) -> Exception:
    if isinstance(exc, InvalidParameterError):
        return exc
    return StoreError(
        f"the idempotency ledger could not claim the key ({type(exc).__name__}); nothing was sent",
        idempotency_key=key,
    )


class SqliteLedger(IdempotencyLedger):
    """The embedded ledger: one SQLite file, safe across threads and processes on one host.

    ``busy_timeout_seconds`` is how long a write queues behind other writers before it fails
    with :class:`StoreError` (default 30 s).

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
        busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
    ) -> None:
        check_positive_seconds("lease_seconds", lease_seconds)  # before opening: nothing leaks
        store = SqliteLeaseStore(
            path,
            namespace=namespace,
            clock=clock,
            retention_seconds=retention_seconds,
            busy_timeout_seconds=busy_timeout_seconds,
        )
        super().__init__(store, lease_seconds=lease_seconds)


class RedisLedger(IdempotencyLedger):
    """The ledger for a fleet of workers: Redis (needs the ``[redis]`` extra).

    The server must not evict the ledger's keys: opening the ledger checks its
    ``maxmemory-policy`` and, by default (``eviction_policy="refuse"``), raises
    :class:`ConfigurationError` for one that may evict; ``"warn"`` logs once and opens.

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
        eviction_policy: EvictionPolicyCheck = "refuse",
    ) -> None:
        check_positive_seconds("lease_seconds", lease_seconds)
        store = RedisLeaseStore(
            url_or_client,
            namespace=namespace,
            clock=clock,
            retention_seconds=retention_seconds,
            eviction_policy=eviction_policy,
        )
        super().__init__(store, lease_seconds=lease_seconds)
