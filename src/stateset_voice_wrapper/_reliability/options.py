"""Per-client reliability settings and per-request overrides.

:class:`ReliabilityConfig` holds a client's settings. :func:`request_options` overrides them for
the requests made inside a ``with`` block; it works through a context variable, so it reaches the
transport through the generated client without changing generated code, and it is local to the
current thread or asyncio task.

Example::

    from stateset_voice_wrapper import request_options

    with request_options(deadline=10.0, max_retries=0):
        response = get_call_log.sync_detailed(call_id, client=client)
"""

from __future__ import annotations

import contextlib
import contextvars
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TypedDict

import attrs
import httpx

from .._shared.aio import asyncio_sleep
from .._shared.defaults import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
)
from .._shared.errors import InvalidParameterError
from .budget import RetryBudget, get_retry_budget

__all__ = [
    "ReliabilityConfig",
    "RequestOptions",
    "RequestOverrides",
    "ResponseInfo",
    "RetryEvent",
    "TimeoutTypes",
    "request_options",
    "response_info",
]

#: A timeout: seconds for every phase, or an ``httpx.Timeout`` with one value per phase.
TimeoutTypes = float | httpx.Timeout


class RequestOptions(TypedDict, total=False):
    """Per-request options that every typed client method takes as keywords.

    ``timeout`` (seconds or an ``httpx.Timeout``), ``deadline`` (total seconds across every
    attempt and backoff) and ``max_retries`` override the client's settings for one request;
    ``extra_headers`` and ``extra_query`` are added to it (a header given here wins over the
    client's own, except the credential). Example::

        voice.call_logs.get("call_01J...", deadline=5.0, extra_headers={"X-Trace": "abc"})
    """

    timeout: TimeoutTypes
    deadline: float
    max_retries: int
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, str]


DEFAULT_TIMEOUT = httpx.Timeout(
    connect=DEFAULT_CONNECT_TIMEOUT,
    read=DEFAULT_READ_TIMEOUT,
    write=DEFAULT_WRITE_TIMEOUT,
    pool=DEFAULT_POOL_TIMEOUT,
)


@attrs.frozen
class RetryEvent:
    """What ``on_retry`` receives before each backoff sleep."""

    method: str
    path: str
    attempt: int
    outcome: str
    delay: float
    client_request_id: str
    request_id: str | None
    idempotency_key: str | None


def _to_timeout(value: TimeoutTypes) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def _non_negative_int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError(f"{attribute.name} must be an integer >= 0, got {value!r}")


def _positive_or_none(_: object, attribute: attrs.Attribute[float], value: float | None) -> None:
    if value is not None and not value > 0:
        raise InvalidParameterError(f"{attribute.name} must be > 0 seconds or None, got {value!r}")


@attrs.frozen(kw_only=True)
class ReliabilityConfig:
    """A client's reliability settings. Every field has a documented default.

    ``clock`` must be monotonic; ``wall_clock`` gives Unix time for HTTP-date ``Retry-After``.
    ``sleep``, ``async_sleep``, ``clock`` and ``random`` are injectable so tests never sleep.
    """

    timeout: httpx.Timeout = attrs.field(default=DEFAULT_TIMEOUT, converter=_to_timeout)
    deadline: float | None = attrs.field(default=DEFAULT_DEADLINE, validator=_positive_or_none)
    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=_non_negative_int)
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    budget: RetryBudget = attrs.field(factory=get_retry_budget)
    on_retry: Callable[[RetryEvent], None] | None = None
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = asyncio_sleep
    random: Callable[[], float] = random.random
    auto_idempotency_keys: bool = True


@attrs.define
class ResponseInfo:
    """What the transport observed of the last logical request made inside a block.

    Filled in by the transport when the request ends, successfully or not. ``replayed`` is true
    when the server answered a replay of an earlier request with the same Idempotency-Key.
    """

    request_id: str | None = None
    client_request_id: str | None = None
    idempotency_key: str | None = None
    status_code: int | None = None
    replayed: bool = False
    attempts: int = 0


@attrs.frozen(kw_only=True)
class RequestOverrides:
    """Overrides for the logical requests made in a block; ``None`` means "the client's setting"."""

    timeout: httpx.Timeout | None = attrs.field(
        default=None, converter=attrs.converters.optional(_to_timeout)
    )
    deadline: float | None = attrs.field(default=None, validator=_positive_or_none)
    max_retries: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_non_negative_int)
    )
    idempotency_key: str | None = None
    client_request_id: str | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, str] | None = None
    #: Records the transport fills in: this block's own and every enclosing block's.
    records: tuple[ResponseInfo, ...] = ()


_CURRENT: contextvars.ContextVar[RequestOverrides | None] = contextvars.ContextVar(
    "stateset_voice_request_options", default=None
)


def current_overrides() -> RequestOverrides | None:
    """The overrides in force for requests made now in this thread or task, if any."""
    return _CURRENT.get()


def _merge(
    outer: Mapping[str, str] | None, inner: Mapping[str, str] | None
) -> Mapping[str, str] | None:
    if not outer:
        return dict(inner) if inner else None
    return {**outer, **inner} if inner else outer


@contextlib.contextmanager
def request_options(
    *,
    timeout: TimeoutTypes | None = None,
    deadline: float | None = None,
    max_retries: int | None = None,
    idempotency_key: str | None = None,
    client_request_id: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    extra_query: Mapping[str, str] | None = None,
) -> Iterator[RequestOverrides]:
    """Override reliability settings for the requests made inside the block.

    Nested blocks merge: an inner value wins, an inner ``None`` keeps the outer one; extra
    headers and query parameters of nested blocks are combined, the inner ones winning.
    """
    outer = _CURRENT.get()
    merged = RequestOverrides(
        timeout=timeout if timeout is not None else (outer.timeout if outer else None),
        deadline=deadline if deadline is not None else (outer.deadline if outer else None),
        max_retries=max_retries
        if max_retries is not None
        else (outer.max_retries if outer else None),
        idempotency_key=idempotency_key or (outer.idempotency_key if outer else None),
        client_request_id=client_request_id or (outer.client_request_id if outer else None),
        extra_headers=_merge(outer.extra_headers if outer else None, extra_headers),
        extra_query=_merge(outer.extra_query if outer else None, extra_query),
        records=(outer.records if outer else ()) + (ResponseInfo(),),
    )
    token = _CURRENT.set(merged)
    try:
        yield merged
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def response_info() -> Iterator[ResponseInfo]:
    """Capture the request IDs and status of the last request made inside the block.

    Example::

        with response_info() as info:
            call = voice.calls.create(to=..., from_=..., agent_key="front_desk")
        print(info.request_id, info.client_request_id, info.idempotency_key, info.replayed)
    """
    with request_options() as options:
        yield options.records[-1]
