"""Verify Twilio inbound-call webhooks, then hand the call to StateSet Voice (stdlib only).

The Python version of the Express receiver on the StateSet examples page: a request whose
``X-Twilio-Signature`` verifies is answered ``307`` to StateSet's incoming-call endpoint (Twilio
repeats the same POST there); anything else gets a 4xx: ``401 invalid signature`` (also for a
malformed ``Host``), 413 for a body over 1 MiB, 400 for a malformed ``Content-Length``, 408 for a
client that stops sending mid-body.

Set the Twilio number's voice webhook to the public URL of this server, and give that exact URL
as ``--public-url`` (Twilio signs the URL it called, so behind a proxy or tunnel the URL the
server sees differs). The auth token is read from ``TWILIO_AUTH_TOKEN``::

    TWILIO_AUTH_TOKEN=... python examples/twilio_forwarder.py --port 8080 \\
        --public-url https://hooks.example.com/twilio/inbound

Without ``--public-url`` the URL is rebuilt from the request; ``--trust-forwarded`` then takes
scheme and host from ``X-Forwarded-Proto`` / ``X-Forwarded-Host`` (only behind a proxy that sets
them).

Each connection gets its own thread and a socket timeout (``--socket-timeout``, default 10 s),
so an idle or slow client delays no inbound call and is dropped when the timeout passes. For
heavy traffic, serve the same app with gunicorn behind a proxy::

    gunicorn "stateset_voice_wrapper.webhooks:twilio_inbound_forwarder(auth_token='...')"
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socketserver
from collections.abc import Iterable, Sequence
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from stateset_voice_wrapper.webhooks import DEFAULT_FORWARD_TO, twilio_inbound_forwarder

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


def answer_timeouts(app: WSGIApplication) -> WSGIApplication:
    """408 when the client stops sending mid-body (the socket timeout fires in ``app``)."""

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return app(environ, start_response)
        except TimeoutError:
            body = b"request timeout"
            start_response(
                "408 Request Timeout",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]

    return wrapped


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--public-url", help="the webhook URL exactly as configured in Twilio")
    parser.add_argument("--forward-to", default=DEFAULT_FORWARD_TO)
    parser.add_argument("--trust-forwarded", action="store_true")
    parser.add_argument(
        "--socket-timeout",
        type=float,
        default=DEFAULT_SOCKET_TIMEOUT,
        help="seconds a connection may stay silent before it is dropped (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    auth_token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not auth_token:
        parser.error("set TWILIO_AUTH_TOKEN")
    if not args.socket_timeout > 0:
        parser.error("--socket-timeout must be a positive number of seconds")
    app = twilio_inbound_forwarder(
        auth_token=auth_token,
        forward_to=args.forward_to,
        public_url=args.public_url,
        trust_forwarded=args.trust_forwarded,
    )
    with make_server(
        args.host,
        args.port,
        answer_timeouts(app),
        server_class=ThreadingWSGIServer,
        handler_class=handler_with_timeout(args.socket_timeout),
    ) as server:
        print(
            f"forwarding verified calls from http://{args.host}:{server.server_port}/", flush=True
        )
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
