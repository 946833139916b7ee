"""The storage layer's own errors: subclasses of :class:`StoreError` that carry what the caller
still needs when a store fails after the work it guarded was done, and the call limiters'
refusals.

::

    StoreError (RuntimeError)           a ledger or dedup store failed or was misused
    ├── LedgerRecordError               the call was placed, but the ledger could not record it
    └── HandledNotCommittedError        the webhook handler ran, but its event was not committed
    CallLimitError                      a call limiter refused within its wait; nothing was sent
    ├── ConcurrencyLimitError           ... no permit of the concurrency limit came free
    └── CallRateLimitError              ... the request rate limit stayed full (.retry_after)

Messages name the operation and the key (business ids, not secrets), or the limit, and never
the stored bytes (a recorded call holds phone numbers).
"""

from __future__ import annotations

from typing import Any

from .._shared.errors import StateSetVoiceError, StoreError

__all__ = [
    "CallLimitError",
    "CallRateLimitError",
    "ConcurrencyLimitError",
    "HandledNotCommittedError",
    "LedgerRecordError",
    "StoreError",
]


class LedgerRecordError(StoreError):
    """The call was placed (``result`` is its JSON), but the ledger could not record it.

    The call exists: return it to your caller. The key stays claimed until its lease expires;
    a retry after that re-sends the same key, which the server deduplicates, so nothing is
    placed twice. ``key`` is the idempotency key and ``scope`` its ledger scope.

    Example::

        try:
            entry.record(body)
        except LedgerRecordError as exc:
            log.warning("%s", exc)
            return json.loads(exc.result)
    """

    def __init__(self, message: str, *, key: str, scope: str, result: bytes) -> None:
        super().__init__(message, idempotency_key=key)
        self.key = key
        self.scope = scope
        self.result = result

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: rebuild through a helper so that pickling (a process pool
        # returning the error) keeps the fields.
        return (_rebuild_record_error, (self.message, self.key, self.scope, self.result))


class HandledNotCommittedError(StoreError):
    """The webhook handler returned ``value``, but the dedup store could not commit ``key``.

    The handler's side effect happened: acknowledge the delivery (answer 2xx). The event stays
    claimed until its lease expires, so a redelivery meanwhile is ``in_flight``; one that arrives
    after the lease (only if the 2xx is lost) runs the handler again.
    """

    def __init__(self, message: str, *, key: str, value: object) -> None:
        super().__init__(message)
        self.key = key
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_not_committed_error, (self.message, self.key, self.value))


class CallLimitError(StateSetVoiceError):
    """A call limiter refused the call within its wait; nothing was sent.

    ``limit`` is the limiter's name (what it counts: a tenant, a provider account), ``waited``
    the seconds this call waited, ``retry_after`` when a retry may succeed (None: unknown).
    Retry later with the same idempotency key. ``may_have_reached_server`` is always False.

    Example::

        try:
            voice.calls.create(to=..., from_=..., agent_key="front_desk", idempotency_key="a-1")
        except CallLimitError as exc:
            requeue("a-1", delay=exc.retry_after or 1.0)
    """

    def __init__(
        self,
        message: str,
        *,
        limit: str,
        waited: float,
        retry_after: float | None = None,
        **kwargs: object,
    ) -> None:
        kwargs["may_have_reached_server"] = False
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.limit = limit
        self.waited = waited
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        state = (self.message, self.limit, self.waited, self.retry_after, self.idempotency_key)
        return (_rebuild_limit_error, (type(self), *state))


class ConcurrencyLimitError(CallLimitError):
    """No permit of the concurrency limit came free within the wait: as many calls as the limit
    allows are in progress across every worker sharing it."""


class CallRateLimitError(CallLimitError):
    """The request rate limit stayed full for the whole wait; ``retry_after`` says when the
    oldest request in the window leaves it."""


def _rebuild_limit_error(
    cls: type[CallLimitError],
    message: str,
    limit: str,
    waited: float,
    retry_after: float | None,
    idempotency_key: str | None,
) -> CallLimitError:
    return cls(
        message,
        limit=limit,
        waited=waited,
        retry_after=retry_after,
        idempotency_key=idempotency_key,
    )


def _rebuild_record_error(message: str, key: str, scope: str, result: bytes) -> LedgerRecordError:
    return LedgerRecordError(message, key=key, scope=scope, result=result)


def _rebuild_not_committed_error(message: str, key: str, value: object) -> HandledNotCommittedError:
    return HandledNotCommittedError(message, key=key, value=value)


LedgerRecordError.__module__ = HandledNotCommittedError.__module__ = "stateset_voice_wrapper.stores"
for _cls in (CallLimitError, ConcurrencyLimitError, CallRateLimitError):
    _cls.__module__ = "stateset_voice_wrapper"  # raised by calls.create: public at the root
