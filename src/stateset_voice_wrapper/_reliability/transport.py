"""The reliability layer, composed at the httpx transport.

:class:`ReliableTransport` wraps httpx's own connection-pooling transports. One httpx request is
one logical request: the transport gives it one client request ID and (for creating POSTs) one
Idempotency-Key before the first attempt, then runs attempts until one succeeds, a failure is
not safe to retry, the retry budget is spent, or the deadline would be crossed. Non-2xx answers
and transport failures leave it as typed errors (see ``_errors``).

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

from collections.abc import AsyncIterable, Iterable
from typing import Any

import httpx

from .options import ReliabilityConfig, current_overrides
from .request import LogicalRequest, Raise, Return

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


class ReliableTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport adding timeouts, a deadline, safe retries, IDs and typed errors.

    Pass keyword options (see :class:`ReliabilityConfig`) or a ready ``config``. ``transport``
    and ``async_transport`` replace the inner httpx transports (for example to set limits,
    TLS verification or a proxy); by default they are created on first use. Per-call overrides
    come from :func:`stateset_voice_wrapper.request_options`.
    """

    def __init__(
        self,
        *,
        config: ReliabilityConfig | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        if config is not None and options:
            raise TypeError("pass either config= or keyword options, not both")
        self.config = config if config is not None else ReliabilityConfig(**options)
        self._transport = transport
        self._async_transport = async_transport

    def __repr__(self) -> str:
        c = self.config
        return f"ReliableTransport(deadline={c.deadline}, max_retries={c.max_retries}, timeout={c.timeout!r})"

    # -- sync -------------------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            self._transport = httpx.HTTPTransport()
        inner = self._transport
        logical = LogicalRequest(self.config, request, current_overrides())
        while True:
            attempt = logical.prepare()
            try:
                response = inner.handle_request(attempt)
                try:
                    chunks = []
                    for chunk in _raw_chunks(response):
                        chunks.append(chunk)
                        logical.check_body_deadline(response)
                    body = b"".join(chunks)
                finally:
                    response.close()
            except httpx.TransportError as exc:
                decision = logical.on_exception(exc)
            else:
                decision = logical.on_response(response, body)
            if isinstance(decision, Return):
                return _rebuild(decision.response, body, request)
            if isinstance(decision, Raise):
                raise decision.error from decision.cause
            self.config.sleep(decision.delay)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # -- async ------------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._async_transport is None:
            self._async_transport = httpx.AsyncHTTPTransport()
        inner = self._async_transport
        logical = LogicalRequest(self.config, request, current_overrides())
        while True:
            attempt = logical.prepare()
            try:
                response = await inner.handle_async_request(attempt)
                try:
                    chunks = []
                    async for chunk in _araw_chunks(response):
                        chunks.append(chunk)
                        logical.check_body_deadline(response)
                    body = b"".join(chunks)
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                decision = logical.on_exception(exc)
            else:
                decision = logical.on_response(response, body)
            if isinstance(decision, Return):
                return _rebuild(decision.response, body, request)
            if isinstance(decision, Raise):
                raise decision.error from decision.cause
            await self.config.async_sleep(decision.delay)

    async def aclose(self) -> None:
        if self._async_transport is not None:
            await self._async_transport.aclose()
