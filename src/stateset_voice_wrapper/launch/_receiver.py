"""A local webhook endpoint that records every delivery for the launch check.

A small threaded stdlib HTTP server: each connection gets its own thread and a socket timeout,
so one idle or slow sender holds up nobody; a body must announce its ``Content-Length`` and
stay within ``max_body_bytes``; at most ``max_deliveries`` are kept. It binds loopback by
default (point a tunnel at it to receive a staging tenant's deliveries).

It records and acknowledges (204) every well-formed ``POST`` to its path, signed or not: the
check judges the signatures afterwards, the same way for every source, and a receiver that
refused a delivery would only make the sender retry it for a day after the check has ended.

With ``save_to``, every delivery is also appended to that JSON-lines file as it arrives, and
the file's earlier deliveries are read back at start: a re-run of the same run (after a crash,
say) still has the deliveries of the calls its first run placed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final, Self

from ._deliveries import Delivery, read_deliveries

__all__ = ["DEFAULT_MAX_BODY_BYTES", "WebhookReceiver"]

#: Larger than any event the contract describes, small enough that no sender can exhaust memory.
DEFAULT_MAX_BODY_BYTES: Final = 1 << 20
_DEFAULT_MAX_DELIVERIES: Final = 100_000
_DEFAULT_SOCKET_TIMEOUT: Final = 10.0


class WebhookReceiver:
    """Receive webhook deliveries on ``http://host:port/path`` while the check runs.

    ``port=0`` picks a free port (read it from :attr:`url` after :meth:`start`). Use it as a
    context manager, or call :meth:`start` and :meth:`stop`.

    Example::

        with WebhookReceiver(save_to="deliveries.jsonl") as receiver:
            sandbox.configure_webhooks(url=receiver.url)
            report = launch_check(..., deliveries=receiver)
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/",
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_deliveries: int = _DEFAULT_MAX_DELIVERIES,
        socket_timeout: float = _DEFAULT_SOCKET_TIMEOUT,
        save_to: str | os.PathLike[str] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        if max_body_bytes < 1 or max_deliveries < 1 or not socket_timeout > 0:
            raise ValueError("max_body_bytes, max_deliveries and socket_timeout must be positive")
        self._address = (host, port)
        self._path = path
        self._max_body = max_body_bytes
        self._max_deliveries = max_deliveries
        self._socket_timeout = socket_timeout
        self._save_to = None if save_to is None else Path(save_to)
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Read back ``save_to``'s deliveries, bind and serve on a background thread."""
        if self._server is not None:
            return self
        if self._save_to is not None and self._save_to.exists():
            with self._lock:
                self._deliveries = read_deliveries(self._save_to)
        server = ThreadingHTTPServer(self._address, self._handler_class())
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="launch-check-webhooks",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; the recorded deliveries stay readable."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what it received ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL to deliver to (``http://127.0.0.1:PORT/``)."""
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}{self._path}"

    @property
    def description(self) -> str:
        return f"receiver {self.url}" if self._server is not None else "receiver (stopped)"

    def collect(self) -> list[Delivery]:
        """Every delivery so far (those read back from ``save_to`` first)."""
        with self._lock:
            return list(self._deliveries)

    def _record(self, delivery: Delivery) -> bool:
        with self._lock:
            if len(self._deliveries) >= self._max_deliveries:
                return False
            self._deliveries.append(delivery)
            if self._save_to is not None:
                self._save_to.parent.mkdir(parents=True, exist_ok=True)
                line = json.dumps(delivery.to_json(), ensure_ascii=True) + "\n"
                with self._save_to.open("a", encoding="ascii") as handle:
                    handle.write(line)
        return True

    # -- the HTTP side ---------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = receiver._socket_timeout  # applied to the connection's socket
            server_version = "stateset-voice-launch-check"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                pass  # a request line may carry anything; the report says what arrived

            def _answer(self, status: int, *, close: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                if close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()

            def do_POST(self) -> None:
                if self.path.split("?", 1)[0] != receiver._path:
                    self._answer(404, close=True)
                    return
                length = self.headers.get("Content-Length")
                if length is None:
                    self._answer(411, close=True)
                    return
                if not (length.isascii() and length.isdigit()):
                    self._answer(400, close=True)
                    return
                if int(length) > receiver._max_body:
                    self._answer(413, close=True)
                    return
                body = self.rfile.read(int(length))
                if len(body) < int(length):
                    self._answer(400, close=True)
                    return
                headers = {name: value for name, value in self.headers.items()}
                delivery = Delivery(body=body, headers=headers, received_at=receiver._wall_clock())
                self._answer(204 if receiver._record(delivery) else 503)

            def _refuse(self) -> None:
                self._answer(405, close=True)

            do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = _refuse

        return Handler
