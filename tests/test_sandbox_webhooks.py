"""Webhook deliveries and Twilio-signed inbound posts, received by a real local HTTP server.

Signatures are verified here with hmac directly (not with the package's helpers), so the test
checks the wire format the contract describes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from stateset_voice_wrapper.sandbox import Sandbox
from stateset_voice_wrapper.sandbox.conformance import ContractChecker

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "api-contracts"
CALL = {"to": "+15555550100", "from": "+15555551234", "agent_key": "front_desk"}
ANSWERED_EVENTS = [
    "call.queued",
    "call.ringing",
    "call.answered",
    "session.started",
    "call.completed",
    "session.ended",
    "evaluation.completed",
]


class Receiver:
    """Records every delivery; answers with scripted statuses, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.received.append((dict(request.headers), request.get_data()))
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)

    def types(self) -> list[str]:
        return [headers["Stateset-Event-Type"] for headers, _ in self.received]


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker(CONTRACTS_DIR)


def listen(httpserver: HTTPServer, receiver: Callable[[Request], Response]) -> str:
    httpserver.expect_request("/hooks", method="POST").respond_with_handler(receiver)
    return str(httpserver.url_for("/hooks"))


def verify_signature(headers: dict[str, str], body: bytes, secret: str) -> None:
    """The consumer's check, exactly as the contract's webhookSignature scheme describes it."""
    parts = headers["Stateset-Signature"].split(",")
    assert parts[0].startswith("t=")
    timestamp = int(parts[0][2:])
    assert abs(time.time() - timestamp) <= 300
    signatures = [p[3:] for p in parts[1:] if p.startswith("v1=")]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert any(hmac.compare_digest(expected, s) for s in signatures)


def create_call(sandbox: Sandbox, **body: Any) -> str:
    response = httpx.post(
        sandbox.base_url + "/api/v1/make-call",
        json={**CALL, **body},
        headers={"Authorization": f"Bearer {sandbox.runtime_key}"},
    )
    assert response.status_code == 201
    call_id: str = response.json()["call_id"]
    return call_id


def set_tenant_webhook(sandbox: Sandbox, url: str) -> None:
    response = httpx.put(
        sandbox.base_url + "/api/v1/admin/tenants/ten_sandbox/runtime-config",
        json={
            "model": "gpt-realtime",
            "voice": "alloy",
            "system_prompt_key": "p",
            "webhook_url": url,
        },
        headers={"x-admin-key": sandbox.admin_key},
    )
    assert response.status_code == 200


def test_each_transition_is_delivered_signed_and_conforming(
    sandbox: Sandbox, httpserver: HTTPServer, checker: ContractChecker
) -> None:
    receiver = Receiver()
    set_tenant_webhook(sandbox, listen(httpserver, receiver))
    call_id = create_call(sandbox, metadata={"appointment_id": "A-123"})
    sandbox.advance(settle=True)
    assert sandbox.flush_webhooks()
    assert receiver.types() == ANSWERED_EVENTS
    ids = set()
    for headers, body in receiver.received:
        verify_signature(headers, body, sandbox.webhook_secret)
        event = checker.check_webhook(headers, body)
        assert event["id"].startswith("evt_")
        assert headers["Stateset-Event-Id"] == event["id"]
        assert headers["Stateset-Event-Type"] == event["type"]
        assert headers["Stateset-Delivery-Attempt"] == "1"
        assert headers["Content-Type"] == "application/json"
        assert (event["tenant_id"], event["call_id"]) == ("ten_sandbox", call_id)
        assert event["data"]["call_id"] == call_id
        ids.add(event["id"])
    assert len(ids) == len(ANSWERED_EVENTS)
    completed = next(e for e in sandbox.events() if e["type"] == "call.completed")
    assert completed["data"]["metadata"] == {"appointment_id": "A-123"}
    assert completed["data"]["duration_seconds"] > 0


@pytest.mark.parametrize(
    ("to", "extra"), [("+15555550107", "no-answer"), ("+15555550106", "session.escalated")]
)
def test_unanswered_and_escalated_calls_emit_their_events(
    sandbox: Sandbox, httpserver: HTTPServer, checker: ContractChecker, to: str, extra: str
) -> None:
    receiver = Receiver()
    sandbox.configure_webhooks(url=listen(httpserver, receiver))
    create_call(sandbox, to=to)
    sandbox.advance(settle=True)
    sandbox.flush_webhooks()
    for headers, body in receiver.received:
        checker.check_webhook(headers, body)
    if extra == "no-answer":
        assert receiver.types() == ["call.queued", "call.ringing", "call.failed"]
        failed = checker.check_webhook(*receiver.received[-1])
        assert failed["data"]["status"] == "no-answer"
        assert failed["data"]["failure_reason"]
    else:
        assert extra in receiver.types()


def test_non_2xx_is_retried_with_increasing_attempt_numbers(
    sandbox: Sandbox, httpserver: HTTPServer
) -> None:
    receiver = Receiver(statuses=[500, 503])
    sandbox.configure_webhooks(url=listen(httpserver, receiver))
    create_call(sandbox)
    assert sandbox.flush_webhooks()
    assert [h["Stateset-Delivery-Attempt"] for h, _ in receiver.received] == ["1", "2", "3"]
    assert len({h["Stateset-Event-Id"] for h, _ in receiver.received}) == 1
    assert len({body for _, body in receiver.received}) == 1  # same bytes, signed afresh
    for headers, body in receiver.received:
        verify_signature(headers, body, sandbox.webhook_secret)
    assert [d["status"] for d in sandbox.webhook_deliveries()] == [500, 503, 200]


def test_retries_are_bounded(
    sandbox_factory: Callable[..., Sandbox], httpserver: HTTPServer
) -> None:
    instance = sandbox_factory(webhook_max_attempts=3)
    receiver = Receiver(statuses=[500] * 100)
    instance.configure_webhooks(url=listen(httpserver, receiver))
    create_call(instance)
    instance.advance()
    assert instance.flush_webhooks()
    assert receiver.types() == ["call.queued"] * 3 + ["call.ringing"] * 3


def test_an_unreachable_endpoint_is_given_up(sandbox_factory: Callable[..., Sandbox]) -> None:
    instance = sandbox_factory(webhook_max_attempts=2, webhook_url="http://127.0.0.1:9/hooks")
    create_call(instance)
    assert instance.flush_webhooks()
    deliveries = instance.webhook_deliveries()
    assert [d["attempt"] for d in deliveries] == [1, 2]
    assert all(d["status"] is None and d["error"] for d in deliveries)


def test_duplicates_repeat_the_same_event(
    sandbox_factory: Callable[..., Sandbox], httpserver: HTTPServer
) -> None:
    receiver = Receiver()
    instance = sandbox_factory(webhook_duplicate_probability=1.0)
    instance.configure_webhooks(url=listen(httpserver, receiver))
    create_call(instance)
    instance.flush_webhooks()
    (first_headers, first_body), (second_headers, second_body) = receiver.received
    assert first_headers["Stateset-Event-Id"] == second_headers["Stateset-Event-Id"]
    assert first_body == second_body
    assert (
        first_headers["Stateset-Delivery-Attempt"],
        second_headers["Stateset-Delivery-Attempt"],
    ) == ("1", "2")
    verify_signature(second_headers, second_body, instance.webhook_secret)
    assert [d["duplicate"] for d in instance.webhook_deliveries()] == [False, True]


def test_occasional_duplicates_are_deterministic_under_a_seed(
    sandbox_factory: Callable[..., Sandbox], httpserver: HTTPServer
) -> None:
    patterns = []
    for _ in range(2):
        instance = sandbox_factory(seed=9, webhook_duplicate_probability=0.5)
        instance.configure_webhooks(url=listen(httpserver, Receiver()))
        for _ in range(3):
            create_call(instance)
        instance.advance(settle=True)
        instance.flush_webhooks()
        patterns.append([(d["event_id"], d["duplicate"]) for d in instance.webhook_deliveries()])
    assert patterns[0] == patterns[1]
    duplicates = [duplicate for _, duplicate in patterns[0]]
    assert 0 < duplicates.count(True) < duplicates.count(False)


def test_webhooks_are_configured_and_inspected_over_http(
    sandbox_factory: Callable[..., Sandbox], httpserver: HTTPServer
) -> None:
    receiver = Receiver()
    instance = sandbox_factory(webhook_url=listen(httpserver, receiver))
    admin = {"x-admin-key": instance.admin_key}
    create_call(instance)
    flushed = httpx.post(instance.base_url + "/_sandbox/webhooks/flush", json={}, headers=admin)
    assert flushed.json() == {"drained": True, "pending": 0}
    state = httpx.get(instance.base_url + "/_sandbox/webhooks", headers=admin).json()
    assert [d["event_type"] for d in state["deliveries"]] == ["call.queued"]
    off = httpx.post(instance.base_url + "/_sandbox/webhooks", json={"url": None}, headers=admin)
    assert off.json()["url"] is None
    create_call(instance)
    instance.flush_webhooks()
    assert receiver.types() == ["call.queued"]
    events = httpx.get(instance.base_url + "/_sandbox/events", headers=admin).json()["items"]
    assert [e["type"] for e in events] == ["call.queued", "call.queued"]
    bad = httpx.post(instance.base_url + "/_sandbox/webhooks", json={"nope": 1}, headers=admin)
    assert bad.status_code == 422


def test_readiness_sees_the_webhook_url(sandbox: Sandbox) -> None:
    sandbox.configure_webhooks(url="http://127.0.0.1:9/hooks")
    readiness = httpx.get(
        sandbox.base_url + "/api/v1/readiness",
        headers={"Authorization": f"Bearer {sandbox.runtime_key}"},
    ).json()
    assert {c["name"]: c["status"] for c in readiness["checks"]}["webhooks"] == "pass"


def twilio_signature(token: str, url: str, form: list[tuple[str, str]]) -> str:
    """Twilio's algorithm, written out: URL + sorted name/value pairs, HMAC-SHA1, base64."""
    signed = url + "".join(name + value for name, value in sorted(form))
    digest = hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def test_twilio_signed_inbound_post_reaches_a_forwarder(
    sandbox: Sandbox, httpserver: HTTPServer
) -> None:
    receiver = Receiver()
    url = listen(httpserver, receiver)
    result = sandbox.send_twilio_inbound(url, params={"From": "+15555550142"})
    assert result["status"] == 200
    headers, body = receiver.received[0]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qsl(body.decode())
    fields = dict(form)
    assert fields["From"] == "+15555550142"
    assert fields["CallSid"].startswith("CA")
    assert {"AccountSid", "To", "CallStatus", "Direction"} <= set(fields)
    assert headers["X-Twilio-Signature"] == twilio_signature(sandbox.twilio_auth_token, url, form)
    assert result["signature"] == headers["X-Twilio-Signature"]

    forged = sandbox.send_twilio_inbound(url, valid_signature=False)
    forged_headers, forged_body = receiver.received[1]
    expected = twilio_signature(sandbox.twilio_auth_token, url, parse_qsl(forged_body.decode()))
    assert forged["signature"] == forged_headers["X-Twilio-Signature"] != expected


def test_twilio_inbound_over_http_to_the_sandbox_itself(sandbox: Sandbox) -> None:
    target = sandbox.base_url + "/api/v1/incoming-call"
    admin = {"x-admin-key": sandbox.admin_key}
    result = httpx.post(
        sandbox.base_url + "/_sandbox/twilio/inbound", json={"url": target}, headers=admin
    ).json()
    assert result["status"] == 200
    assert "<Connect><Stream" in result["body"]
    rejected = httpx.post(
        sandbox.base_url + "/_sandbox/twilio/inbound",
        json={"url": target, "valid_signature": False},
        headers=admin,
    ).json()
    assert rejected["status"] == 403
    sandbox.advance(settle=True)
    logs = httpx.get(
        sandbox.base_url + "/api/v1/call-logs",
        headers={"Authorization": f"Bearer {sandbox.runtime_key}"},
    ).json()
    assert [(c["direction"], c["status"]) for c in logs["items"]] == [("inbound", "completed")]
    unreachable = httpx.post(
        sandbox.base_url + "/_sandbox/twilio/inbound",
        json={"url": "http://127.0.0.1:9/x"},
        headers=admin,
    )
    assert unreachable.status_code == 422


def test_with_the_real_time_clock_calls_complete_on_their_own(
    sandbox_factory: Callable[..., Sandbox], httpserver: HTTPServer
) -> None:
    completed = threading.Event()

    def handle(request: Request) -> Response:
        if request.headers["StateSet-Event-Type"] == "call.completed":
            completed.set()
        return Response("ok")

    instance = sandbox_factory(auto_advance=True, step_seconds=0.01)
    instance.configure_webhooks(url=listen(httpserver, handle))
    create_call(instance)
    assert completed.wait(timeout=10)  # woken by the delivery, not by polling
    assert [e["type"] for e in instance.events()] == ANSWERED_EVENTS
