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
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_KEEPALIVE_CONNECTIONS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
)
from .._shared.errors import AttemptRecord, InvalidParameterError
from .budget import RetryBudget, get_retry_budget
from .checks import (
    a_callable,
    header_map,
    instance_of,
    non_negative_int,
    non_negative_seconds,
    optional_callable,
    optional_key,
    optional_request_id,
    optional_timeout,
    positive_or_none,
    query_map,
    telemetry_switch,
    to_timeout,
)

__all__ = [
    "DEFAULT_LIMITS",
    "ReliabilityConfig",
    "RequestOptions",
    "RequestOverrides",
    "ResponseInfo",
    "RetryEvent",
    "TimeoutTypes",
    "enter_overrides",
    "leave_overrides",
    "merge_overrides",
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

    timeout: httpx.Timeout = attrs.field(default=DEFAULT_TIMEOUT, converter=to_timeout)
    deadline: float | None = attrs.field(default=DEFAULT_DEADLINE, validator=positive_or_none)
    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=non_negative_int)
    backoff_base: float = attrs.field(default=DEFAULT_BACKOFF_BASE, validator=non_negative_seconds)
    backoff_cap: float = attrs.field(default=DEFAULT_BACKOFF_CAP, validator=non_negative_seconds)
    budget: RetryBudget = attrs.field(factory=get_retry_budget, validator=instance_of(RetryBudget))
    on_retry: Callable[[RetryEvent], None] | None = attrs.field(
        default=None, validator=optional_callable
    )
    clock: Callable[[], float] = attrs.field(default=time.monotonic, validator=a_callable)
    wall_clock: Callable[[], float] = attrs.field(default=time.time, validator=a_callable)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, validator=a_callable)
    async_sleep: Callable[[float], Awaitable[None]] = attrs.field(
        default=asyncio_sleep, validator=a_callable
    )
    random: Callable[[], float] = attrs.field(default=random.random, validator=a_callable)
    auto_idempotency_keys: bool = attrs.field(default=True, validator=instance_of(bool))
    limits: httpx.Limits = attrs.field(default=DEFAULT_LIMITS, validator=instance_of(httpx.Limits))
    #: OpenTelemetry spans and metrics for this client's requests: None follows the process
    #: (``configure_telemetry()``, ``STATESET_VOICE_TELEMETRY``), True or False decides here.
    telemetry: bool | None = attrs.field(default=None, validator=telemetry_switch)


@attrs.define
class ResponseInfo:
    """What the transport observed of the last logical request made inside a block.

    Filled in by the transport when the request ends, successfully or not. ``replayed`` is true
    when the server answered a replay of an earlier request with the same Idempotency-Key.
    ``from_ledger`` is true when the client's idempotency ledger answered from its record and
    nothing was sent: then ``replayed`` is true too, ``attempts`` is 0 and there is no
    request ID or status.
    """

    request_id: str | None = None
    client_request_id: str | None = None
    idempotency_key: str | None = None
    status_code: int | None = None
    replayed: bool = False
    attempts: int = 0
    #: What each attempt got back, as on errors (``StateSetVoiceError.attempts``).
    attempt_records: tuple[AttemptRecord, ...] = ()
    from_ledger: bool = False


@attrs.frozen(kw_only=True)
class RequestOverrides:
    """Overrides for the logical requests made in a block; ``None`` means "the client's setting"."""

    timeout: httpx.Timeout | None = attrs.field(default=None, converter=optional_timeout)
    deadline: float | None = attrs.field(default=None, validator=positive_or_none)
    max_retries: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_negative_int)
    )
    idempotency_key: str | None = attrs.field(default=None, validator=optional_key)
    client_request_id: str | None = attrs.field(default=None, validator=optional_request_id)
    extra_headers: Mapping[str, str] | None = attrs.field(default=None, validator=header_map)
    extra_query: Mapping[str, str] | None = attrs.field(default=None, validator=query_map)
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


def merge_overrides(
    *,
    timeout: TimeoutTypes | None = None,
    deadline: float | None = None,
    max_retries: int | None = None,
    idempotency_key: str | None = None,
    client_request_id: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    extra_query: Mapping[str, str] | None = None,
) -> RequestOverrides:
    """The overrides of a new block: these values (checked) over the enclosing block's, with a
    fresh :class:`ResponseInfo` for it."""
    _check_mapping("extra_headers", extra_headers)
    _check_mapping("extra_query", extra_query)
    outer = _CURRENT.get()
    if outer is None:
        return RequestOverrides(
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
            client_request_id=client_request_id,
            extra_headers=dict(extra_headers) if extra_headers else None,
            extra_query=dict(extra_query) if extra_query else None,
            records=(ResponseInfo(),),
        )
    return RequestOverrides(
        timeout=timeout if timeout is not None else outer.timeout,
        deadline=deadline if deadline is not None else outer.deadline,
        max_retries=max_retries if max_retries is not None else outer.max_retries,
        idempotency_key=idempotency_key if idempotency_key is not None else outer.idempotency_key,
        client_request_id=client_request_id
        if client_request_id is not None
        else outer.client_request_id,
        extra_headers=_merge(outer.extra_headers, extra_headers),
        extra_query=_merge(outer.extra_query, extra_query),
        records=(*outer.records, ResponseInfo()),
    )


def enter_overrides(overrides: RequestOverrides) -> contextvars.Token[RequestOverrides | None]:
    """Put ``overrides`` in force (the typed clients' path: already merged and checked)."""
    return _CURRENT.set(overrides)


def leave_overrides(token: contextvars.Token[RequestOverrides | None]) -> None:
    _CURRENT.reset(token)


class request_options(contextlib.ContextDecorator):  # lower case: used like a function
    """Override reliability settings for the requests made inside the block.

    Nested blocks merge: an inner value wins, an inner ``None`` keeps the outer one; extra
    headers and query parameters of nested blocks are combined, the inner ones winning. Every
    value is validated when the block opens: a bad one raises :class:`InvalidParameterError`
    before anything is sent. (A class rather than a generator: no generator frame per block.)

    Example::

        with request_options(deadline=10.0, max_retries=0) as overrides:
            voice.call_logs.get("call_01J...")
    """

    def __init__(
        self,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        idempotency_key: str | None = None,
        client_request_id: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
    ) -> None:
        self._given = (
            timeout,
            deadline,
            max_retries,
            idempotency_key,
            client_request_id,
            extra_headers,
            extra_query,
        )
        self._tokens: list[contextvars.Token[RequestOverrides | None]] = []

    def __enter__(self) -> RequestOverrides:
        timeout, deadline, max_retries, key, request_id, extra_headers, extra_query = self._given
        merged = merge_overrides(
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            idempotency_key=key,
            client_request_id=request_id,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
        self._tokens.append(_CURRENT.set(merged))
        return merged

    def __exit__(self, *exc_info: object) -> None:
        _CURRENT.reset(self._tokens.pop())


def publish(
    records: tuple[ResponseInfo, ...],
    *,
    request_id: str | None,
    client_request_id: str | None,
    idempotency_key: str | None,
    status_code: int | None,
    replayed: bool,
    attempt_records: tuple[AttemptRecord, ...],
    from_ledger: bool = False,
) -> None:
    """Fill in every ``response_info()`` record of a request that ended."""
    for record in records:
        record.request_id = request_id
        record.client_request_id = client_request_id
        record.idempotency_key = idempotency_key
        record.status_code = status_code
        record.replayed = replayed
        record.from_ledger = from_ledger
        record.attempts = len(attempt_records)
        record.attempt_records = attempt_records


def publish_ledger_replay(idempotency_key: str) -> None:
    """Tell the ``response_info()`` blocks in force that the ledger answered ``idempotency_key``
    from its record: no request was sent."""
    overrides = _CURRENT.get()
    publish(
        overrides.records if overrides is not None else (),
        request_id=None,
        client_request_id=None,
        idempotency_key=idempotency_key,
        status_code=None,
        replayed=True,
        attempt_records=(),
        from_ledger=True,
    )


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
