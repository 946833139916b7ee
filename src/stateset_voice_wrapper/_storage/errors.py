"""The storage layer's own errors: subclasses of :class:`StoreError` that carry what the caller
still needs when a store fails after the work it guarded was done.

::

    StoreError (RuntimeError)           a ledger or dedup store failed or was misused
    ├── LedgerRecordError               the call was placed, but the ledger could not record it
    └── HandledNotCommittedError        the webhook handler ran, but its event was not committed

Messages name the operation and the key (business ids, not secrets) and never the stored bytes
(a recorded call holds phone numbers).
"""

from __future__ import annotations

from typing import Any

from .._shared.errors import StoreError

__all__ = ["HandledNotCommittedError", "LedgerRecordError", "StoreError"]


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


def _rebuild_record_error(message: str, key: str, scope: str, result: bytes) -> LedgerRecordError:
    return LedgerRecordError(message, key=key, scope=scope, result=result)


def _rebuild_not_committed_error(message: str, key: str, value: object) -> HandledNotCommittedError:
    return HandledNotCommittedError(message, key=key, value=value)


LedgerRecordError.__module__ = HandledNotCommittedError.__module__ = "stateset_voice_wrapper.stores"
