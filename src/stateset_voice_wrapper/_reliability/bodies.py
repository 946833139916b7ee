"""Bodies: a one-shot request body made replayable, a response body read once and handed on.

The transport reads every response body itself (so a truncated or reset body is a retryable,
typed failure, not an error in the caller's ``.json()``), then returns a :class:`Buffered`
response that carries it.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from .._shared.defaults import MAX_BUFFERED_REQUEST_BODY

if TYPE_CHECKING:
    from .request import LogicalRequest

__all__ = [
    "Buffered",
    "OneShot",
    "abuffer_body",
    "aclose_inner",
    "araw_chunks",
    "buffer_body",
    "close_inner",
    "raw_chunks",
    "rebuild",
]


class Buffered(httpx.Response):
    """A response whose body the transport has read (and decoded) already.

    httpx's ``read()`` would run the raw bytes through its decoders and chunkers again, a
    second pass costing more than the rest of the reliability layer on a small body. Here
    ``read()``/``aread()`` hand over the decoded bytes instead, then close the stream as
    httpx's own read does (which sets ``elapsed``). ``_content`` is the attribute httpx's
    ``read()`` fills and ``.content`` returns; ``tests/test_transport_response.py`` holds the
    result equal to httpx's own reading, for httpx and for httpx2. Streaming reads
    (``iter_bytes()`` on ``client.stream(...)``) go through httpx as usual.
    """

    _decoded: bytes

    # httpx's close()/aclose() run the stream's close inside ``request_context`` (a generator
    # context manager, the dearest step of the read), which only attaches the request to a
    # RequestError the close raises. This stream is the transport's ByteStream under httpx's
    # Bound(Async)Stream, which records ``elapsed`` and raises nothing, so it is closed bare.
    # The three assignments that hand over the body are written out in both reads, not shared
    # through a helper: each read runs on every response.

    def read(self) -> bytes:
        if not hasattr(self, "_content"):
            self._content = self._decoded
            self._num_bytes_downloaded = self._raw_size
            self.is_stream_consumed = True
            stream = self.stream
            if not isinstance(stream, httpx.SyncByteStream):
                raise RuntimeError("Attempted to call an sync close on an async stream.")
            if not self.is_closed:
                self.is_closed = True
                stream.close()
        return self._content

    async def aread(self) -> bytes:
        if not hasattr(self, "_content"):
            self._content = self._decoded
            self._num_bytes_downloaded = self._raw_size
            self.is_stream_consumed = True
            stream = self.stream
            if not isinstance(stream, httpx.AsyncByteStream):
                raise RuntimeError("Attempted to call an async close on an sync stream.")
            if not self.is_closed:
                self.is_closed = True
                await stream.aclose()
        return self._content

    _raw_size = 0


def rebuild(
    response: httpx.Response, body: bytes, request: httpx.Request, decoded: bytes
) -> httpx.Response:
    """A response carrying the body already read, so httpx's own read cannot fail afterwards.

    An ``httpx.Response`` from the inner transport becomes the Buffered one in place: its
    class changed and its attributes set to exactly those a new ``Buffered(status, headers=,
    stream=, extensions=, request=)`` would have, so nothing it cached (a decoder, ``_content``,
    ``elapsed``) survives; building a new Response would also copy the headers and extensions
    the old one no longer needs. Any other class (a subclass a custom transport returns) is
    copied into a new Buffered.
    """
    if type(response) is httpx.Response:
        response.__dict__ = {
            "status_code": response.status_code,
            "headers": response.headers,
            "_request": request,
            "next_request": None,
            "extensions": response.extensions,
            "history": [],
            "is_closed": False,
            "is_stream_consumed": False,
            "default_encoding": "utf-8",
            "stream": httpx.ByteStream(body),
            "_num_bytes_downloaded": 0,
            "_decoded": decoded,
            "_raw_size": len(body),
        }
        response.__class__ = Buffered
        return response
    rebuilt = Buffered(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(body),
        extensions=response.extensions,
        request=request,
    )
    rebuilt._decoded = decoded
    rebuilt._raw_size = len(body)
    return rebuilt


def raw_chunks(response: httpx.Response) -> Iterable[bytes]:
    """The body's raw (still encoded) bytes, as the response arrived.

    A response built in memory, such as ``httpx.Response(content=...)`` from an
    ``httpx.MockTransport`` handler, was read when it was created, so ``iter_raw()`` would raise
    ``StreamConsumed``; its ``ByteStream`` holds the raw bytes and can be iterated again.
    """
    if response.is_stream_consumed and isinstance(response.stream, httpx.ByteStream):
        return response.stream
    return response.iter_raw()


def close_inner(response: httpx.Response) -> None:
    """Close the inner transport's response once its body is read.

    ``httpx.Response.close()`` runs the stream's close inside ``request_context``, a generator
    context manager that only attaches the request to a ``RequestError`` the close raises; the
    transport maps whatever the close raises itself, so a plain ``httpx.Response`` is closed
    bare. Any other class keeps its own ``close()``.
    """
    if type(response) is not httpx.Response:
        response.close()
        return
    stream = response.stream
    if not isinstance(stream, httpx.SyncByteStream):
        raise RuntimeError("Attempted to call an sync close on an async stream.")
    if not response.is_closed:
        response.is_closed = True
        stream.close()


async def aclose_inner(response: httpx.Response) -> None:
    """The async twin of :func:`close_inner`."""
    if type(response) is not httpx.Response:
        await response.aclose()
        return
    stream = response.stream
    if not isinstance(stream, httpx.AsyncByteStream):
        raise RuntimeError("Attempted to call an async close on an sync stream.")
    if not response.is_closed:
        response.is_closed = True
        await stream.aclose()


def araw_chunks(response: httpx.Response) -> AsyncIterable[bytes]:
    """The async twin of :func:`raw_chunks`."""
    if response.is_stream_consumed and isinstance(response.stream, httpx.ByteStream):
        return response.stream
    return response.aiter_raw()


class OneShot(httpx.SyncByteStream, httpx.AsyncByteStream):
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


def buffer_body(request: httpx.Request, logical: LogicalRequest) -> None:
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
            request.stream = OneShot(chunks, iterator)
            logical.replayable = False
            return
    request.stream = httpx.ByteStream(b"".join(chunks))


async def abuffer_body(request: httpx.Request, logical: LogicalRequest) -> None:
    """The async twin of :func:`buffer_body`."""
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
            request.stream = OneShot(chunks, iterator)
            logical.replayable = False
            return
    request.stream = httpx.ByteStream(b"".join(chunks))
