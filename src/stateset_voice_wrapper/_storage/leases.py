"""Durable leases: claim a key, then complete or release it.

One primitive serves two features: the idempotency ledger for outbound calls (``ledger.py``)
and the exactly-once webhook consumer (``webhooks/_consumer.py``). A key moves through::

    absent --claim--> claimed(token, lease) --complete(token)--> completed(result)
                          |   \\--release(token)--> absent
                          \\--lease expires--> claimable again: the next claim takes it over

* ``claim`` returns :class:`Claimed` (you own the key until the lease expires), :class:`Completed`
  (someone finished it; here is what they recorded), :class:`InFlight` (someone holds a live
  lease) or :class:`Mismatch` (the key is known with a different fingerprint).
* ``complete`` and ``release`` only succeed for the token that still owns the key; once another
  caller has taken over an expired lease, the old token gets ``False``.
* A completed key is remembered for ``retention_seconds`` (default 24 h, the server's idempotency
  window) and then forgotten. A claim is remembered for its lease plus the retention, so that a
  crashed claim's fingerprint is still checked while the server may hold the key.

The decisions are pure functions of (stored record, now); each store only supplies an atomic
read-decide-write (:meth:`LeaseStoreBase._update`), so SQLite (``sqlite_store.py``) and Redis
(``redis_store.py``) share one state machine.
Time comes from an injectable ``clock`` (wall-clock seconds, because leases are compared across
processes and hosts), so tests never sleep.
"""

from __future__ import annotations

import abc
import secrets
from collections.abc import Callable
from typing import Literal, Protocol, Self, TypeAlias, TypeVar

import attrs

__all__ = [
    "DEFAULT_RETENTION_SECONDS",
    "ClaimOutcome",
    "Claimed",
    "Completed",
    "InFlight",
    "LeaseChange",
    "LeaseRecord",
    "LeaseStore",
    "LeaseStoreBase",
    "Mismatch",
]

#: How long a completed key is remembered: the server's idempotency window.
DEFAULT_RETENTION_SECONDS: float = 24 * 60 * 60

_T = TypeVar("_T")


@attrs.frozen
class Claimed:
    """You own the key until the lease expires; finish with ``complete`` or ``release``."""

    token: str


@attrs.frozen
class Completed:
    """Someone finished the key; ``result`` is what they recorded."""

    # The result may hold personal data (a created call's phone numbers): keep it out of reprs.
    result: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")


@attrs.frozen
class InFlight:
    """Someone else holds a live lease, until ``expires_at`` (store clock seconds)."""

    expires_at: float


@attrs.frozen
class Mismatch:
    """The key was claimed or completed with a different fingerprint."""


ClaimOutcome: TypeAlias = Claimed | Completed | InFlight | Mismatch


class LeaseStore(Protocol):
    """A durable store of leased keys. See the module docstring for the state machine."""

    def claim(self, key: str, *, fingerprint: str, lease_seconds: float) -> ClaimOutcome: ...

    def complete(self, key: str, *, token: str, result: bytes) -> bool: ...

    def release(self, key: str, *, token: str) -> bool: ...

    def get(self, key: str) -> Completed | InFlight | None: ...

    def close(self) -> None: ...


# --- the state machine: pure functions of (record, now) -----------------------------------------


@attrs.frozen
class LeaseRecord:
    fingerprint: str
    token: str | None  # the lease holder; None once completed
    lease_expires_at: float  # meaningful while claimed
    forget_at: float  # from this instant the record counts as absent
    result: bytes | None  # set once completed


#: What an update does to the stored record: write this one, delete it, or leave it alone.
LeaseChange: TypeAlias = LeaseRecord | Literal["delete"] | None


def _live(record: LeaseRecord | None, now: float) -> LeaseRecord | None:
    return record if record is not None and now < record.forget_at else None


def _decide_claim(
    record: LeaseRecord | None,
    now: float,
    *,
    fingerprint: str,
    lease_seconds: float,
    retention_seconds: float,
    token: str,
) -> tuple[ClaimOutcome, LeaseChange]:
    record = _live(record, now)
    if record is not None:
        if record.fingerprint != fingerprint:
            return Mismatch(), None
        if record.result is not None:
            return Completed(record.result), None
        if now < record.lease_expires_at:
            return InFlight(record.lease_expires_at), None
        # An expired lease: its holder crashed or stalled; take it over with a new token.
    lease_expires_at = now + lease_seconds
    claimed = LeaseRecord(
        fingerprint, token, lease_expires_at, lease_expires_at + retention_seconds, None
    )
    return Claimed(token), claimed


def _decide_complete(
    record: LeaseRecord | None, now: float, *, token: str, result: bytes, retention_seconds: float
) -> tuple[bool, LeaseChange]:
    # A holder whose lease ran out may still complete as long as nobody took the key over.
    if record is None or record.result is not None or record.token != token:
        return False, None
    return True, LeaseRecord(record.fingerprint, None, now, now + retention_seconds, result)


def _decide_release(
    record: LeaseRecord | None, now: float, *, token: str
) -> tuple[bool, LeaseChange]:
    if record is None or record.result is not None or record.token != token:
        return False, None
    return True, "delete"


def _visible_state(record: LeaseRecord | None, now: float) -> Completed | InFlight | None:
    record = _live(record, now)
    if record is None:
        return None
    if record.result is not None:
        return Completed(record.result)
    if now < record.lease_expires_at:
        return InFlight(record.lease_expires_at)
    return None


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError("a lease key must be a non-empty string")


# --- the shared store front-end ---------------------------------------------------------------


class LeaseStoreBase(abc.ABC):
    """Implements :class:`LeaseStore` over one atomic primitive supplied by each backend."""

    def __init__(self, *, clock: Callable[[], float], retention_seconds: float) -> None:
        if not retention_seconds > 0:
            raise ValueError("retention_seconds must be positive")
        self._clock = clock
        self._retention_seconds = float(retention_seconds)

    @property
    def retention_seconds(self) -> float:
        """How long a completed key is remembered."""
        return self._retention_seconds

    def claim(self, key: str, *, fingerprint: str, lease_seconds: float) -> ClaimOutcome:
        """Claim ``key`` for ``lease_seconds``, or report who has it."""
        _check_key(key)
        if not lease_seconds > 0:
            raise ValueError("lease_seconds must be positive")
        token = secrets.token_hex(16)
        return self._update(
            key,
            lambda record, now: _decide_claim(
                record,
                now,
                fingerprint=fingerprint,
                lease_seconds=float(lease_seconds),
                retention_seconds=self._retention_seconds,
                token=token,
            ),
        )

    def complete(self, key: str, *, token: str, result: bytes) -> bool:
        """Record ``result``; False if ``token`` no longer owns the key (it was taken over)."""
        _check_key(key)
        result = bytes(result)
        return self._update(
            key,
            lambda record, now: _decide_complete(
                record, now, token=token, result=result, retention_seconds=self._retention_seconds
            ),
        )

    def release(self, key: str, *, token: str) -> bool:
        """Give up the claim so another caller can claim now; False if ``token`` lost it."""
        _check_key(key)
        return self._update(key, lambda record, now: _decide_release(record, now, token=token))

    def get(self, key: str) -> Completed | InFlight | None:
        """The key's visible state: completed, held by a live lease, or claimable (None)."""
        _check_key(key)
        return _visible_state(self._read(key), self._clock())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def _read(self, key: str) -> LeaseRecord | None: ...

    @abc.abstractmethod
    def _update(
        self, key: str, decide: Callable[[LeaseRecord | None, float], tuple[_T, LeaseChange]]
    ) -> _T:
        """Atomically read the record, call ``decide(record, now)`` and apply its change."""
