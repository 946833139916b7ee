"""Durable leases: claim a key, then complete or release it.

One primitive serves two features: the idempotency ledger for outbound calls (``ledger.py``)
and the exactly-once webhook consumer (``webhooks/_consumer.py``). A key moves through::

    absent --claim--> claimed(token, lease) --complete(token)--> completed(result)
                        |  |--release(token)--> absent, or remembered (see below)
                        |  `--release(token, remember=True)--> remembered
                        `--lease expires--> remembered
    remembered: claimable again by the same fingerprint (the claim takes over with a new
                token); a different fingerprint is a Mismatch until the record is forgotten

* ``claim`` returns :class:`Claimed` (you own the key until the lease expires), :class:`Completed`
  (someone finished it; here is what they recorded), :class:`InFlight` (someone holds a live
  lease) or :class:`Mismatch` (the key is known with a different fingerprint).
* ``complete`` and ``release`` only succeed for the token that still owns the key; once another
  caller has taken over an expired lease, the old token gets ``False``.
* A completed key is remembered for ``retention_seconds`` (default 24 h, the server's idempotency
  window) and then forgotten. A claim is remembered for its lease plus the retention, so that a
  crashed claim's fingerprint is still checked while the server may hold the key.
* ``release(remember=True)`` is for a holder whose work may have had an effect elsewhere (a
  request that may have reached the server): the lease ends at once, the fingerprint is kept
  for ``retention_seconds``. A plain ``release`` forgets the key, unless an *earlier* holder of
  it (a crashed claim that was taken over, or a remembered release) may have had an effect: then
  that earlier protection is kept until it would have been forgotten anyway.
* Every decision is idempotent for its own token: a claim or complete that is applied, loses its
  reply (a dropped connection) and is sent again answers as if the first reply had arrived.

The decisions are pure functions of (stored record, now); each store only supplies an atomic
read-decide-write (:meth:`LeaseStoreBase._update`), so SQLite (``sqlite_store.py``) and Redis
(``redis_store.py``) share one state machine.
Time comes from an injectable ``clock`` (wall-clock seconds, because leases are compared across
processes and hosts), so tests never sleep.

Every failure of the backend (SQLite, Redis) surfaces as :class:`StoreError` naming the
operation and the key, with the backend's exception as ``__cause__``; bad arguments raise
:class:`InvalidParameterError`.
"""

from __future__ import annotations

import abc
import contextlib
import math
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Literal, Protocol, Self, TypeAlias, TypeVar

import attrs

from .._shared.errors import InvalidParameterError, StateSetVoiceError, StoreError
from .._shared.redact import mask_phone_numbers

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

    def release(self, key: str, *, token: str, remember: bool = False) -> bool: ...

    def get(self, key: str) -> Completed | InFlight | None: ...

    def close(self) -> None: ...


# --- the state machine: pure functions of (record, now) -----------------------------------------


@attrs.frozen
class LeaseRecord:
    fingerprint: str
    token: str | None  # the lease holder (the completer, once completed); None once released
    lease_expires_at: float  # meaningful while claimed
    forget_at: float  # from this instant the record counts as absent
    result: bytes | None = attrs.field(repr=lambda value: "None" if value is None else "<bytes>")
    # Until when an earlier holder's attempt may have had an effect (None: no earlier holder
    # could have): a plain release keeps the fingerprint that long instead of forgetting it.
    earlier_forget_at: float | None = None


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
    earlier_forget_at: float | None = None
    if record is not None:
        if record.token == token and record.result is None:
            return Claimed(token), None  # our own claim, applied once already (a lost reply)
        if record.fingerprint != fingerprint:
            return Mismatch(), None
        if record.result is not None:
            return Completed(record.result), None
        if now < record.lease_expires_at:
            return InFlight(record.lease_expires_at), None
        # An expired lease (its holder crashed or stalled) or a remembered release: take it
        # over with a new token, and keep the earlier holder's protection.
        earlier_forget_at = record.forget_at
    lease_expires_at = now + lease_seconds
    claimed = LeaseRecord(
        fingerprint,
        token,
        lease_expires_at,
        lease_expires_at + retention_seconds,
        None,
        earlier_forget_at,
    )
    return Claimed(token), claimed


def _decide_complete(
    record: LeaseRecord | None, now: float, *, token: str, result: bytes, retention_seconds: float
) -> tuple[bool, LeaseChange]:
    if record is None or record.token != token:
        return False, None
    if record.result is not None:
        return record.result == result, None  # our own complete, applied once already
    # A holder whose lease ran out may still complete as long as nobody took the key over.
    return True, LeaseRecord(record.fingerprint, token, now, now + retention_seconds, result)


def _decide_release(
    record: LeaseRecord | None,
    now: float,
    *,
    token: str,
    remember: bool,
    retention_seconds: float,
) -> tuple[bool, LeaseChange]:
    if record is None or record.result is not None or record.token != token:
        return False, None
    keep_until = record.earlier_forget_at
    if remember:
        keep_until = max(now + retention_seconds, keep_until or -math.inf)
    if keep_until is None or keep_until <= now:
        return True, "delete"
    # Remembered: no holder, the lease over, the fingerprint kept until keep_until.
    return True, LeaseRecord(record.fingerprint, None, now, keep_until, None, keep_until)


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
        raise InvalidParameterError("a lease key must be a non-empty string")


def check_positive_seconds(name: str, value: float) -> float:
    """``value`` as a float, or :class:`InvalidParameterError` unless it is finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(f"{name} must be a number of seconds")
    if not (value > 0 and math.isfinite(value)):
        raise InvalidParameterError(f"{name} must be positive and finite")
    return float(value)


# --- the shared store front-end ---------------------------------------------------------------


class LeaseStoreBase(abc.ABC):
    """Implements :class:`LeaseStore` over one atomic primitive supplied by each backend.

    Subclasses set ``_backend_errors`` (what their backend raises when it fails); those are
    wrapped in :class:`StoreError` here, in one place.
    """

    _backend_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, *, clock: Callable[[], float], retention_seconds: float) -> None:
        self._retention_seconds = check_positive_seconds("retention_seconds", retention_seconds)
        self._clock = clock
        self._closed = False
        self._close_lock = threading.Lock()

    @property
    def retention_seconds(self) -> float:
        """How long a completed key is remembered."""
        return self._retention_seconds

    def claim(self, key: str, *, fingerprint: str, lease_seconds: float) -> ClaimOutcome:
        """Claim ``key`` for ``lease_seconds``, or report who has it."""
        _check_key(key)
        if not isinstance(fingerprint, str):
            raise InvalidParameterError("a fingerprint must be a string")
        lease = check_positive_seconds("lease_seconds", lease_seconds)
        token = secrets.token_hex(16)
        with self._backend_call("claim", key):
            return self._update(
                key,
                lambda record, now: _decide_claim(
                    record,
                    now,
                    fingerprint=fingerprint,
                    lease_seconds=lease,
                    retention_seconds=self._retention_seconds,
                    token=token,
                ),
            )

    def complete(self, key: str, *, token: str, result: bytes) -> bool:
        """Record ``result``; False if ``token`` no longer owns the key (it was taken over)."""
        _check_key(key)
        result = bytes(result)
        with self._backend_call("complete", key):
            return self._update(
                key,
                lambda record, now: _decide_complete(
                    record,
                    now,
                    token=token,
                    result=result,
                    retention_seconds=self._retention_seconds,
                ),
            )

    def release(self, key: str, *, token: str, remember: bool = False) -> bool:
        """Give up the claim so that a claim may take the key at once; False if ``token`` lost it.

        ``remember=True`` keeps the fingerprint for ``retention_seconds`` (the holder's work may
        have had an effect elsewhere); otherwise the key is forgotten unless an earlier holder's
        protection is still running (see the module docstring).
        """
        _check_key(key)
        with self._backend_call("release", key):
            return self._update(
                key,
                lambda record, now: _decide_release(
                    record,
                    now,
                    token=token,
                    remember=bool(remember),
                    retention_seconds=self._retention_seconds,
                ),
            )

    def get(self, key: str) -> Completed | InFlight | None:
        """The key's visible state: completed, held by a live lease, or claimable (None)."""
        _check_key(key)
        with self._backend_call("read", key):
            record = self._read(key)
        return _visible_state(record, self._clock())

    def _apply(
        self,
        key: str,
        decide: Callable[[LeaseRecord | None, float], tuple[_T, LeaseChange]],
        *,
        operation: str,
    ) -> _T:
        """Apply a decision of one's own to ``key`` through the atomic primitive, with the same
        error mapping: for the state machines built on lease records (``permits.py``)."""
        _check_key(key)
        with self._backend_call(operation, key):
            return self._update(key, decide)

    def get_many(self, keys: Sequence[str]) -> list[Completed | InFlight | None]:
        """:meth:`get` of several keys at once (Redis: one round trip; SQLite: one query).

        Each key is read atomically, the set of them is not: a snapshot for scanning, such as
        the free slots of a concurrency limit, to be confirmed by a claim.
        """
        for key in keys:
            _check_key(key)
        with self._backend_call("read", None):
            records = self._read_many(list(keys))
        now = self._clock()
        return [_visible_state(record, now) for record in records]

    def close(self) -> None:
        """Release the backend's resources; later operations raise :class:`StoreError`."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _backend_call(self, operation: str, key: str | None) -> Iterator[None]:
        """Map the backend's failures to :class:`StoreError`, naming the operation and the key.

        The message carries the backend exception's class, not its text: the text can quote
        stored values. The exception itself is the ``__cause__``. A business key may embed a
        phone number, so the key is shown masked.
        """
        what = operation if key is None else f"{operation} of key {mask_phone_numbers(key)!r}"
        if self._closed:
            raise StoreError(f"{self!r} is closed: {what} refused")
        try:
            yield
        except StateSetVoiceError:
            raise
        except self._backend_errors as exc:
            raise StoreError(f"{self!r}: {what} failed ({type(exc).__name__})") from exc

    @abc.abstractmethod
    def _close(self) -> None: ...

    @abc.abstractmethod
    def _read(self, key: str) -> LeaseRecord | None: ...

    def _read_many(self, keys: list[str]) -> list[LeaseRecord | None]:
        """The records of ``keys``; backends that can batch the reads override this."""
        return [self._read(key) for key in keys]

    @abc.abstractmethod
    def _update(
        self, key: str, decide: Callable[[LeaseRecord | None, float], tuple[_T, LeaseChange]]
    ) -> _T:
        """Atomically read the record, call ``decide(record, now)`` and apply its change."""
