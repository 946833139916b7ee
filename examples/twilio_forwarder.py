"""Verify Twilio inbound-call webhooks, then hand the call to StateSet Voice (stdlib only).

The Python version of the Express receiver on the StateSet examples page: a request whose
``X-Twilio-Signature`` verifies is answered ``307`` to StateSet's incoming-call endpoint (Twilio
repeats the same POST there); anything else gets ``401 invalid signature``.

Set the Twilio number's voice webhook to the public URL of this server, and give that exact URL
as ``--public-url`` (Twilio signs the URL it called, so behind a proxy or tunnel the URL the
server sees differs). The auth token is read from ``TWILIO_AUTH_TOKEN``::

    TWILIO_AUTH_TOKEN=... python examples/twilio_forwarder.py --port 8080 \\
        --public-url https://hooks.example.com/twilio/inbound

Without ``--public-url`` the URL is rebuilt from the request; ``--trust-forwarded`` then takes
scheme and host from ``X-Forwarded-Proto`` / ``X-Forwarded-Host`` (only behind a proxy that sets
them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Sequence
from wsgiref.simple_server import make_server

from stateset_voice_wrapper.webhooks import DEFAULT_FORWARD_TO, twilio_inbound_forwarder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--public-url", help="the webhook URL exactly as configured in Twilio")
    parser.add_argument("--forward-to", default=DEFAULT_FORWARD_TO)
    parser.add_argument("--trust-forwarded", action="store_true")
    args = parser.parse_args(argv)
    auth_token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not auth_token:
        parser.error("set TWILIO_AUTH_TOKEN")
    app = twilio_inbound_forwarder(
        auth_token=auth_token,
        forward_to=args.forward_to,
        public_url=args.public_url,
        trust_forwarded=args.trust_forwarded,
    )
    with make_server(args.host, args.port, app) as server:
        print(
            f"forwarding verified calls from http://{args.host}:{server.server_port}/", flush=True
        )
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
