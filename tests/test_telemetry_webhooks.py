"""The webhook side's metrics, the ledger's replay counter, STATESET_VOICE_LOG, and what stays
out of OpenTelemetry's way: nothing imported when off, no traceparent in signed material."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import stateset_voice_facts as facts
from pytest_httpserver import HTTPServer

from stateset_voice_wrapper import SqliteLedger, VoiceClient
from stateset_voice_wrapper.stores import SqliteDedupStore
from stateset_voice_wrapper.webhooks import (
    ExactlyOnceConsumer,
    InvalidSignatureError,
    compute_twilio_signature,
    construct_event,
    record_call_outcome,
    stateset_signature_header,
    verify_twilio_signature,
)
from stateset_voice_wrapper.webhooks._telemetry import NOT_FINAL_CALL_STATUSES

if TYPE_CHECKING:
    from tests.test_telemetry import CALL, KEY, Exported, exported, flaky_make_call, quiet
else:  # tests/ is on sys.path under pytest (rootdir-relative imports, as for faultserver)
    from test_telemetry import CALL, KEY, Exported, exported, flaky_make_call, quiet

__all__ = ["exported"]  # the fixture, shared

SECRET = "whsec_telemetry_test"
T0 = 1_800_000_000


def event(event_id: str, kind: str, status: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "call_id": "call_1",
        "status": status,
        "direction": "outbound",
        "agent_key": "front_desk",
    }
    if kind.startswith("session."):
        data = {"session_id": "vs_1", "call_id": "call_1", "agent_key": "a", "status": status}
    return {
        "id": event_id,
        "type": kind,
        "api_version": "2026-11-01",
        "occurred_at": "2026-11-20T15:05:45Z",
        "tenant_id": "ten_1",
        "data": data,
    }


def counts(exported: Exported, name: str, *keys: str) -> dict[tuple[Any, ...], int]:
    return {
        tuple(p.attributes.get(k) for k in keys): p.value for p in exported.points().get(name, [])
    }


def test_the_not_final_statuses_are_the_contracts() -> None:
    assert set(facts.SCHEMAS["public"]["CallStatus"]["enum"]) >= NOT_FINAL_CALL_STATUSES


def test_verification_verdicts_are_counted_by_source(exported: Exported) -> None:
    body = json.dumps(event("evt_1", "call.completed", "completed")).encode()
    header = stateset_signature_header(body, secrets=[SECRET], timestamp=T0)
    construct_event(
        payload=body, headers={"StateSet-Signature": header}, secrets=[SECRET], now=lambda: T0
    )
    with pytest.raises(InvalidSignatureError):
        construct_event(payload=body, headers={}, secrets=[SECRET], now=lambda: T0)
    url, params = "https://hooks.example.com/twilio", {"CallSid": "CA1", "From": "+15555551234"}
    signature = compute_twilio_signature(auth_token="token_x", url=url, params=params)
    verify_twilio_signature(auth_token="token_x", url=url, params=params, signature=signature)
    with pytest.raises(InvalidSignatureError):
        verify_twilio_signature(auth_token="token_x", url=url, params={}, signature=signature)
    found = counts(
        exported,
        "stateset_voice.webhook.verifications",
        "stateset_voice.webhook.source",
        "stateset_voice.webhook.verdict",
    )
    assert found == {
        ("stateset", "valid"): 1,
        ("stateset", "missing_signature"): 1,
        ("twilio", "valid"): 1,
        ("twilio", "signature_mismatch"): 1,
    }


def test_the_consumer_counts_deliveries_duplicates_and_final_statuses(
    exported: Exported, tmp_path: Path
) -> None:
    consumer = ExactlyOnceConsumer(SqliteDedupStore(str(tmp_path / "dedup.db")))
    handled: list[str] = []
    deliveries = [
        event("evt_1", "call.completed", "completed"),
        event("evt_1", "call.completed", "completed"),  # redelivered: a duplicate
        event("evt_2", "call.failed", "no-answer"),
        event("evt_3", "call.answered", "in-progress"),  # not final: no outcome
        event("evt_4", "session.escalated", "escalated"),
    ]
    for delivery in deliveries:
        consumer.process(delivery, lambda e: handled.append(e["id"]))

    def boom(_: Any) -> None:
        raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        consumer.process(event("evt_5", "call.failed", "busy"), boom)
    assert handled == ["evt_1", "evt_2", "evt_3", "evt_4"]
    found = counts(
        exported,
        "stateset_voice.webhook.deliveries",
        "stateset_voice.webhook.delivery.status",
        "stateset_voice.webhook.event.type",
    )
    assert found == {
        ("handled", "call.completed"): 1,
        ("duplicate", "call.completed"): 1,
        ("handled", "call.failed"): 1,
        ("handled", "call.answered"): 1,
        ("handled", "session.escalated"): 1,
        ("failed", "call.failed"): 1,
    }
    record_call_outcome("busy")  # learned another way
    record_call_outcome("ringing")  # not final: ignored
    record_call_outcome("voicemail")  # not in the contract: _OTHER
    outcomes = counts(exported, "stateset_voice.call.outcomes", "stateset_voice.call.status")
    assert outcomes == {("completed",): 1, ("no-answer",): 1, ("busy",): 1, ("_OTHER",): 1}


def test_a_ledger_replay_is_counted(
    exported: Exported, httpserver: HTTPServer, tmp_path: Path
) -> None:
    flaky_make_call(httpserver, failures=0)
    with (
        SqliteLedger(str(tmp_path / "ledger.db")) as ledger,
        VoiceClient(
            KEY, base_url=httpserver.url_for(""), ledger=ledger, reliability=quiet()
        ) as voice,
    ):
        for _ in range(2):
            call = voice.calls.create(
                to=CALL["to"], from_=CALL["from"], agent_key="front_desk", idempotency_key="k-1"
            )
            assert call.call_id == CALL["call_id"]
    assert len(httpserver.log) == 1
    assert counts(exported, "stateset_voice.ledger.replays") == {(): 1}


def test_the_inbound_relay_signature_still_verifies_with_traceparent_added(
    exported: Exported, httpserver: HTTPServer
) -> None:
    """traceparent is a header: neither Twilio's signature (URL + form) nor StateSet's
    (timestamp + body) covers headers, so adding it cannot break a signed request."""
    url = httpserver.url_for("/api/v1/incoming-call")
    params = {
        "CallSid": "CA1",
        "AccountSid": "AC1",
        "From": "+15555551234",
        "To": "+15555550101",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    signature = compute_twilio_signature(auth_token="token_x", url=url, params=params)
    httpserver.expect_request("/api/v1/incoming-call").respond_with_data(
        "<Response/>", content_type="text/xml"
    )
    with VoiceClient(KEY, base_url=httpserver.url_for(""), reliability=quiet()) as voice:
        voice.inbound.handle(params, signature=signature)
    received = httpserver.log[0][0]
    assert "traceparent" in received.headers
    verify_twilio_signature(
        auth_token="token_x",
        url=url,
        params=dict(received.form),
        signature=received.headers["X-Twilio-Signature"],
    )


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("STATESET_VOICE_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**environment, **env},
    )


REQUEST_THEN_MODULES = """
import json, sys, httpx
from stateset_voice_wrapper import ReliableTransport, ReliabilityConfig
def answer(request):
    return httpx.Response(503 if request.headers["X-Request-Attempt"] == "1" else 200, json={})
transport = ReliableTransport(config=ReliabilityConfig(sleep=lambda s: None),
                              transport=httpx.MockTransport(answer))
httpx.Client(transport=transport).get("https://voice.example/api/v1/readiness")
print(json.dumps(sorted(m for m in sys.modules if m.startswith("opentelemetry"))))
"""


def test_nothing_of_opentelemetry_is_imported_while_telemetry_is_off() -> None:
    done = _run(REQUEST_THEN_MODULES)
    assert json.loads(done.stdout) == []
    on = _run(REQUEST_THEN_MODULES, STATESET_VOICE_TELEMETRY="1")
    assert "opentelemetry.trace" in json.loads(on.stdout)


def test_stateset_voice_log_prints_the_logger_to_stderr() -> None:
    quiet_run = _run(REQUEST_THEN_MODULES)
    assert quiet_run.stderr == ""
    loud = _run(REQUEST_THEN_MODULES, STATESET_VOICE_LOG="debug")
    assert "WARNING" in loud.stderr
    assert "attempt 1 got 503; retrying" in loud.stderr
    assert "DEBUG" in loud.stderr
    assert "-> 200" in loud.stderr
    warning_only = _run(REQUEST_THEN_MODULES, STATESET_VOICE_LOG="warning")
    assert "retrying" in warning_only.stderr
    assert "DEBUG" not in warning_only.stderr
