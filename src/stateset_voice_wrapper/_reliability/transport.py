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
from typing import Any

import attrs
import httpx

from .._shared.aio import deadline_scope, scope_expired
from .._shared.defaults import MAX_RESPONSE_BODY
from .._shared.errors import StateSetVoiceError
from . import guard as attempt_guard
from .bodies import (
    abuffer_body,
    aclose_inner,
    araw_chunks,
    buffer_body,
    close_inner,
    raw_chunks,
    rebuild,
)
from .identity import AnswerHead, settle_encoding
from .mapping import BodyProblem, decode_body
from .options import ReliabilityConfig, current_overrides
from .request import Decision, LogicalRequest, Raise

__all__ = ["ReliableTransport"]


def _install(transport: object) -> bool:
    """Put the deadline guard under an httpx transport (``deadline`` imports httpcore, so it
    loads when a transport is first built or given, not with the package)."""
    from .deadline import install

    return install(transport)


class _TooLarge(Exception):
    pass


def _decide(
    logical: LogicalRequest, response: httpx.Response, body: bytes
) -> tuple[Decision, bytes]:
    """The decision for a complete answer and the body decoded, after checking that a 2xx
    body can be decoded: the caller reads it, and must not fail there."""
    head = AnswerHead(response.headers)
    decoded = body
    if 200 <= response.status_code < 300 and head.content_encoding:
        try:
            decoded = decode_body(response.headers, body)
        except BodyProblem as exc:
            return logical.body_error(response, body, str(exc)), body
    return logical.on_response(response, body, head), decoded


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
        telemetry = logical.telemetry
        if telemetry is None:
            return self._attempts(logical, request)
        try:
            response = self._attempts(logical, request)
        except BaseException as exc:  # the request's spans end once, however it ends
            telemetry.finish(exc, logical.last_request_id)
            raise
        telemetry.finish(None, logical.last_request_id)
        return response

    def _attempts(self, logical: LogicalRequest, request: httpx.Request) -> httpx.Response:
        inner = self._transport if self._transport is not None else self._sync_inner()
        telemetry = logical.telemetry
        if type(request.stream) is not httpx.ByteStream:  # a body in memory is replayable
            buffer_body(request, logical)
        while True:
            guard = logical.prepare()
            head: httpx.Response | None = None
            body = decoded = b""
            token = attempt_guard.enter(guard)
            context = None
            try:
                try:
                    if telemetry is not None:  # inside: a failing propagator is a typed error
                        context = telemetry.attempt_started(request)
                    response = inner.handle_request(request)
                    head = response
                    try:
                        body = self._read(response, logical)
                    finally:
                        close_inner(response)
                finally:
                    attempt_guard.leave(token)
                    if context is not None:
                        telemetry.attempt_left(context)  # type: ignore[union-attr]
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
                decision, decoded = _decide(logical, response, body)
            if isinstance(decision, httpx.Response):  # the answer to return
                settle_encoding(request.headers)
                return rebuild(decision, body, request, decoded)
            if isinstance(decision, Raise):
                raise decision.error from decision.cause
            self.config.sleep(decision.delay)

    @staticmethod
    def _read(response: httpx.Response, logical: LogicalRequest) -> bytes:
        chunks = []
        size = 0
        expires = logical.expires
        clock = logical.config.clock
        for chunk in raw_chunks(response):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BODY:
                raise _TooLarge
            if expires is not None and clock() >= expires:
                logical.check_body_deadline(response)  # raises: the deadline has passed
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
        telemetry = logical.telemetry
        if telemetry is None:
            return await self._aattempts(logical, request)
        try:
            response = await self._aattempts(logical, request)
        except BaseException as exc:  # the request's spans end once, however it ends
            telemetry.finish(exc, logical.last_request_id)
            raise
        telemetry.finish(None, logical.last_request_id)
        return response

    async def _aattempts(self, logical: LogicalRequest, request: httpx.Request) -> httpx.Response:
        inner = self._async_transport if self._async_transport is not None else self._async_inner()
        telemetry = logical.telemetry
        if type(request.stream) is not httpx.ByteStream:  # a body in memory is replayable
            await abuffer_body(request, logical)
        while True:
            guard = logical.prepare()
            head: httpx.Response | None = None
            body = decoded = b""
            scope: object = None
            token = attempt_guard.enter(guard)
            context = None
            try:
                try:
                    if telemetry is not None:  # inside: a failing propagator is a typed error
                        context = telemetry.attempt_started(request)
                    with deadline_scope(logical.remaining()) as scope:
                        response = await inner.handle_async_request(request)
                        head = response
                        try:
                            body = await self._aread(response, logical)
                        finally:
                            await aclose_inner(response)
                finally:
                    attempt_guard.leave(token)
                    if context is not None:
                        telemetry.attempt_left(context)  # type: ignore[union-attr]
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
                decision, decoded = _decide(logical, response, body)
            if isinstance(decision, httpx.Response):  # the answer to return
                settle_encoding(request.headers)
                return rebuild(decision, body, request, decoded)
            if isinstance(decision, Raise):
                raise decision.error from decision.cause
            await self.config.async_sleep(decision.delay)

    @staticmethod
    async def _aread(response: httpx.Response, logical: LogicalRequest) -> bytes:
        chunks = []
        size = 0
        expires = logical.expires
        clock = logical.config.clock
        async for chunk in araw_chunks(response):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BODY:
                raise _TooLarge
            if expires is not None and clock() >= expires:
                logical.check_body_deadline(response)  # raises: the deadline has passed
        return b"".join(chunks)

    async def aclose(self) -> None:
        if self._async_transport is not None:
            await self._async_transport.aclose()
