"""The deadline as a hard bound on every socket operation of an attempt.

httpx's timeouts are per operation: a read that returns one byte every second never times out,
and httpcore skips ``1xx`` interim responses in a loop without end. So a server trickling
interim responses or header lines, or stalling near the end of a body, could hold an attempt
far past its deadline. This module closes that gap below httpcore:

- :class:`AttemptGuard` is the state of the attempt in progress: its absolute expiry on the
  real monotonic clock and whether any request byte was written. The transport puts it in a
  context variable for the duration of the attempt (same thread, same asyncio task).
- :class:`GuardedBackend` / :class:`AsyncGuardedBackend` wrap httpcore's network backend;
  their streams cap the timeout of **each** connect, TLS handshake, read and write at the time
  left until the expiry, and refuse to start one once it has passed. A write is cut into
  pieces of at most ``WRITE_PIECE`` bytes, each capped at the time left when it starts.
- :func:`install` puts the guard under an ``httpx.HTTPTransport`` / ``AsyncHTTPTransport``:
  the ones ReliableTransport creates, and those a caller hands it.

Outside an attempt (no guard in the context) the streams behave exactly as httpcore's own.
"""

from __future__ import annotations

import ssl
import typing
from collections.abc import Iterable

import httpcore

from .._shared.defaults import WRITE_PIECE
from .guard import _CURRENT

__all__ = ["AsyncGuardedBackend", "GuardedBackend", "install"]


_Options = Iterable[typing.Any] | None


class _GuardedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        guard = _CURRENT.get()
        if guard is None:
            return self._inner.read(max_bytes, timeout)
        capped = guard.cap(timeout, httpcore.ReadTimeout)
        try:
            return self._inner.read(max_bytes, capped)
        except httpcore.ReadTimeout:
            guard.note_timeout()
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        guard = _CURRENT.get()
        if guard is None:
            self._inner.write(buffer, timeout)
            return
        view = memoryview(buffer)
        while view:
            capped = guard.cap(timeout, httpcore.WriteTimeout)
            guard.wrote = True
            try:
                self._inner.write(bytes(view[:WRITE_PIECE]), capped)
            except httpcore.WriteTimeout:
                guard.note_timeout()
                raise
            view = view[WRITE_PIECE:]

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        guard = _CURRENT.get()
        if guard is not None:
            timeout = guard.cap(timeout, httpcore.ConnectTimeout)
        try:
            return _GuardedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))
        except httpcore.ConnectTimeout:
            if guard is not None:
                guard.note_timeout()
            raise

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend with every operation capped at the attempt's time left."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: _Options = None,
    ) -> httpcore.NetworkStream:
        guard = _CURRENT.get()
        if guard is not None:
            timeout = guard.cap(timeout, httpcore.ConnectTimeout)
        try:
            stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        except httpcore.ConnectTimeout:
            if guard is not None:
                guard.note_timeout()
            raise
        return _GuardedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: _Options = None
    ) -> httpcore.NetworkStream:
        guard = _CURRENT.get()
        if guard is not None:
            timeout = guard.cap(timeout, httpcore.ConnectTimeout)
        return _GuardedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncGuardedStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        guard = _CURRENT.get()
        if guard is None:
            return await self._inner.read(max_bytes, timeout)
        capped = guard.cap(timeout, httpcore.ReadTimeout)
        try:
            return await self._inner.read(max_bytes, capped)
        except httpcore.ReadTimeout:
            guard.note_timeout()
            raise

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        guard = _CURRENT.get()
        if guard is None:
            await self._inner.write(buffer, timeout)
            return
        view = memoryview(buffer)
        while view:
            capped = guard.cap(timeout, httpcore.WriteTimeout)
            guard.wrote = True
            try:
                await self._inner.write(bytes(view[:WRITE_PIECE]), capped)
            except httpcore.WriteTimeout:
                guard.note_timeout()
                raise
            view = view[WRITE_PIECE:]

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        guard = _CURRENT.get()
        if guard is not None:
            timeout = guard.cap(timeout, httpcore.ConnectTimeout)
        try:
            inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        except httpcore.ConnectTimeout:
            if guard is not None:
                guard.note_timeout()
            raise
        return _AsyncGuardedStream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's async backend with every operation capped at the attempt's time left."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: _Options = None,
    ) -> httpcore.AsyncNetworkStream:
        guard = _CURRENT.get()
        if guard is not None:
            timeout = guard.cap(timeout, httpcore.ConnectTimeout)
        try:
            stream = await self._inner.connect_tcp(
                host, port, timeout, local_address, socket_options
            )
        except httpcore.ConnectTimeout:
            if guard is not None:
                guard.note_timeout()
            raise
        return _AsyncGuardedStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: _Options = None
    ) -> httpcore.AsyncNetworkStream:
        guard = _CURRENT.get()
        if guard is not None:
            timeout = guard.cap(timeout, httpcore.ConnectTimeout)
        stream = await self._inner.connect_unix_socket(path, timeout, socket_options)
        return _AsyncGuardedStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install(transport: object) -> bool:
    """Put the guard under an httpx ``HTTPTransport`` / ``AsyncHTTPTransport``; True if it is
    there now. Other transports (a MockTransport, a custom class) are left alone: False.

    It reaches httpcore's pool through ``transport._pool._network_backend``, the attribute
    httpcore 1.x gives its pools and proxies; ``tests/adversarial`` fails if that ever changes.
    """
    if not isinstance(transport, httpx_transport_types()):
        return False
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, GuardedBackend | AsyncGuardedBackend):
        return True
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = GuardedBackend(backend)  # type: ignore[union-attr]
        return True
    if isinstance(backend, httpcore.AsyncNetworkBackend):
        pool._network_backend = AsyncGuardedBackend(backend)  # type: ignore[union-attr]
        return True
    return False


def httpx_transport_types() -> tuple[type, ...]:
    import httpx

    return (httpx.HTTPTransport, httpx.AsyncHTTPTransport)
