"""Signed StateSet deliveries for the launch check's tests: one event shape, one secret."""

from __future__ import annotations

import json

from stateset_voice_wrapper.launch import Delivery
from stateset_voice_wrapper.webhooks import stateset_signature_header

SECRET = "whsec_parts"
NOW = 1_800_000_000


def signed(event: dict[str, object], *, at: int = NOW, secret: str = SECRET) -> Delivery:
    """``event`` as a delivery signed with ``secret`` at ``at``, received a second later."""
    body = json.dumps(event).encode()
    header = stateset_signature_header(body, secrets=[secret], timestamp=at)
    return Delivery(body=body, headers={"StateSet-Signature": header}, received_at=at + 1)


def event(n: int, call_id: str = "call_1", kind: str = "call.completed") -> dict[str, object]:
    """The ``n``-th event of a call, of type ``kind``."""
    return {
        "id": f"evt_{n}",
        "type": kind,
        "api_version": "2026-11-01",
        "occurred_at": "2026-11-20T15:05:45Z",
        "tenant_id": "ten_1",
        "call_id": call_id,
        "data": {
            "call_id": call_id,
            "status": "completed",
            "direction": "outbound",
            "agent_key": "a",
        },
    }
