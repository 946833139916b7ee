"""Exactly-once webhook handling: claim the event, run the handler, commit.

StateSet delivers every event at least once (a delivery without a 2xx within 10 s is retried for
up to 24 h). :class:`ExactlyOnceConsumer` turns that into one successful handler run per event,
using the same lease store as the idempotency ledger:

* a redelivery of a committed event is a ``duplicate`` and the handler does not run;
* a delivery that arrives while another worker is handling the event is ``in_flight``: answer
  non-2xx (for example 409 or 503) so that the sender redelivers later;
* a handler that raises releases its claim, so the next delivery runs it again;
* a worker that dies mid-handler leaves its claim to expire after ``lease_seconds``; the next
  delivery after that runs the handler again. Nothing is lost.
* a commit that fails is retried a few times within the lease; if it still fails,
  :class:`HandledNotCommittedError` says the handler ran (answer 2xx) and carries its value.

The last points make handler *runs* at-least-once in the face of crashes: a handler that
crashes after its side effect but before the commit will run again, so side effects should be
idempotent themselves (an upsert keyed by the event ``id``) where a repeat would hurt.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

import attrs

from .._shared.aio import asyncio_sleep
from .._shared.errors import InvalidParameterError
from ..stores import (
    Claimed,
    ClaimOutcome,
    Completed,
    HandledNotCommittedError,
    InFlight,
    LeaseStore,
    StoreError,
    aclaim,
    acomplete,
    arelease,
)
from ._events import event_dedup_key
from ._telemetry import counted

__all__ = [
    "DEFAULT_DEDUP_LEASE_SECONDS",
    "EventLike",
    "ExactlyOnceConsumer",
    "HandledNotCommittedError",
    "ProcessResult",
    "ProcessStatus",
]

_log = logging.getLogger("stateset_voice.webhooks")

#: How long a worker may hold an event before another delivery may take it over.
DEFAULT_DEDUP_LEASE_SECONDS: float = 30.0
#: Every event is claimed with this fingerprint: an event id has no "parameters" to compare.
_EVENT_FINGERPRINT = "webhook-event"
#: Pauses between commit attempts after the handler succeeded; only those that fit in half the
#: lease are used, so a commit retry never lets a redelivery take the event over.
_COMMIT_RETRY_DELAYS = (0.05, 0.25, 1.0)

_E = TypeVar("_E")
_T = TypeVar("_T")


class EventLike(Protocol):
    """Any event object: a parsed event, a mapping (a parsed JSON body), or an attrs or
    dataclass instance. See :func:`~stateset_voice_wrapper.webhooks.event_dedup_key`.
    """


class ProcessStatus(enum.Enum):
    """What :meth:`ExactlyOnceConsumer.process` did with one delivery."""

    HANDLED = "handled"  # the handler ran and its completion was committed: answer 2xx
    DUPLICATE = "duplicate"  # already handled earlier: answer 2xx, do nothing
    IN_FLIGHT = "in_flight"  # another worker is handling it now: answer non-2xx to get redelivered


@attrs.frozen
class ProcessResult(Generic[_T]):
    """The outcome of one delivery; ``value`` is the handler's return value when it ran."""

    status: ProcessStatus
    key: str
    value: _T | None = None

    @property
    def handled(self) -> bool:
        return self.status is ProcessStatus.HANDLED

    @property
    def duplicate(self) -> bool:
        return self.status is ProcessStatus.DUPLICATE

    @property
    def in_flight(self) -> bool:
        return self.status is ProcessStatus.IN_FLIGHT

    @property
    def acknowledge(self) -> bool:
        """Whether the endpoint should answer 2xx (handled or duplicate)."""
        return self.status is not ProcessStatus.IN_FLIGHT


class ExactlyOnceConsumer:
    """Runs a handler once per webhook event, deduplicated in a :class:`LeaseStore`.

    >>> consumer = ExactlyOnceConsumer(SqliteDedupStore("webhooks.db"))  # doctest: +SKIP
    >>> result = consumer.process(event, handle_event)                   # doctest: +SKIP
    >>> status_code = 200 if result.acknowledge else 409                 # doctest: +SKIP

    ``lease_seconds`` must exceed the handler's longest run: a handler still running when its
    lease expires may be run a second time by a redelivery (a warning is logged). ``sleep`` and
    ``async_sleep`` pause between commit retries (tests pass instant ones).
    """

    def __init__(
        self,
        store: LeaseStore,
        *,
        lease_seconds: float = DEFAULT_DEDUP_LEASE_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if isinstance(lease_seconds, bool) or not isinstance(lease_seconds, int | float):
            raise InvalidParameterError("lease_seconds must be a number of seconds")
        if not 0 < lease_seconds < float("inf"):
            raise InvalidParameterError("lease_seconds must be positive and finite")
        self.store = store
        self.lease_seconds = float(lease_seconds)
        self._sleep = sleep
        self._async_sleep = async_sleep
        budget, delays = self.lease_seconds / 2, []
        for delay in _COMMIT_RETRY_DELAYS:
            if delay > budget:
                break
            delays.append(delay)
            budget -= delay
        self._commit_delays = tuple(delays)

    @staticmethod
    def dedup_key(event: object) -> str:
        """The event's dedup key: :func:`~stateset_voice_wrapper.webhooks.event_dedup_key`."""
        return event_dedup_key(event)

    def process(self, event: _E, handler: Callable[[_E], _T]) -> ProcessResult[_T]:
        """Claim the event, run ``handler(event)`` if this delivery won, then commit.

        If the handler raises, the claim is released and the exception propagates (a failure to
        release is logged, never raised over it). If the commit fails after the handler
        returned, it is retried; if it keeps failing, :class:`HandledNotCommittedError` is
        raised with the handler's value. A store failure before the handler ran raises
        :class:`StoreError` (answer non-2xx: nothing was handled).
        """
        key = event_dedup_key(event)
        claimed: str | ProcessResult[_T] = self._claimed(key, self._claim(key))
        if isinstance(claimed, ProcessResult):
            return counted(claimed, event)
        try:
            value = handler(event)
        except BaseException:
            self._release(key, claimed)
            counted(None, event)
            raise
        for delay in self._commit_delays:
            try:
                return counted(self._committed(key, claimed, value), event)
            except StoreError as exc:
                self._log_commit_retry(key, exc, delay)
            self._sleep(delay)
        try:
            return counted(self._committed(key, claimed, value), event)
        except StoreError as exc:
            counted(None, event)
            raise self._not_committed(key, value) from exc

    async def aprocess(
        self, event: _E, handler: Callable[[_E], Awaitable[_T]]
    ) -> ProcessResult[_T]:
        """:meth:`process` for an async handler; store calls run in a worker thread.

        Cancelled while claiming: the claim is released. Cancelled in the handler: the claim is
        released, so a redelivery runs it. Cancelled while committing: the commit completes in
        the background.
        """
        key = event_dedup_key(event)
        try:
            outcome = await aclaim(
                self.store, key, fingerprint=_EVENT_FINGERPRINT, lease_seconds=self.lease_seconds
            )
        except StoreError:
            raise
        except Exception as exc:
            raise _store_failed("claim", key, exc) from exc
        claimed: str | ProcessResult[_T] = self._claimed(key, outcome)
        if isinstance(claimed, ProcessResult):
            return counted(claimed, event)
        try:
            value = await handler(event)
        except BaseException:  # including cancellation: a redelivery must be able to run it
            try:
                await arelease(self.store, key, token=claimed)
            except Exception:
                _log_release_failure(key)
            counted(None, event)
            raise
        pause = asyncio_sleep if self._async_sleep is None else self._async_sleep
        for delay in self._commit_delays:
            try:
                done = await acomplete(self.store, key, token=claimed, result=b"")
            except Exception as exc:
                self._log_commit_retry(key, exc, delay)
            else:
                return counted(self._committed_as(key, value, done), event)
            await pause(delay)
        try:
            done = await acomplete(self.store, key, token=claimed, result=b"")
        except Exception as exc:
            counted(None, event)
            raise self._not_committed(key, value) from exc
        return counted(self._committed_as(key, value, done), event)

    # The steps shared by process and aprocess; only how they are called differs.

    def _claim(self, key: str) -> ClaimOutcome:
        try:
            return self.store.claim(
                key, fingerprint=_EVENT_FINGERPRINT, lease_seconds=self.lease_seconds
            )
        except StoreError:
            raise
        except Exception as exc:  # a custom store's own failure
            raise _store_failed("claim", key, exc) from exc

    @staticmethod
    def _claimed(key: str, outcome: ClaimOutcome) -> str | ProcessResult[_T]:
        """The claim token if this delivery should run the handler, else its result."""
        if isinstance(outcome, Claimed):
            return outcome.token
        if isinstance(outcome, Completed):
            return ProcessResult(ProcessStatus.DUPLICATE, key)
        if isinstance(outcome, InFlight):
            return ProcessResult(ProcessStatus.IN_FLIGHT, key)
        raise StoreError(
            f"dedup key {key!r} is held in this store by something other than a webhook consumer: "
            "give the consumer its own namespace"
        )

    def _release(self, key: str, token: str) -> None:
        try:
            self.store.release(key, token=token)
        except Exception:
            _log_release_failure(key)

    def _committed(self, key: str, token: str, value: _T) -> ProcessResult[_T]:
        try:
            done = self.store.complete(key, token=token, result=b"")
        except StoreError:
            raise
        except Exception as exc:
            raise _store_failed("commit", key, exc) from exc
        return self._committed_as(key, value, done)

    def _committed_as(self, key: str, value: _T, done: bool) -> ProcessResult[_T]:
        if not done:
            _log.warning(
                "webhook event %r: the handler outlived its %s s lease and another delivery took "
                "the event over, so the handler may have run twice; raise lease_seconds",
                key,
                self.lease_seconds,
            )
        return ProcessResult(ProcessStatus.HANDLED, key, value)

    @staticmethod
    def _log_commit_retry(key: str, exc: Exception, delay: float) -> None:
        _log.warning(
            "webhook event %r: the handler succeeded but the commit failed (%s); retrying in %s s",
            key,
            type(exc).__name__,
            delay,
        )

    def _not_committed(self, key: str, value: _T) -> HandledNotCommittedError:
        return HandledNotCommittedError(
            f"webhook event {key!r}: the handler succeeded but the dedup store could not commit "
            f"it after {len(self._commit_delays) + 1} attempts; acknowledge the delivery. "
            f"The event stays claimed for its lease ({self.lease_seconds} s)",
            key=key,
            value=value,
        )


def _store_failed(operation: str, key: str, exc: Exception) -> StoreError:
    return StoreError(f"dedup store: {operation} of {key!r} failed ({type(exc).__name__})")


def _log_release_failure(key: str) -> None:
    # The handler's own exception matters more; the lease will expire on its own.
    _log.warning(
        "could not release webhook event %r; it is retried after its lease", key, exc_info=True
    )
