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

The last two points make handler *runs* at-least-once in the face of crashes: a handler that
crashes after its side effect but before the commit will run again, so side effects should be
idempotent themselves (an upsert keyed by the event ``id``) where a repeat would hurt.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, Protocol, TypeVar

import attrs

from ..stores import Claimed, ClaimOutcome, Completed, InFlight, LeaseStore
from ._telemetry import counted

__all__ = [
    "DEFAULT_DEDUP_LEASE_SECONDS",
    "EventLike",
    "ExactlyOnceConsumer",
    "ProcessResult",
    "ProcessStatus",
]

_log = logging.getLogger("stateset_voice.webhooks")

#: How long a worker may hold an event before another delivery may take it over.
DEFAULT_DEDUP_LEASE_SECONDS: float = 30.0
#: Every event is claimed with this fingerprint: an event id has no "parameters" to compare.
_EVENT_FINGERPRINT = "webhook-event"

_E = TypeVar("_E")
_T = TypeVar("_T")


class EventLike(Protocol):
    """Any event object. The consumer reads ``id``, ``type``, ``call_id`` and ``session_id``
    with ``getattr`` (or ``.get`` on a mapping such as a parsed JSON body); each may be absent.
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


def _field(event: object, name: str) -> str | None:
    value = event.get(name) if isinstance(event, Mapping) else getattr(event, name, None)
    return value if isinstance(value, str) and value else None


class ExactlyOnceConsumer:
    """Runs a handler once per webhook event, deduplicated in a :class:`LeaseStore`.

    >>> consumer = ExactlyOnceConsumer(SqliteDedupStore("webhooks.db"))  # doctest: +SKIP
    >>> result = consumer.process(event, handle_event)                   # doctest: +SKIP
    >>> status_code = 200 if result.acknowledge else 409                 # doctest: +SKIP

    ``lease_seconds`` must exceed the handler's longest run: a handler still running when its
    lease expires may be run a second time by a redelivery (a warning is logged).
    """

    def __init__(
        self, store: LeaseStore, *, lease_seconds: float = DEFAULT_DEDUP_LEASE_SECONDS
    ) -> None:
        if not lease_seconds > 0:
            raise ValueError("lease_seconds must be positive")
        self.store = store
        self.lease_seconds = float(lease_seconds)

    def dedup_key(self, event: object) -> str:
        """The event ``id``; without one, ``"{call_id or session_id}:{type}"``."""
        event_id = _field(event, "id")
        if event_id is not None:
            return event_id
        subject = _field(event, "call_id") or _field(event, "session_id")
        event_type = _field(event, "type")
        if subject is None or event_type is None:
            raise ValueError(
                "cannot deduplicate an event without an id, or without a call_id/session_id and a type"
            )
        return f"{subject}:{event_type}"

    def process(self, event: _E, handler: Callable[[_E], _T]) -> ProcessResult[_T]:
        """Claim the event, run ``handler(event)`` if this delivery won, then commit.

        If the handler raises, the claim is released and the exception propagates.
        """
        key = self.dedup_key(event)
        claimed: str | ProcessResult[_T] = self._claimed(key, self._claim(key))
        if isinstance(claimed, ProcessResult):
            return counted(claimed, event)
        try:
            value = handler(event)
        except BaseException:
            self._release(key, claimed)
            counted(None, event)
            raise
        return counted(self._committed(key, claimed, value), event)

    async def aprocess(
        self, event: _E, handler: Callable[[_E], Awaitable[_T]]
    ) -> ProcessResult[_T]:
        """:meth:`process` for an async handler; store calls run in a worker thread."""
        key = self.dedup_key(event)
        claimed: str | ProcessResult[_T] = self._claimed(
            key, await asyncio.to_thread(self._claim, key)
        )
        if isinstance(claimed, ProcessResult):
            return counted(claimed, event)
        try:
            value = await handler(event)
        except BaseException:  # including cancellation: a redelivery must be able to run it
            await asyncio.to_thread(self._release, key, claimed)
            counted(None, event)
            raise
        return counted(await asyncio.to_thread(self._committed, key, claimed, value), event)

    # The steps shared by process and aprocess; only how they are called differs.

    def _claim(self, key: str) -> ClaimOutcome:
        return self.store.claim(
            key, fingerprint=_EVENT_FINGERPRINT, lease_seconds=self.lease_seconds
        )

    @staticmethod
    def _claimed(key: str, outcome: ClaimOutcome) -> str | ProcessResult[_T]:
        """The claim token if this delivery should run the handler, else its result."""
        if isinstance(outcome, Claimed):
            return outcome.token
        if isinstance(outcome, Completed):
            return ProcessResult(ProcessStatus.DUPLICATE, key)
        if isinstance(outcome, InFlight):
            return ProcessResult(ProcessStatus.IN_FLIGHT, key)
        raise ValueError(
            f"dedup key {key!r} is held in this store by something other than a webhook consumer: "
            "give the consumer its own namespace"
        )

    def _release(self, key: str, token: str) -> None:
        try:
            self.store.release(key, token=token)
        except Exception:
            # The handler's own exception matters more; the lease will expire on its own.
            _log.exception("could not release webhook event %r; it is retried after its lease", key)

    def _committed(self, key: str, token: str, value: _T) -> ProcessResult[_T]:
        if not self.store.complete(key, token=token, result=b""):
            _log.warning(
                "webhook event %r: the handler outlived its %s s lease and another delivery took "
                "the event over, so the handler may have run twice; raise lease_seconds",
                key,
                self.lease_seconds,
            )
        return ProcessResult(ProcessStatus.HANDLED, key, value)
