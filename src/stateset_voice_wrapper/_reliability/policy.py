"""Retry policy as pure functions: what may be retried, and after how long.

Nothing here does I/O or reads a clock; the sync and async transports share it, and the tests
exercise it without a network. See ``docs/reliability.md`` for the reasoning behind each rule.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

import httpx

from .._shared.defaults import IDEMPOTENT_METHODS, RETRYABLE_STATUSES

__all__ = [
    "FailureKind",
    "PhaseTimeouts",
    "backoff_delay",
    "capped_timeouts",
    "classify_exception",
    "is_idempotent",
    "is_retryable",
    "min_timeout",
    "phase_timeouts",
    "retry_after_seconds",
]


class FailureKind(enum.Enum):
    """How far a failed attempt got, which decides whether retrying can duplicate work."""

    #: The request never reached the server (connect error, connect or pool timeout): any
    #: method may be retried.
    NOT_SENT = "not_sent"
    #: The request may have reached the server (read error or timeout, write error, truncated
    #: response): only idempotent requests may be retried.
    MAYBE_SENT = "maybe_sent"
    #: A failure that another attempt cannot fix (bad URL, TLS or protocol misuse).
    FATAL = "fatal"


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_SENT = (
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)


def classify_exception(exc: BaseException) -> FailureKind:
    """Place a transport exception in one of the three failure kinds."""
    if isinstance(exc, _NOT_SENT):
        return FailureKind.NOT_SENT
    if isinstance(exc, _MAYBE_SENT):
        return FailureKind.MAYBE_SENT
    return FailureKind.FATAL


def is_idempotent(method: str, idempotency_key: str | None) -> bool:
    """GET, HEAD, OPTIONS, PUT and DELETE are; so is any request carrying an Idempotency-Key."""
    return method.upper() in IDEMPOTENT_METHODS or bool(idempotency_key)


def is_retryable(
    *, idempotent: bool, status_code: int | None = None, failure: FailureKind | None = None
) -> bool:
    """Whether an attempt that ended in ``status_code`` or ``failure`` may be tried again."""
    if failure is not None:
        if failure is FailureKind.NOT_SENT:
            return True
        return failure is FailureKind.MAYBE_SENT and idempotent
    return idempotent and status_code in RETRYABLE_STATUSES


def backoff_delay(
    retry_number: int, *, base: float, cap: float, random: Callable[[], float]
) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(retry_number - 1))).

    ``retry_number`` counts retries from 1; ``random`` returns a float in [0, 1).
    """
    try:
        ceiling = min(cap, base * 2.0 ** max(0, retry_number - 1))
    except OverflowError:  # 2.0 ** 1024 and beyond: the cap was reached long before
        ceiling = cap
    return float(ceiling * random())


def retry_after_seconds(headers: Mapping[str, str], *, now: float) -> float | None:
    """The server's requested wait in seconds, or None.

    Reads ``retry-after-ms`` first (milliseconds), then ``Retry-After`` as delay-seconds or as
    an HTTP-date relative to ``now`` (a Unix timestamp). Unparseable or negative values are
    ignored rather than trusted.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            ms = float(raw_ms)
        except ValueError:
            ms = -1.0
        if ms >= 0:
            return ms / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - now)
    return seconds if seconds >= 0 else None


def min_timeout(own: float | None, outer: float | None, remaining: float | None) -> float | None:
    """The smallest of the values that are set (None means "no limit")."""
    result = own
    for value in (outer, remaining):
        if value is not None and (result is None or value < result):
            result = value
    return result


#: Per phase: (connect, read, write, pool) seconds, None for no limit.
PhaseTimeouts = tuple[float | None, float | None, float | None, float | None]


def phase_timeouts(own: httpx.Timeout, outer: Mapping[str, float | None] | None) -> PhaseTimeouts:
    """Each phase's timeout before the deadline: the smaller of the transport's (or the
    request_options block's) and the one the httpx client put on the request."""
    if not outer:
        return (own.connect, own.read, own.write, own.pool)
    # The smaller of each pair (None: no limit), written out: it runs on every request.
    connect, read, write, pool = own.connect, own.read, own.write, own.pool
    value = outer.get("connect")
    if value is not None and (connect is None or value < connect):
        connect = value
    value = outer.get("read")
    if value is not None and (read is None or value < read):
        read = value
    value = outer.get("write")
    if value is not None and (write is None or value < write):
        write = value
    value = outer.get("pool")
    if value is not None and (pool is None or value < pool):
        pool = value
    return (connect, read, write, pool)


def capped_timeouts(phases: PhaseTimeouts, remaining: float | None) -> dict[str, float | None]:
    """An attempt's ``timeout`` extension: each phase capped at the time left."""
    connect, read, write, pool = phases
    if remaining is not None:
        connect = remaining if connect is None or remaining < connect else connect
        read = remaining if read is None or remaining < read else read
        write = remaining if write is None or remaining < write else write
        pool = remaining if pool is None or remaining < pool else pool
    return {"connect": connect, "read": read, "write": write, "pool": pool}
