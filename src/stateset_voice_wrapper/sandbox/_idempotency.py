"""The server side of ``Idempotency-Key``: first response recorded, replays, conflicts, counts.

Semantics (from the contracts' ``IdempotencyKey`` parameter): the first response for a key is
kept for 24 hours; the same key with the same request (method, path and JSON body) gets that
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
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ._constants import IDEMPOTENCY_TTL_SECONDS
from ._util import canonical_body


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
    """Records per (scope, key), and how many resources each key actually created."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._records: dict[tuple[str, str], _Record] = {}
        self._creations: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def begin(self, scope: str, key: str, request_fingerprint: str) -> Begin:
        now = self._clock()
        record = self._records.get((scope, key))
        if record is not None and now - record.created > IDEMPOTENCY_TTL_SECONDS:
            record = None
        if record is None:
            self._records[(scope, key)] = _Record(fingerprint=request_fingerprint, created=now)
            return Begin("new")
        if record.fingerprint != request_fingerprint:
            return Begin("conflict")
        if record.reply is None:
            return Begin("in_progress")
        return Begin("replay", record.reply)

    def finish(self, scope: str, key: str, reply: Reply | None) -> None:
        """Record ``reply`` for the key, or forget the key when ``reply`` is None."""
        if reply is None or reply.status >= 500:
            self._records.pop((scope, key), None)
            return
        record = self._records.get((scope, key))
        if record is not None:
            record.reply = reply

    def count_creation(self, operation_id: str, key: str | None) -> None:
        """Note that ``operation_id`` created a resource for ``key`` (no-op without a key)."""
        if key is not None:
            self._creations[operation_id][key] += 1

    def creations_per_key(self, operation_id: str = "make_call") -> dict[str, int]:
        """Resources created per key by ``operation_id``; a correct server never exceeds 1."""
        return dict(self._creations.get(operation_id, Counter()))

    def all_creations(self) -> dict[str, dict[str, int]]:
        return {op: dict(counts) for op, counts in self._creations.items()}
