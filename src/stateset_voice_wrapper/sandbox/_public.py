"""Handlers of the public (tenant runtime) contract's operations."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr

from ._context import Ctx, Handler
from ._http import json_reply
from ._idempotency import Reply
from ._util import JSON, isoformat, parse_timestamp

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
TWIML_REJECT = _XML_HEAD + '<Response><Reject reason="rejected"/></Response>'
"""Refuses a call: the 403 to an unsigned post, and the 200 to a signed post it cannot use."""
TWIML_BUSY = _XML_HEAD + '<Response><Reject reason="busy"/></Response>'
"""The 200 to a signed post over the rate limit: the caller hears a busy signal."""


def _tenant(ctx: Ctx) -> str:
    assert ctx.tenant_id is not None, "public operations run with a tenant credential"
    return ctx.tenant_id


def make_call(ctx: Ctx) -> Reply:
    call = ctx.store.create_outbound_call(
        _tenant(ctx),
        ctx.body,
        idempotency_key=ctx.idempotency_key,
    )
    ctx.count_creation()
    return json_reply(201, ctx.store.call_json(call))


def _twiml(body: str) -> Reply:
    return Reply(status=200, body=(_XML_HEAD + body).encode(), content_type="text/xml")


def handle_incoming_call(ctx: Ctx) -> Reply:
    params: dict[str, str] = ctx.body
    store = ctx.store
    call = store.find_call_by_twilio_sid(params["CallSid"])
    if call is None:
        route = next(
            (r for r in store.routes.values() if r.phone_number == params["To"] and r.enabled),
            None,
        )
        if route is None:
            return _twiml("<Response><Say>This number is not in service.</Say><Hangup/></Response>")
        call = store.create_inbound_call(route.tenant_id, route.agent_key, params)
        ctx.count_creation()
    stream = quoteattr(f"ws://{ctx.host}/api/v1/media-stream")
    token = quoteattr("st_" + call.call_id.removeprefix("call_"))
    return _twiml(
        f"<Response><Connect><Stream url={stream}>"
        f'<Parameter name="stream_token" value={token}/>'
        f'<Parameter name="call_id" value={quoteattr(call.call_id)}/>'
        "</Stream></Connect></Response>"
    )


def list_call_logs(ctx: Ctx) -> Reply:
    tenant = _tenant(ctx)
    wall = ctx.store.wall()
    after = ctx.query.get("created_after")
    before = ctx.query.get("created_before")
    # Compared in whole milliseconds, the precision the timestamps are shown with.
    after_ms = None if after is None else round(parse_timestamp(after) * 1000)
    before_ms = None if before is None else round(parse_timestamp(before) * 1000)
    items: list[JSON] = []
    for call in sorted(ctx.store.calls.values(), key=lambda c: c.seq, reverse=True):
        if call.tenant_id != tenant:
            continue
        if any(
            ctx.query.get(name) not in (None, value)
            for name, value in (
                ("status", call.status),
                ("direction", call.direction),
                ("agent_key", call.agent_key),
            )
        ):
            continue
        created_ms = round(parse_timestamp(isoformat(wall + call.created_at)) * 1000)
        if after_ms is not None and not created_ms > after_ms:
            continue
        if before_ms is not None and not created_ms < before_ms:
            continue
        items.append(call.to_log_json(wall))
    return ctx.page(items)


def get_call_log(ctx: Ctx) -> Reply:
    call = ctx.store.calls.get(ctx.path_params["call_id"])
    if call is None or call.tenant_id != _tenant(ctx):
        return ctx.not_found("call")
    return json_reply(200, call.to_log_json(ctx.store.wall()))


def list_voice_sessions(ctx: Ctx) -> Reply:
    tenant = _tenant(ctx)
    tag = ctx.query.get("tag")
    items: list[JSON] = []
    for session in sorted(ctx.store.sessions.values(), key=lambda s: s.seq, reverse=True):
        if session.tenant_id != tenant or (tag is not None and tag not in session.tags):
            continue
        if any(
            ctx.query.get(name) not in (None, value)
            for name, value in (
                ("status", session.status),
                ("call_id", session.call_id),
                ("agent_key", session.agent_key),
            )
        ):
            continue
        items.append(session.to_json(ctx.store.wall()))
    return ctx.page(items)


def get_voice_session(ctx: Ctx) -> Reply:
    session = ctx.store.sessions.get(ctx.path_params["session_id"])
    if session is None or session.tenant_id != _tenant(ctx):
        return ctx.not_found("voice session")
    return json_reply(200, session.to_json(ctx.store.wall()))


def list_evaluations(ctx: Ctx) -> Reply:
    tenant = _tenant(ctx)
    passed = ctx.query_bool("passed")
    items: list[JSON] = []
    for ev in sorted(ctx.store.evaluations.values(), key=lambda e: e.seq, reverse=True):
        if ev.tenant_id != tenant or (passed is not None and ev.passed != passed):
            continue
        if any(
            ctx.query.get(name) not in (None, value)
            for name, value in (("session_id", ev.session_id), ("call_id", ev.call_id))
        ):
            continue
        items.append(ev.to_json(ctx.store.wall()))
    return ctx.page(items)


def get_evaluation(ctx: Ctx) -> Reply:
    ev = ctx.store.evaluations.get(ctx.path_params["evaluation_id"])
    if ev is None or ev.tenant_id != _tenant(ctx):
        return ctx.not_found("evaluation")
    return json_reply(200, ev.to_json(ctx.store.wall()))


def create_access_request(ctx: Ctx) -> Reply:
    record: dict[str, Any] = {
        "access_request_id": ctx.store.ids.new("ar"),
        "status": "received",
        "created_at": isoformat(ctx.store.clock.wall_now()),
    }
    ctx.store.access_requests.add(record, ctx.body)
    ctx.count_creation()
    return json_reply(201, record)


def get_readiness(ctx: Ctx) -> Reply:
    tenant_id = _tenant(ctx)
    store = ctx.store
    tenant = store.tenants[tenant_id]
    routed = any(r.tenant_id == tenant_id and r.enabled for r in store.routes.values())
    webhook = store.webhook_url_for(tenant_id)
    checks = [
        {"name": "credential", "status": "pass", "detail": None},
        {
            "name": "tenant",
            "status": "pass" if tenant.status == "active" else "fail",
            "detail": None if tenant.status == "active" else "The tenant is suspended.",
        },
        {"name": "runtime_config", "status": "pass", "detail": None},
        {
            "name": "telephony",
            "status": "pass" if routed else "warn",
            "detail": None if routed else "No enabled inbound phone route.",
        },
        {
            "name": "webhooks",
            "status": "pass" if webhook else "warn",
            "detail": None if webhook else "No webhook_url in the runtime configuration.",
        },
    ]
    failed = any(c["status"] == "fail" for c in checks)
    body = {"status": "not_ready" if failed else "ready", "tenant_id": tenant_id, "checks": checks}
    return json_reply(200, body)


HANDLERS: dict[str, Handler] = {
    "make_call": make_call,
    "handle_incoming_call": handle_incoming_call,
    "list_voice_sessions": list_voice_sessions,
    "get_voice_session": get_voice_session,
    "list_call_logs": list_call_logs,
    "get_call_log": get_call_log,
    "list_evaluations": list_evaluations,
    "get_evaluation": get_evaluation,
    "create_access_request": create_access_request,
    "get_readiness": get_readiness,
}
