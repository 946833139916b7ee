"""Quickstart: place a call safely, watch it complete, read its transcript, verify its webhook.

Runs against any StateSet Voice API, the local sandbox included. It reads
STATESET_VOICE_API_KEY and STATESET_VOICE_BASE_URL (``make demo`` starts a sandbox and runs
this script with both set; by hand, ``eval "$(stateset-voice sandbox --seed 1 --print-env)"``
sets them for a sandbox started with ``--seed 1``).

Step 5 receives the call's webhooks on ``--webhook-port`` (loopback) and verifies them with
STATESET_VOICE_WEBHOOK_SECRET. Deliveries go to the tenant's configured webhook URL: a sandbox
started with ``--webhook-url http://127.0.0.1:8787/webhooks`` sends them here, and without one
the step says so and is left out (``--require-webhooks`` makes that an error, as in
``make demo``).
"""

from __future__ import annotations

import argparse
import os
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from stateset_voice_wrapper import VoiceClient, response_info
from stateset_voice_wrapper.webhooks import InvalidSignatureError, construct_event

TERMINAL = {"completed", "no-answer", "busy", "failed", "canceled"}


def start_receiver(port: int, secret: str, events: queue.Queue[object]) -> HTTPServer:
    """A stdlib webhook endpoint that verifies every delivery before accepting it."""

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                event = construct_event(payload=body, headers=dict(self.headers), secrets=[secret])
            except InvalidSignatureError as exc:
                self.send_response(401)
                self.end_headers()
                print(f"  webhook rejected: {exc}")
                return
            events.put(event)
            self.send_response(204)
            self.end_headers()

    server = HTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--webhook-port", type=int, default=int(os.environ.get("WEBHOOK_PORT", "8787"))
    )
    parser.add_argument("--to", default="+15555550101")
    parser.add_argument("--from", dest="from_", default="+15555551234")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for the call to end"
    )
    parser.add_argument(
        "--require-webhooks", action="store_true", help="fail when no webhook arrives"
    )
    args = parser.parse_args(argv)

    secret = os.environ.get("STATESET_VOICE_WEBHOOK_SECRET") or os.environ.get(
        "STATESET_WEBHOOK_SECRET"
    )
    events: queue.Queue[object] = queue.Queue()
    receiver = start_receiver(args.webhook_port, secret, events) if secret else None
    key = f"appt-A-123-confirm-{int(time.time())}"
    try:
        with VoiceClient() as voice:
            print(f"1. create a call with business idempotency key {key!r}")
            with response_info() as info:
                call = voice.calls.create(
                    to=args.to,
                    from_=args.from_,
                    agent_key="front_desk",
                    greeting="Hi, this is Acme calling to confirm your appointment.",
                    metadata={"appointment_id": "A-123"},
                    idempotency_key=key,
                )
            print(f"   call {call.call_id} is {call.status.value} (request_id={info.request_id})")

            print("2. repeat the create with the same key (a retry after a crash, say)")
            with response_info() as again_info:
                again = voice.calls.create(
                    to=args.to,
                    from_=args.from_,
                    agent_key="front_desk",
                    greeting="Hi, this is Acme calling to confirm your appointment.",
                    metadata={"appointment_id": "A-123"},
                    idempotency_key=key,
                )
            same = again.call_id == call.call_id
            print(f"   got call {again.call_id}: same call={same}, replayed={again_info.replayed}")
            if not same:
                raise SystemExit("the repeated create made a second call")

            print("3. watch the call in the call logs")
            end = time.monotonic() + args.timeout
            log = voice.call_logs.get(call.call_id)
            while log.status.value not in TERMINAL:
                if time.monotonic() > end:
                    raise SystemExit(f"call did not finish within {args.timeout}s")
                time.sleep(0.2)
                log = voice.call_logs.get(call.call_id)
                print(f"   status: {log.status.value}")
            print(
                f"   ended {log.status.value} after {log.duration_seconds}s; summary: {log.summary}"
            )

            if isinstance(log.session_id, str):
                print("4. read the session transcript")
                session = voice.sessions.get(log.session_id)
                for turn in session.transcript:
                    print(f"   [{turn.start_ms / 1000:5.1f}s] {turn.speaker.value:>8}: {turn.text}")
                print(
                    f"   tags={session.tags} qa={session.qa_state.value} score={session.evaluation_score}"
                )

            print("5. receive and verify its webhooks")
            if receiver is None:
                print("   skipped: set STATESET_VOICE_WEBHOOK_SECRET to verify deliveries")
                return 0
            seen: set[str] = set()
            while True:
                try:
                    event = events.get(timeout=5.0)
                except queue.Empty:
                    break
                event_id = str(getattr(event, "id", ""))
                event_type = str(getattr(event, "type_", None) or getattr(event, "type", "?"))
                duplicate = event_id in seen
                seen.add(event_id)
                note = " (duplicate delivery)" if duplicate else ""
                print(f"   verified {event_type} {event_id}{note}")
                if event_type in {"call.completed", "call.failed"}:
                    break
            if not seen:
                hint = (
                    "no webhook arrived: deliveries go to the tenant's webhook URL; start the"
                    f" sandbox with --webhook-url http://127.0.0.1:{args.webhook_port}/webhooks"
                )
                if args.require_webhooks:
                    raise SystemExit(hint)
                print(f"   {hint}")
    finally:
        if receiver is not None:
            receiver.shutdown()
    print("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
