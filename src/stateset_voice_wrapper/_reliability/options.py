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
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, TypedDict

import attrs
import httpx

from .._shared.aio import asyncio_sleep
from .._shared.defaults import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_KEEPALIVE_CONNECTIONS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
)
from .._shared.errors import AttemptRecord, InvalidParameterError
from .._shared.validate import (
    check_header_value,
    check_idempotency_key,
    check_request_id,
    check_seconds,
)
from .budget import RetryBudget, get_retry_budget

__all__ = [
    "DEFAULT_LIMITS",
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


_PHASES = ("connect", "read", "write", "pool")


def _to_timeout(value: object) -> httpx.Timeout:
    """An ``httpx.Timeout`` from seconds or a Timeout, each phase a finite number > 0 or None."""
    if isinstance(value, httpx.Timeout):
        for phase in _PHASES:
            check_seconds(
                f"timeout.{phase}", getattr(value, phase), allow_none=True, allow_zero=False
            )
        return value
    seconds = check_seconds("timeout", value, allow_none=True, allow_zero=False)
    return httpx.Timeout(seconds)


def _optional_timeout(value: object) -> httpx.Timeout | None:
    return None if value is None else _to_timeout(value)


def _non_negative_int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError(f"{attribute.name} must be an integer >= 0, got {value!r}")


def _positive_or_none(_: object, attribute: attrs.Attribute[float], value: float | None) -> None:
    check_seconds(attribute.name, value, allow_none=True, allow_zero=False)


def _non_negative_seconds(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    check_seconds(attribute.name, value, allow_none=False, allow_zero=True)


def _callable(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise InvalidParameterError(
            f"{attribute.name} must be callable, got {type(value).__name__}"
        )


def _optional_callable(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _callable(_, attribute, value)


def _instance_of(kind: type) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise InvalidParameterError(
                f"{attribute.name} must be a {kind.__name__}, got {type(value).__name__}"
            )

    return check


def _optional_key(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_idempotency_key(value)


def _optional_request_id(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_request_id(value)


def _header_map(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidParameterError(
            f"{attribute.name} must be a mapping, got {type(value).__name__}"
        )
    for name, item in value.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidParameterError(f"{attribute.name} has an invalid header name {name!r}")
        check_header_value(f"{attribute.name}[{name!r}]", item, max_length=_MAX_HEADER_VALUE)


def _query_map(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidParameterError(
            f"{attribute.name} must be a mapping, got {type(value).__name__}"
        )
    for name, item in value.items():
        if not isinstance(name, str) or not isinstance(item, str):
            raise InvalidParameterError(f"{attribute.name} maps strings to strings")


#: An HTTP header name (RFC 9110 token).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MAX_HEADER_VALUE = 8192

#: httpx's own default pool: at most 100 connections, 20 kept alive between requests.
DEFAULT_LIMITS = httpx.Limits(
    max_connections=DEFAULT_MAX_CONNECTIONS,
    max_keepalive_connections=DEFAULT_MAX_KEEPALIVE_CONNECTIONS,
)


@attrs.frozen(kw_only=True)
class ReliabilityConfig:
    """A client's reliability settings. Every field has a documented default.

    ``clock`` must be monotonic; ``wall_clock`` gives Unix time for HTTP-date ``Retry-After``.
    ``sleep``, ``async_sleep``, ``clock`` and ``random`` are injectable so tests never sleep.
    ``limits`` sizes the connection pool of the inner transports ``ReliableTransport`` creates.
    Every field is validated when the config is built: a bad value raises
    :class:`InvalidParameterError` before anything is sent.
    """

    timeout: httpx.Timeout = attrs.field(default=DEFAULT_TIMEOUT, converter=_to_timeout)
    deadline: float | None = attrs.field(default=DEFAULT_DEADLINE, validator=_positive_or_none)
    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=_non_negative_int)
    backoff_base: float = attrs.field(default=DEFAULT_BACKOFF_BASE, validator=_non_negative_seconds)
    backoff_cap: float = attrs.field(default=DEFAULT_BACKOFF_CAP, validator=_non_negative_seconds)
    budget: RetryBudget = attrs.field(factory=get_retry_budget, validator=_instance_of(RetryBudget))
    on_retry: Callable[[RetryEvent], None] | None = attrs.field(
        default=None, validator=_optional_callable
    )
    clock: Callable[[], float] = attrs.field(default=time.monotonic, validator=_callable)
    wall_clock: Callable[[], float] = attrs.field(default=time.time, validator=_callable)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, validator=_callable)
    async_sleep: Callable[[float], Awaitable[None]] = attrs.field(
        default=asyncio_sleep, validator=_callable
    )
    random: Callable[[], float] = attrs.field(default=random.random, validator=_callable)
    auto_idempotency_keys: bool = attrs.field(default=True, validator=_instance_of(bool))
    limits: httpx.Limits = attrs.field(default=DEFAULT_LIMITS, validator=_instance_of(httpx.Limits))


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
    #: What each attempt got back, as on errors (``StateSetVoiceError.attempts``).
    attempt_records: tuple[AttemptRecord, ...] = ()


@attrs.frozen(kw_only=True)
class RequestOverrides:
    """Overrides for the logical requests made in a block; ``None`` means "the client's setting"."""

    timeout: httpx.Timeout | None = attrs.field(default=None, converter=_optional_timeout)
    deadline: float | None = attrs.field(default=None, validator=_positive_or_none)
    max_retries: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_non_negative_int)
    )
    idempotency_key: str | None = attrs.field(default=None, validator=_optional_key)
    client_request_id: str | None = attrs.field(default=None, validator=_optional_request_id)
    extra_headers: Mapping[str, str] | None = attrs.field(default=None, validator=_header_map)
    extra_query: Mapping[str, str] | None = attrs.field(default=None, validator=_query_map)
    #: Records the transport fills in: this block's own and every enclosing block's.
    records: tuple[ResponseInfo, ...] = ()


_CURRENT: contextvars.ContextVar[RequestOverrides | None] = contextvars.ContextVar(
    "stateset_voice_request_options", default=None
)


def current_overrides() -> RequestOverrides | None:
    """The overrides in force for requests made now in this thread or task, if any."""
    return _CURRENT.get()


def _check_mapping(name: str, value: object) -> None:
    if value is not None and not isinstance(value, Mapping):
        raise InvalidParameterError(f"{name} must be a mapping, got {type(value).__name__}")


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
    headers and query parameters of nested blocks are combined, the inner ones winning. Every
    value is validated here: a bad one raises :class:`InvalidParameterError` before anything
    is sent.
    """
    _check_mapping("extra_headers", extra_headers)
    _check_mapping("extra_query", extra_query)
    outer = _CURRENT.get()
    merged = RequestOverrides(
        timeout=timeout if timeout is not None else (outer.timeout if outer else None),
        deadline=deadline if deadline is not None else (outer.deadline if outer else None),
        max_retries=max_retries
        if max_retries is not None
        else (outer.max_retries if outer else None),
        idempotency_key=idempotency_key
        if idempotency_key is not None
        else (outer.idempotency_key if outer else None),
        client_request_id=client_request_id
        if client_request_id is not None
        else (outer.client_request_id if outer else None),
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
