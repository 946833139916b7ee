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

For faults in every phase of an exchange, a :class:`Script` plays steps on one connection:
read all or part of the request (or nothing), :class:`Commit` the request to the server's
application (a :class:`CallApp` that creates one call per Idempotency-Key and replays it), send
the application's answer or any bytes, whole, cut at any byte, or trickled at a rate, repeat
interim ``1xx`` responses, stall, close (FIN) or reset (RST). Example: the status line, then
one header line every 50 ms until the server stops::

    Script(Send(b"HTTP/1.1 200 OK\r\n"), Repeat(b"X-Pad: 1\r\n", every=0.05))
"""

from __future__ import annotations

import contextlib
import http
import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = [
    "Answer",
    "Behaviour",
    "CallApp",
    "Close",
    "CloseBeforeResponse",
    "Commit",
    "FaultServer",
    "HalfBody",
    "Hang",
    "RecordedRequest",
    "Repeat",
    "Reset",
    "ResetNow",
    "Respond",
    "Script",
    "Send",
    "SendAnswer",
    "Stall",
    "Wait",
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


# -- scripted behaviours: one step at a time ----------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Send ``data``; with ``every`` > 0, ``size`` bytes at a time with ``every`` seconds between."""

    data: bytes
    every: float = 0.0
    size: int = 1


@dataclass(frozen=True)
class SendAnswer:
    """Send bytes ``start:end`` of the application's answer (committing first if needed), at
    once or trickled like :class:`Send`. ``end=None`` is the whole answer."""

    start: int = 0
    end: int | None = None
    every: float = 0.0
    size: int = 1


@dataclass(frozen=True)
class Commit:
    """Hand the request to the application now (a make-call creates its call here)."""


@dataclass(frozen=True)
class Repeat:
    """Send ``data`` every ``every`` seconds, ``times`` times (None: until the server stops)."""

    data: bytes
    every: float
    times: int | None = None


@dataclass(frozen=True)
class Wait:
    """Wait ``seconds`` (on the stop event: the server's stop ends the wait)."""

    seconds: float


@dataclass(frozen=True)
class Stall:
    """Send nothing more until the server stops."""


@dataclass(frozen=True)
class Close:
    """Close the connection cleanly (FIN)."""


@dataclass(frozen=True)
class ResetNow:
    """Reset the connection (RST)."""


Step = Send | SendAnswer | Commit | Repeat | Wait | Stall | Close | ResetNow


@dataclass(frozen=True)
class Script:
    """Steps played on one connection after reading the request.

    ``read``: ``"full"`` reads the whole request (and records it), ``"none"`` reads nothing
    (accept, then only the steps), an int reads at most that many bytes. After the last step the
    connection is closed.
    """

    steps: tuple[Step, ...]
    read: str | int = "full"

    def __init__(self, *steps: Step, read: str | int = "full") -> None:
        object.__setattr__(self, "steps", tuple(steps))
        object.__setattr__(self, "read", read)


Behaviour = Respond | CloseBeforeResponse | HalfBody | Reset | Hang | Script


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


@dataclass(frozen=True)
class Answer:
    """What an application answers: rendered with Content-Length, or chunked when ``chunked``."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    chunked: bool = False

    def render(self) -> bytes:
        if not self.chunked:
            return _head(self.status, self.headers, len(self.body)) + self.body
        headers = (*self.headers, ("Transfer-Encoding", "chunked"))
        head = _head(self.status, headers, None)
        pieces = [self.body[i : i + 7] for i in range(0, len(self.body), 7)]
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
        return head + chunks + b"0\r\n\r\n"


class CallApp:
    """A deduplicating make-call server: one call per Idempotency-Key, replayed after that.

    ``POST .../make-call`` with a key creates the call once (``creations[key]`` counts them: a
    correct client never makes it exceed 1) and answers 201 with the call; a replay answers
    the same call with ``Idempotent-Replayed: true``. ``GET .../call-logs/<id>`` answers a call
    log. ``error`` makes every answer that status with a JSON error whose message echoes the
    request's phone numbers, as some servers do. ``chunked`` renders answers chunked.
    """

    def __init__(self, *, error: int | None = None, chunked: bool = False) -> None:
        self.error = error
        self.chunked = chunked
        self._lock = threading.Lock()
        self.calls: dict[str, dict[str, Any]] = {}
        self.creations: dict[str, int] = {}

    def __call__(self, request: RecordedRequest) -> Answer:
        headers: tuple[tuple[str, str], ...] = (
            ("Content-Type", "application/json"),
            ("x-request-id", f"srv_{abs(hash(request.header('X-Request-Id'))) % 10**8:08d}"),
        )
        if self.error is not None:
            try:
                sent = request.json()
            except ValueError:
                sent = {}
            message = f"cannot call {sent.get('to', '+15555550000')} from {sent.get('from', '+15555550001')}"
            body = json.dumps({"code": "refused", "message": message}).encode()
            return Answer(self.error, headers, body, self.chunked)
        path = request.path.split("?")[0].rstrip("/")
        if request.method == "POST" and path.endswith("/make-call"):
            key = request.header("Idempotency-Key") or ""
            with self._lock:
                replayed = key in self.calls and bool(key)
                if not replayed:
                    sent = request.json()
                    call = {
                        "call_id": f"call_{len(self.creations) + 1:06d}",
                        "status": "queued",
                        "to": sent.get("to"),
                        "from": sent.get("from"),
                        "agent_key": sent.get("agent_key"),
                        "created_at": "2024-05-01T12:00:00Z",
                    }
                    self.creations[key] = self.creations.get(key, 0) + 1
                    if key:
                        self.calls[key] = call
                else:
                    call = self.calls[key]
            if replayed:
                headers = (*headers, ("Idempotent-Replayed", "true"))
            return Answer(201, headers, json.dumps(call).encode(), self.chunked)
        if request.method == "GET" and "/call-logs/" in path:
            log = {
                "call_id": path.rsplit("/", 1)[1],
                "status": "completed",
                "direction": "outbound",
                "to": "+15555555678",
                "from": "+15555550100",
                "agent_key": "front_desk",
                "duration_seconds": 42,
                "escalated": False,
                "created_at": "2024-05-01T12:00:00Z",
            }
            return Answer(200, headers, json.dumps(log).encode(), self.chunked)
        return Answer(404, headers, b'{"code": "not_found", "message": "no such route"}')


def _head(status: int, headers: Sequence[tuple[str, str]], content_length: int | None) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    names = {name.lower() for name, _ in headers}
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if "content-length" not in names and content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    if "connection" not in names:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class FaultServer:
    """A threaded loopback server playing ``script``, one behaviour per connection.

    When the script runs out, every further connection gets ``default`` (a 200 with ``{}``).
    Use it as a context manager; :attr:`url` is ``http://127.0.0.1:<port>``.
    """

    def __init__(
        self,
        *script: Behaviour,
        default: Behaviour | None = None,
        app: CallApp | None = None,
        chooser: Callable[[RecordedRequest], Behaviour] | None = None,
    ) -> None:
        #: When set, picks each connection's behaviour from the request it read (the script
        #: and default are then unused), e.g. by its X-Request-Attempt header.
        self.chooser = chooser
        self._script = list(script)
        self.app = app if app is not None else CallApp()
        self._default: Behaviour = (
            default
            if default is not None
            else Respond(200, headers=(("Content-Type", "application/json"),), body=b"{}")
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        #: Connections accepted (each carries at most one request).
        self.accepted = 0
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
                self.accepted += 1
                thread = threading.Thread(target=self._serve, args=(conn, behaviour), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, behaviour: Behaviour) -> None:
        try:
            conn.settimeout(_READ_TIMEOUT)
            if isinstance(behaviour, Script) and behaviour.read != "full":
                if isinstance(behaviour.read, int):
                    with contextlib.suppress(OSError):
                        conn.recv(max(1, behaviour.read))
                self._play(conn, behaviour, None)
                return
            try:
                request = _read_request(conn)
            except (_BadRequest, OSError, ValueError):
                return
            with self._lock:
                self._requests.append(request)
            if self.chooser is not None:
                behaviour = self.chooser(request)
            if isinstance(behaviour, Script):
                self._play(conn, behaviour, request)
                return
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

    def _wait(self, seconds: float) -> bool:
        """Wait ``seconds``; True when the server is stopping (the caller gives up)."""
        return self._stop.wait(seconds) if seconds > 0 else self._stop.is_set()

    def _trickle(self, conn: socket.socket, data: bytes, every: float, size: int) -> bool:
        if every <= 0:
            conn.sendall(data)
            return False
        for i in range(0, len(data), max(1, size)):
            conn.sendall(data[i : i + max(1, size)])
            if self._wait(every):
                return True
        return False

    def _play(self, conn: socket.socket, script: Script, request: RecordedRequest | None) -> None:
        answer: bytes | None = None

        def committed() -> bytes:
            nonlocal answer
            if answer is None:
                answer = self.app(request).render() if request is not None else b""
            return answer

        with contextlib.suppress(OSError):
            for step in script.steps:
                match step:
                    case Commit():
                        committed()
                    case Send(data=data, every=every, size=size):
                        if self._trickle(conn, data, every, size):
                            return
                    case SendAnswer(start=start, end=end, every=every, size=size):
                        if self._trickle(conn, committed()[start:end], every, size):
                            return
                    case Repeat(data=data, every=every, times=times):
                        sent = 0
                        while times is None or sent < times:
                            conn.sendall(data)
                            sent += 1
                            if self._wait(every):
                                return
                    case Wait(seconds=seconds):
                        if self._wait(seconds):
                            return
                    case Stall():
                        self._stop.wait()
                        return
                    case Close():
                        conn.shutdown(socket.SHUT_RDWR)
                        return
                    case ResetNow():
                        conn.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                        return


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
