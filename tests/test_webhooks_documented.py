"""The FastAPI and Flask handlers in docs/webhooks.md, run as written.

Each pattern is taken from the page (the first ``python`` block under its heading) and
executed, so the page cannot drift from what is tested. Hostile requests (an oversized body,
a negative Content-Length, a 5,000-digit ``t``) must get the 4xx the page promises, not the
500 of an exception the pattern does not catch.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stateset_voice_wrapper.webhooks import (
    DEFAULT_FORWARD_TO,
    compute_twilio_signature,
    stateset_signature_header,
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"
SECRET = "whsec_documented"
TOKEN = "documented-auth-token"
PUBLIC_URL = "https://hooks.example.com/twilio/inbound"  # the URL the patterns configure
FORM = {"CallSid": "CA1", "From": "+15555551234", "To": "+15555555678"}
EVENT = json.dumps({"id": "evt_1", "type": "session.started", "api_version": "2026-11-01",
                    "occurred_at": "2026-11-20T15:05:45Z", "tenant_id": "ten_1",
                    "data": {"session_id": "vs_1", "call_id": "call_1", "agent_key": "a",
                             "status": "active"}}).encode()  # fmt: skip


def documented_pattern(heading: str) -> str:
    text = DOC.read_text("utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no python block under ## {heading}"
    return match.group(1)


def load(heading: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("STATESET_VOICE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    handled: list[str] = []

    def handle(event: Any, *, key: str) -> None:
        handled.append(key)

    async def ahandle(event: Any, *, key: str) -> None:
        handled.append(key)

    namespace: dict[str, Any] = {
        "__name__": f"documented_{heading.lower()}",
        "handle": ahandle if heading == "FastAPI" else handle,
        "handled": handled,
    }
    exec(compile(documented_pattern(heading), str(DOC), "exec"), namespace)  # noqa: S102  # the page's own code
    return namespace


def signed_delivery(header: str | None = None) -> dict[str, str]:
    if header is None:
        header = stateset_signature_header(EVENT, secrets=[SECRET], timestamp=int(time.time()))
    return {"StateSet-Signature": header, "Content-Type": "application/json"}


def twilio_headers(params: dict[str, str] = FORM) -> dict[str, str]:
    signature = compute_twilio_signature(auth_token=TOKEN, url=PUBLIC_URL, params=params)
    return {"X-Twilio-Signature": signature}


ABSURD_T = f"t={'9' * 5000},v1={'0' * 64}"


# --- Flask ----------------------------------------------------------------------------------


@pytest.fixture
def flask_client(monkeypatch: pytest.MonkeyPatch) -> Any:
    namespace = load("Flask", monkeypatch)
    namespace["app"].testing = False  # answer errors as a deployed app would (500, no raise)
    return namespace["app"].test_client(), namespace["handled"]


def test_flask_pattern_twilio_inbound(flask_client: Any) -> None:
    client, _ = flask_client
    ok = client.post("/twilio/inbound", data=FORM, headers=twilio_headers())
    assert ok.status_code == 307
    assert ok.headers["Location"] == DEFAULT_FORWARD_TO
    tampered = client.post(
        "/twilio/inbound", data={**FORM, "To": "+1999"}, headers=twilio_headers()
    )
    assert tampered.status_code == 401


def test_flask_pattern_oversized_body_is_413(flask_client: Any) -> None:
    client, _ = flask_client
    big = client.post(
        "/twilio/inbound", data={"Body": "x" * (1024 * 1024 + 1)}, headers=twilio_headers()
    )
    assert big.status_code == 413
    assert big.get_data() == b"request body too large"


@pytest.mark.parametrize("length", ["-1", "+5", "1_0", "abc"])
def test_flask_pattern_malformed_content_length_is_400(flask_client: Any, length: str) -> None:
    client, _ = flask_client
    answer = client.post(
        "/twilio/inbound",
        data=FORM,
        headers=twilio_headers(),
        environ_overrides={"CONTENT_LENGTH": length},
    )
    assert answer.status_code == 400


def test_flask_pattern_stateset_webhook(flask_client: Any) -> None:
    client, handled = flask_client
    assert (
        client.post("/stateset/webhooks", data=EVENT, headers=signed_delivery()).status_code == 204
    )
    assert handled == ["id:evt_1"]
    absurd = client.post("/stateset/webhooks", data=EVENT, headers=signed_delivery(ABSURD_T))
    assert absurd.status_code == 401
    not_json = b"not json"
    header = stateset_signature_header(not_json, secrets=[SECRET], timestamp=int(time.time()))
    answer = client.post("/stateset/webhooks", data=not_json, headers=signed_delivery(header))
    assert answer.status_code == 400
    assert handled == ["id:evt_1"]


# --- FastAPI --------------------------------------------------------------------------------


@pytest.fixture
async def fastapi_client(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    namespace = load("FastAPI", monkeypatch)
    transport = httpx.ASGITransport(app=namespace["app"], raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, namespace["handled"]


async def test_fastapi_pattern_twilio_inbound(
    fastapi_client: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, _ = fastapi_client
    ok = await client.post("/twilio/inbound", data=FORM, headers=twilio_headers())
    assert ok.status_code == 307
    assert ok.headers["location"] == DEFAULT_FORWARD_TO
    bad = await client.post("/twilio/inbound", data=FORM, headers={"X-Twilio-Signature": "bm8="})
    assert bad.status_code == 401


async def test_fastapi_pattern_stateset_webhook(
    fastapi_client: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, handled = fastapi_client
    ok = await client.post("/stateset/webhooks", content=EVENT, headers=signed_delivery())
    assert ok.status_code == 204
    assert handled == ["id:evt_1"]
    absurd = await client.post(
        "/stateset/webhooks", content=EVENT, headers=signed_delivery(ABSURD_T)
    )
    assert absurd.status_code == 401
    assert handled == ["id:evt_1"]
