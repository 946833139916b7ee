"""The reliability layer, composed at the httpx transport.

:class:`ReliableTransport` wraps httpx's own connection-pooling transports. One httpx request is
one logical request: the transport gives it one client request ID and (for creating POSTs) one
Idempotency-Key before the first attempt, then runs attempts until one succeeds, a failure is
not safe to retry, the retry budget is spent, or the deadline would be crossed. Non-2xx answers
and transport failures leave it as typed errors (see ``mapping``); nothing the server or the
network can cause leaves it as anything but a :class:`StateSetVoiceError`.

The deadline is a hard bound on each attempt, from connect to the last body byte (see
``deadline`` and docs/reliability.md): in both loops every socket operation of the inner
httpx transport is capped at the time left, and an async attempt also runs inside an anyio
cancel scope with that deadline.

The decisions live in :class:`~.request.LogicalRequest`, which does no I/O; ``handle_request`` and
``handle_async_request`` are the two thin loops around it, so sync and async cannot drift.

It implements both ``handle_request`` and ``handle_async_request``, so one instance can be
handed to a generated client's ``httpx_args`` and serve both its sync and async calls::

    from stateset_voice_public import AuthenticatedClient
    from stateset_voice_wrapper import ReliableTransport

    client = AuthenticatedClient(
        base_url="https://voice.stateset.app",
        token=api_key,
        httpx_args={"transport": ReliableTransport()},
    )
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterable, Iterable, Iterator
from typing import Any

import attrs
import httpx

from .._shared.aio import deadline_scope, scope_expired
from .._shared.defaults import MAX_BUFFERED_REQUEST_BODY, MAX_RESPONSE_BODY
from .._shared.errors import StateSetVoiceError
from . import guard as attempt_guard
from .mapping import BodyProblem, decode_body
from .options import ReliabilityConfig, current_overrides
from .request import Decision, LogicalRequest, Raise, Return

__all__ = ["ReliableTransport"]


def _rebuild(response: httpx.Response, body: bytes, request: httpx.Request) -> httpx.Response:
    """A response carrying the body already read, so httpx's own read cannot fail afterwards."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(body),
        extensions=response.extensions,
        request=request,
    )


def _raw_chunks(response: httpx.Response) -> Iterable[bytes]:
    """The body's raw (still encoded) bytes, as the response arrived.

    A response built in memory, such as ``httpx.Response(content=...)`` from an
    ``httpx.MockTransport`` handler, was read when it was created, so ``iter_raw()`` would raise
    ``StreamConsumed``; its ``ByteStream`` holds the raw bytes and can be iterated again.
    """
    if response.is_stream_consumed and isinstance(response.stream, httpx.ByteStream):
        return response.stream
    return response.iter_raw()


def _araw_chunks(response: httpx.Response) -> AsyncIterable[bytes]:
    """The async twin of :func:`_raw_chunks`."""
    if response.is_stream_consumed and isinstance(response.stream, httpx.ByteStream):
        return response.stream
    return response.aiter_raw()


def _install(transport: object) -> bool:
    """Put the deadline guard under an httpx transport (``deadline`` imports httpcore, so it
    loads when a transport is first built or given, not with the package)."""
    from .deadline import install

    return install(transport)


class _TooLarge(Exception):
    pass


class _OneShot(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body too large to buffer: what was read, then the rest of the caller's stream, once."""

    def __init__(self, head: list[bytes], rest: Any) -> None:
        self._head = head
        self._rest = rest

    def __iter__(self) -> Iterator[bytes]:
        yield from self._head
        yield from self._rest

    async def __aiter__(self) -> Any:
        for chunk in self._head:
            yield chunk
        async for chunk in self._rest:
            yield chunk


def _buffer_body(request: httpx.Request, logical: LogicalRequest) -> None:
    """Make a one-shot body (a generator, a file) replayable by buffering it, if it is small.

    A body of up to ``MAX_BUFFERED_REQUEST_BODY`` bytes is read before the first attempt and
    sent from memory on every attempt; a larger one is sent once, and the request is then
    never retried (``LogicalRequest.replayable``).
    """
    stream = request.stream
    if isinstance(stream, httpx.ByteStream) or not isinstance(stream, httpx.SyncByteStream):
        return
    chunks: list[bytes] = []
    size = 0
    iterator = iter(stream)
    for chunk in iterator:
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BUFFERED_REQUEST_BODY:
            request.stream = _OneShot(chunks, iterator)
            logical.replayable = False
            return
    request.stream = httpx.ByteStream(b"".join(chunks))


async def _abuffer_body(request: httpx.Request, logical: LogicalRequest) -> None:
    """The async twin of :func:`_buffer_body`."""
    stream = request.stream
    if isinstance(stream, httpx.ByteStream) or not isinstance(stream, httpx.AsyncByteStream):
        return
    chunks: list[bytes] = []
    size = 0
    iterator = stream.__aiter__()
    async for chunk in iterator:
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BUFFERED_REQUEST_BODY:
            request.stream = _OneShot(chunks, iterator)
            logical.replayable = False
            return
    request.stream = httpx.ByteStream(b"".join(chunks))


def _decide(logical: LogicalRequest, response: httpx.Response, body: bytes) -> Decision:
    """The decision for a complete answer, after checking that a 2xx body can be decoded:
    httpx decodes it again when the caller reads it, and must not fail there."""
    if 200 <= response.status_code < 300 and response.headers.get("content-encoding"):
        try:
            decode_body(response.headers, body)
        except BodyProblem as exc:
            return logical.body_error(response, body, str(exc))
    return logical.on_response(response, body)


class ReliableTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport adding timeouts, a deadline, safe retries, IDs and typed errors.

    Pass keyword options (see :class:`ReliabilityConfig`) or a ready ``config``. ``limits``
    sizes the connection pool of the inner transports it creates (default: httpx's, 100
    connections, 20 kept alive). ``transport`` and ``async_transport`` replace those inner
    transports (for example for TLS settings or a proxy); ``limits`` does not apply to them.
    Per-call overrides come from :func:`stateset_voice_wrapper.request_options`.

    The deadline is a hard bound on every attempt through httpx's ``HTTPTransport`` /
    ``AsyncHTTPTransport``, the default ones and those passed in (every socket operation is
    capped at the time left); in async code it also holds for any other inner transport.
    Example::

        transport = ReliableTransport(deadline=10.0, limits=httpx.Limits(max_connections=500))
    """

    def __init__(
        self,
        *,
        config: ReliabilityConfig | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        **options: Any,
    ) -> None:
        if config is not None and options:
            raise TypeError("pass either config= or keyword options, not both")
        if limits is not None:
            options["limits"] = limits
        if config is not None:
            self.config = attrs.evolve(config, **options) if options else config
        else:
            self.config = ReliabilityConfig(**options)
        self._lock = threading.Lock()
        self._transport = transport
        self._async_transport = async_transport
        #: Whether each inner transport has the hard deadline bound below httpcore.
        self.guarded_sync = transport is not None and _install(transport)
        self.guarded_async = async_transport is not None and _install(async_transport)

    def __repr__(self) -> str:
        c = self.config
        return f"ReliableTransport(deadline={c.deadline}, max_retries={c.max_retries}, timeout={c.timeout!r})"

    # -- sync -------------------------------------------------------------------------------

    def _sync_inner(self) -> httpx.BaseTransport:
        with self._lock:
            if self._transport is None:
                created = httpx.HTTPTransport(limits=self.config.limits)
                self.guarded_sync = _install(created)
                self._transport = created
            return self._transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # The deadline starts first: building the inner transport (a TLS context) counts.
        logical = LogicalRequest(self.config, request, current_overrides())
        inner = self._transport if self._transport is not None else self._sync_inner()
        _buffer_body(request, logical)
        while True:
            attempt = logical.prepare()
            guard = logical.guard()
            head: httpx.Response | None = None
            body = b""
            token = attempt_guard.enter(guard)
            try:
                try:
                    response = inner.handle_request(attempt)
                    head = response
                    try:
                        body = self._read(response, logical)
                    finally:
                        response.close()
                finally:
                    attempt_guard.leave(token)
            except StateSetVoiceError:
                raise
            except _TooLarge:
                assert head is not None
                decision: Decision = logical.body_error(
                    head, b"", f"is larger than {MAX_RESPONSE_BODY} bytes"
                )
            except Exception as exc:  # anything the server or the network can cause
                decision = logical.on_exception(exc, guard=guard, head=head)
            else:
                decision = _decide(logical, response, body)
            if isinstance(decision, Return):
                return _rebuild(decision.response, body, request)
            if isinstance(decision, Raise):
                raise decision.error from decision.cause
            self.config.sleep(decision.delay)

    @staticmethod
    def _read(response: httpx.Response, logical: LogicalRequest) -> bytes:
        chunks = []
        size = 0
        for chunk in _raw_chunks(response):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BODY:
                raise _TooLarge
            logical.check_body_deadline(response)
        return b"".join(chunks)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # -- async ------------------------------------------------------------------------------

    def _async_inner(self) -> httpx.AsyncBaseTransport:
        with self._lock:
            if self._async_transport is None:
                created = httpx.AsyncHTTPTransport(limits=self.config.limits)
                self.guarded_async = _install(created)
                self._async_transport = created
            return self._async_transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The deadline starts first: building the inner transport (a TLS context) counts.
        logical = LogicalRequest(self.config, request, current_overrides())
        inner = self._async_transport if self._async_transport is not None else self._async_inner()
        await _abuffer_body(request, logical)
        while True:
            attempt = logical.prepare()
            guard = logical.guard()
            head: httpx.Response | None = None
            body = b""
            scope: object = None
            token = attempt_guard.enter(guard)
            try:
                try:
                    with deadline_scope(logical.remaining()) as scope:
                        response = await inner.handle_async_request(attempt)
                        head = response
                        try:
                            body = await self._aread(response, logical)
                        finally:
                            await response.aclose()
                finally:
                    attempt_guard.leave(token)
            except StateSetVoiceError:
                raise
            except _TooLarge:
                assert head is not None
                decision: Decision = logical.body_error(
                    head, b"", f"is larger than {MAX_RESPONSE_BODY} bytes"
                )
            except Exception as exc:  # anything the server or the network can cause
                cut = isinstance(exc, TimeoutError) and scope_expired(scope)
                decision = logical.on_exception(exc, guard=guard, head=head, deadline_cut=cut)
            else:
                decision = _decide(logical, response, body)
            if isinstance(decision, Return):
                return _rebuild(decision.response, body, request)
            if isinstance(decision, Raise):
                raise decision.error from decision.cause
            await self.config.async_sleep(decision.delay)

    @staticmethod
    async def _aread(response: httpx.Response, logical: LogicalRequest) -> bytes:
        chunks = []
        size = 0
        async for chunk in _araw_chunks(response):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BODY:
                raise _TooLarge
            logical.check_body_deadline(response)
        return b"".join(chunks)

    async def aclose(self) -> None:
        if self._async_transport is not None:
            await self._async_transport.aclose()
