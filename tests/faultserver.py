"""A raw-socket HTTP/1.1 server on loopback that misbehaves on cue.

pytest-httpserver can only answer well; the failures the reliability layer must survive happen
below HTTP: a connection closed before any response, a body cut short, a TCP reset, a server
that never answers. :class:`FaultServer` plays a script of such behaviours, one per accepted
connection (every connection carries exactly one request: each answer says
``Connection: close``), and records every request it read so tests can assert what arrived.

Example::

    with FaultServer(Reset(), Respond(200, body=b"{}")) as server:
        httpx.get(server.url + "/x")  # via a retrying transport: one reset, then 200
        assert len(server.requests) == 2

Nothing here sleeps on a timer: a :class:`Hang` or a delayed :class:`Respond` waits on an event
that :meth:`FaultServer.stop` sets, so every thread ends when the server stops.
"""

from __future__ import annotations

import contextlib
import http
import json
import socket
import struct
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = [
    "Behaviour",
    "CloseBeforeResponse",
    "FaultServer",
    "HalfBody",
    "Hang",
    "RecordedRequest",
    "Reset",
    "Respond",
    "json_response",
    "refused_port",
]

_READ_TIMEOUT = 5.0  # a client that connects and never sends must not pin a thread forever
_MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Respond:
    """Answer with this status, headers and body; ``delay`` waits first (accept but delay)."""

    status: int = 200
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    delay: float = 0.0


@dataclass(frozen=True)
class CloseBeforeResponse:
    """Read the request, then close the connection cleanly (FIN) without answering."""


@dataclass(frozen=True)
class HalfBody:
    """Send headers declaring ``len(body)`` bytes, then only the first ``sent`` bytes, then close."""

    status: int = 200
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b'{"call_id": "c_1", "status": "queued"}'
    sent: int = 10


@dataclass(frozen=True)
class Reset:
    """Read the request, then reset the connection (SO_LINGER 0 and close sends a TCP RST)."""


@dataclass(frozen=True)
class Hang:
    """Read the request and never answer (until the server stops): provokes read timeouts."""


Behaviour = Respond | CloseBeforeResponse | HalfBody | Reset | Hang


def json_response(
    status: int, data: object, *, headers: Sequence[tuple[str, str]] = (), delay: float = 0.0
) -> Respond:
    """A :class:`Respond` with a JSON body and content type."""
    return Respond(
        status,
        headers=(("Content-Type", "application/json"), *headers),
        body=json.dumps(data).encode(),
        delay=delay,
    )


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server read it off the wire."""

    method: str
    #: The request target as sent: path and query string.
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


class _BadRequest(Exception):
    pass


def _recv_until(sock: socket.socket, buffer: bytearray, marker: bytes) -> int:
    while True:
        index = buffer.find(marker)
        if index >= 0:
            return index
        if len(buffer) > _MAX_HEAD:
            raise _BadRequest("request head too large")
        chunk = sock.recv(65536)
        if not chunk:
            raise _BadRequest("client closed before a full request")
        buffer += chunk


def _recv_exactly(sock: socket.socket, buffer: bytearray, size: int) -> bytes:
    while len(buffer) < size:
        chunk = sock.recv(65536)
        if not chunk:
            raise _BadRequest("client closed inside the request body")
        buffer += chunk
    data = bytes(buffer[:size])
    del buffer[:size]
    return data


def _read_request(sock: socket.socket) -> RecordedRequest:
    buffer = bytearray()
    end = _recv_until(sock, buffer, b"\r\n\r\n")
    head = bytes(buffer[:end]).decode("latin-1")
    del buffer[: end + 4]
    request_line, *header_lines = head.split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers = tuple(
        (name.strip(), value.strip())
        for name, value in (line.split(":", 1) for line in header_lines if line)
    )
    lowered = {name.lower(): value for name, value in headers}
    if lowered.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            line_end = _recv_until(sock, buffer, b"\r\n")
            size = int(bytes(buffer[:line_end]).split(b";")[0], 16)
            del buffer[: line_end + 2]
            chunks.append(_recv_exactly(sock, buffer, size))
            _recv_exactly(sock, buffer, 2)  # the CRLF after each chunk
            if size == 0:
                break
        body = b"".join(chunks)
    else:
        body = _recv_exactly(sock, buffer, int(lowered.get("content-length", "0")))
    return RecordedRequest(method=method, path=target, headers=headers, body=body)


def _head(status: int, headers: Sequence[tuple[str, str]], content_length: int) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    names = {name.lower() for name, _ in headers}
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if "content-length" not in names:
        lines.append(f"Content-Length: {content_length}")
    if "connection" not in names:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class FaultServer:
    """A threaded loopback server playing ``script``, one behaviour per connection.

    When the script runs out, every further connection gets ``default`` (a 200 with ``{}``).
    Use it as a context manager; :attr:`url` is ``http://127.0.0.1:<port>``.
    """

    def __init__(self, *script: Behaviour, default: Behaviour | None = None) -> None:
        self._script = list(script)
        self._default: Behaviour = (
            default
            if default is not None
            else Respond(200, headers=(("Content-Type", "application/json"),), body=b"{}")
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request read so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaultServer:
        self._listener.listen(64)
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Release hanging and delayed handlers, close every socket and join every thread."""
        self._stop.set()
        # accept() is not woken by close() from another thread on every platform; connecting is.
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1.0).close()
        self._acceptor.join(timeout=5.0)
        self._listener.close()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=5.0)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._stop.is_set():
                conn.close()
                return
            with self._lock:
                behaviour = self._script.pop(0) if self._script else self._default
                self._connections.add(conn)
                thread = threading.Thread(target=self._serve, args=(conn, behaviour), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, behaviour: Behaviour) -> None:
        try:
            conn.settimeout(_READ_TIMEOUT)
            try:
                request = _read_request(conn)
            except (_BadRequest, OSError, ValueError):
                return
            with self._lock:
                self._requests.append(request)
            self._act(conn, behaviour)
        finally:
            with self._lock:
                self._connections.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _act(self, conn: socket.socket, behaviour: Behaviour) -> None:
        with contextlib.suppress(OSError):
            match behaviour:
                case Respond(status=status, headers=headers, body=body, delay=delay):
                    if delay and self._stop.wait(delay):
                        return
                    conn.sendall(_head(status, headers, len(body)) + body)
                case CloseBeforeResponse():
                    conn.shutdown(socket.SHUT_RDWR)
                case HalfBody(status=status, headers=headers, body=body, sent=sent):
                    conn.sendall(_head(status, headers, len(body)) + body[:sent])
                    conn.shutdown(socket.SHUT_RDWR)
                case Reset():
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                case Hang():
                    self._stop.wait()


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections, for connect errors.

    The socket is bound but never listens, and stays bound for the block, so no other process
    can start listening on the port meanwhile (closing it at once, then connecting, would race).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
