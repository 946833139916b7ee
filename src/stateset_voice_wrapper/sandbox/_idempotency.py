"""The server side of ``Idempotency-Key``: first response recorded, replays, conflicts, counts.

Semantics (from the contracts' ``IdempotencyKey`` parameter): the first response for a key is
kept for 24 hours (of the sandbox clock); the same key with the same request (method, path and JSON body) gets that
response again, marked ``Idempotent-Replayed: true``; the same key with a different request is
a 409 ``idempotency_conflict``; the same key while the first request is still being processed is
a 409 ``idempotency_in_progress``. Keys are scoped per credential, like a real tenant's.

Only responses the operation produced are recorded (status < 500). A request refused before it
ran (auth, validation, an injected fault) or that failed with a 5xx leaves no record, so a retry
runs it afresh.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from ._constants import IDEMPOTENCY_TTL_SECONDS
from ._util import canonical_body

ANONYMOUS_SCOPE: Final = "anonymous"
"""Scope of the keys sent to operations that need no credential."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete HTTP answer of an operation, as recorded and replayed."""

    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass(slots=True)
class _Record:
    fingerprint: str
    created: float
    reply: Reply | None = None


@dataclass(frozen=True, slots=True)
class Begin:
    """What to do with a request carrying a key: run it, replay, or refuse it."""

    outcome: Literal["new", "replay", "conflict", "in_progress"]
    reply: Reply | None = None


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Identity of a request for conflict detection: same JSON value, same fingerprint."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical_body(body)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyStore:
    """Records per (scope, key), and how many resources each key actually created.

    Memory is bounded: a record older than ``ttl_seconds`` is dropped (it would no longer be
    replayed anyway), and a scope keeps at most ``max_keys`` records (``max_anonymous_keys`` for
    the ``anonymous`` scope of the operations that need no credential), forgetting its oldest
    first. Creation counts are bounded the same way per operation (``anonymous_operations``
    get the anonymous bound). ``clock`` is the sandbox
    clock, so ``advance(seconds=86_400)`` ends the 24-hour window like a day would.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl_seconds: float = IDEMPOTENCY_TTL_SECONDS,
        max_keys: int = 20_000,
        max_anonymous_keys: int = 1_000,
        anonymous_operations: frozenset[str] = frozenset(),
    ) -> None:
        self._clock = clock
        self.anonymous_operations = anonymous_operations
        self.ttl_seconds = ttl_seconds
        self.max_keys = max_keys
        self.max_anonymous_keys = max_anonymous_keys
        # Per scope, oldest first (a record is re-inserted when its key starts over).
        self._records: dict[str, OrderedDict[str, _Record]] = {}
        self._creations: dict[str, OrderedDict[str, int]] = {}
        self.forgotten = 0
        """Records dropped early because their scope was full."""

    def _cap(self, scope_or_operation: str) -> int:
        anonymous = (
            scope_or_operation == ANONYMOUS_SCOPE or scope_or_operation in self.anonymous_operations
        )
        return self.max_anonymous_keys if anonymous else self.max_keys

    def _expire(self, records: OrderedDict[str, _Record], now: float) -> None:
        while records:
            record = next(iter(records.values()))
            if now - record.created <= self.ttl_seconds:
                return
            records.popitem(last=False)

    @property
    def size(self) -> int:
        """Records held, every scope together."""
        return sum(len(records) for records in self._records.values())

    def begin(self, scope: str, key: str, request_fingerprint: str) -> Begin:
        now = self._clock()
        records = self._records.setdefault(scope, OrderedDict())
        self._expire(records, now)
        record = records.get(key)
        if record is None:
            while len(records) >= self._cap(scope):
                records.popitem(last=False)
                self.forgotten += 1
            records[key] = _Record(fingerprint=request_fingerprint, created=now)
            return Begin("new")
        if record.fingerprint != request_fingerprint:
            return Begin("conflict")
        if record.reply is None:
            return Begin("in_progress")
        return Begin("replay", record.reply)

    def finish(self, scope: str, key: str, reply: Reply | None) -> None:
        """Record ``reply`` for the key, or forget the key when ``reply`` is None."""
        records = self._records.get(scope)
        if records is None:
            return
        if reply is None or reply.status >= 500:
            records.pop(key, None)
            return
        record = records.get(key)
        if record is not None:
            record.reply = reply

    def count_creation(self, operation_id: str, key: str | None) -> None:
        """Note that ``operation_id`` created a resource for ``key`` (no-op without a key)."""
        if key is None:
            return
        counts = self._creations.setdefault(operation_id, OrderedDict())
        if key not in counts:
            while len(counts) >= self._cap(operation_id):
                counts.popitem(last=False)
        counts[key] = counts.get(key, 0) + 1

    def creations_per_key(self, operation_id: str = "make_call") -> dict[str, int]:
        """Resources created per key by ``operation_id``; a correct server never exceeds 1."""
        return dict(self._creations.get(operation_id, {}))

    def all_creations(self) -> dict[str, dict[str, int]]:
        return {op: dict(counts) for op, counts in self._creations.items()}
