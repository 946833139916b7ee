"""Receive StateSet Voice webhook deliveries with the standard library only.

Verifies each delivery's ``StateSet-Signature`` with :func:`construct_event`, prints one line
per event, and answers:

* 200 for a verified, well-formed event (any 2xx acknowledges the delivery);
* 400 for a verified body that is not an event (:class:`InvalidEventError`);
* 400 for a ``Content-Length`` that is not a decimal length, or a body shorter than it;
* 401 for a bad or missing signature (:class:`InvalidSignatureError`);
* 405 for anything but POST;
* 408 for a client that stops sending mid-body;
* 413 for a body over 1 MiB (judged on ``Content-Length``, before reading).

Run it, then point a webhook endpoint (or the sandbox) at ``http://127.0.0.1:8000/``::

    python examples/webhook_receiver.py --port 8000 --secret whsec_old --secret whsec_new

``--secret`` may be given several times while a secret is being rotated; without it the
secret is read from ``STATESET_VOICE_WEBHOOK_SECRET`` (which keeps it out of the process list).

Each connection gets its own thread and a socket timeout (``--socket-timeout``, default 10 s),
so an idle or slow client delays nobody else and is dropped when the timeout passes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socketserver
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from stateset_voice_wrapper.webhooks import (
    InvalidEventError,
    InvalidSignatureError,
    UnknownEvent,
    construct_event,
    event_dedup_key,
)

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_SOCKET_TIMEOUT = 10.0


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server with one thread per connection."""

    daemon_threads = True


QUERY = re.compile(r"\?[^\s\"']*")


def handler_with_timeout(seconds: float) -> type[WSGIRequestHandler]:
    """A request handler whose socket reads and writes give up after ``seconds``."""

    class Handler(WSGIRequestHandler):
        timeout = seconds  # StreamRequestHandler applies it to the connection's socket

        def log_message(self, format: str, *args: Any) -> None:
            # A GET webhook's query carries the caller's and callee's numbers: log no query.
            super().log_message("%s", QUERY.sub("?...", format % args))

        def handle(self) -> None:
            try:
                super().handle()
            except TimeoutError:  # idle before the request line or headers: drop the client
                self.close_connection = True

    return Handler


def body_length(value: str) -> int | None:
    """The ``Content-Length`` as an int, ``None`` if it is not 1*DIGIT.

    ``int()`` alone would take ``-1`` (and then ``read(-1)`` reads until the client closes),
    ``+5``, ``1_0`` or thousands of digits.
    """
    value = value.strip(" \t") or "0"
    if not (value.isascii() and value.isdigit()):
        return None
    significant = value.lstrip("0") or "0"
    return MAX_BODY_BYTES + 1 if len(significant) > 8 else int(significant)


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["CONTENT-TYPE"] = str(environ["CONTENT_TYPE"])
    return headers


def _or_dash(value: object) -> str:
    # Optional envelope fields are None or UNSET when absent.
    return value if isinstance(value, str) and value else "-"


def make_app(*, secrets: Sequence[str], out: TextIO = sys.stdout) -> WSGIApplication:
    """A WSGI app that verifies, parses and prints StateSet deliveries."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def answer(status: str, text: str) -> list[bytes]:
            body = text.encode()
            start_response(
                status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]

        if environ["REQUEST_METHOD"] != "POST":
            return answer("405 Method Not Allowed", "POST only")
        length = body_length(str(environ.get("CONTENT_LENGTH") or ""))
        if length is None:
            return answer("400 Bad Request", "bad Content-Length")
        if length > MAX_BODY_BYTES:
            return answer("413 Payload Too Large", "body too large")
        try:
            payload = environ["wsgi.input"].read(length) if length else b""
        except TimeoutError:
            return answer("408 Request Timeout", "request timeout")
        if len(payload) != length:
            return answer("400 Bad Request", "body shorter than Content-Length")
        try:
            event = construct_event(payload=payload, headers=_headers(environ), secrets=secrets)
        except InvalidSignatureError as exc:
            print(f"rejected delivery: {exc}", file=out, flush=True)
            return answer("401 Unauthorized", "invalid signature")
        except InvalidEventError as exc:
            print(f"rejected body: {exc}", file=out, flush=True)
            return answer("400 Bad Request", "invalid event")
        kind = "unknown " if isinstance(event, UnknownEvent) else ""
        print(
            f"{kind}{event.type_} id={event.id} dedup_key={event_dedup_key(event)} "
            f"call_id={_or_dash(event.call_id)} session_id={_or_dash(event.session_id)}",
            file=out,
            flush=True,
        )
        return answer("200 OK", "ok")

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--secret",
        action="append",
        dest="secrets",
        help="webhook secret (whsec_...); repeat during rotation. Default: $STATESET_VOICE_WEBHOOK_SECRET",
    )
    parser.add_argument(
        "--socket-timeout",
        type=float,
        default=DEFAULT_SOCKET_TIMEOUT,
        help="seconds a connection may stay silent before it is dropped (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if not args.socket_timeout > 0:
        parser.error("--socket-timeout must be a positive number of seconds")
    secrets: list[str] = args.secrets or [
        s for s in [os.environ.get("STATESET_VOICE_WEBHOOK_SECRET", "")] if s
    ]
    if not secrets:
        parser.error("give --secret or set STATESET_VOICE_WEBHOOK_SECRET")
    with make_server(
        args.host,
        args.port,
        make_app(secrets=secrets),
        server_class=ThreadingWSGIServer,
        handler_class=handler_with_timeout(args.socket_timeout),
    ) as server:
        print(f"listening on http://{args.host}:{server.server_port}/", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
