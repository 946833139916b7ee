"""The aiohttp application: every contract operation behind one request pipeline.

For a contract operation the pipeline is, in order::

    x-request-id -> rate limit (429) -> injected fault "before" -> auth (401 / Twilio 403)
      -> contract validation (400 / 422) -> Idempotency-Key (replay / 409)
      -> injected fault "during" -> the operation -> injected fault "after" -> response

Every response carries ``x-request-id`` (``req_...``); every response outside ``/_sandbox``
carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ..webhooks import compute_twilio_signature
from ._admin import HANDLERS as ADMIN_HANDLERS
from ._context import Ctx, Handler
from ._control import add_control_routes
from ._core import SandboxCore
from ._faults import FaultError
from ._http import api_error, fault_reply, send_broken, to_response
from ._idempotency import Reply, fingerprint
from ._keys import CORE, HEADERS, NOTES, REQUEST_ID
from ._public import HANDLERS as PUBLIC_HANDLERS
from ._public import TWIML_REJECT
from ._spec import Operation
from ._validation import ContractRequest, validate_request

logger = logging.getLogger("stateset_voice_wrapper.sandbox")

HANDLERS: dict[str, Handler] = {**PUBLIC_HANDLERS, **ADMIN_HANDLERS}
CONTROL_PREFIX = "/_sandbox"


def _credential(request: web.Request) -> str:
    """The rate-limit bucket of a request: its credential, else its peer address."""
    auth = request.headers.get("Authorization")
    if auth:
        return "bearer:" + auth
    admin = request.headers.get("x-admin-key")
    if admin:
        return "admin:" + admin
    return "peer:" + (request.remote or "?")


@web.middleware
async def envelope(request: web.Request, handler: Any) -> web.StreamResponse:
    """Request id, rate limit, error bodies for unknown routes, and the request log."""
    core = request.app[CORE]
    started = time.monotonic()
    request_id = core.new_request_id()
    request[REQUEST_ID] = request_id
    headers: dict[str, str] = {"x-request-id": request_id}
    request[HEADERS] = headers
    notes: dict[str, Any] = {}
    request[NOTES] = notes
    control = request.path.startswith(CONTROL_PREFIX)
    response: web.StreamResponse
    if not control:
        decision = core.limiter.take(_credential(request))
        headers.update(decision.headers())
        if not decision.allowed:
            retry = decision.retry_after
            message = f"Rate limit exceeded; retry after {retry} seconds."
            reply = api_error(429, message, request_id, code="rate_limited", retry_after=retry)
            response = to_response(reply, {**headers, "Retry-After": str(retry)})
            _log(core, request, notes, response.status, started, control)
            return response
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        message = {404: "No such endpoint.", 405: "Method not allowed here."}.get(
            exc.status, exc.reason
        )
        response = to_response(api_error(exc.status, message, request_id), headers)
    except Exception:
        logger.exception("sandbox: unhandled error in %s %s", request.method, request.path)
        response = to_response(api_error(500, "Internal sandbox error.", request_id), headers)
    if not response.prepared:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
    _log(core, request, notes, response.status, started, control)
    return response


def _log(
    core: SandboxCore,
    request: web.Request,
    notes: dict[str, Any],
    status: int,
    started: float,
    control: bool,
) -> None:
    fault = notes.get("fault")
    broken = fault is not None and fault.split("@")[0] in ("drop", "reset")
    record = {
        "request_id": request[REQUEST_ID],
        "client_request_id": request.headers.get("X-Request-Id"),
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "operation_id": notes.get("operation_id"),
        "status": None if fault is not None and fault.startswith("drop") else status,
        "idempotency_key": request.headers.get("Idempotency-Key"),
        "replayed": notes.get("replayed", False),
        "fault": fault,
        "latency_ms": notes.get("latency_ms"),
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    if not control:
        core.request_log.append(record)
    if notes.get("operation_id"):
        core.store.responses["total"] += 1
        if status >= 500 or broken:
            core.store.responses["server_errors"] += 1
    logger.info(
        "%s %s -> %s %s client_request_id=%s idempotency_key=%s%s%s",
        request.method,
        request.path,
        record["status"] if record["status"] is not None else "dropped",
        record["request_id"],
        record["client_request_id"],
        record["idempotency_key"],
        " replayed" if record["replayed"] else "",
        f" fault={fault}" if fault else "",
    )


def _authenticate(
    core: SandboxCore, op: Operation, request: web.Request, body: bytes
) -> tuple[str | None, str] | Reply:
    """Return (tenant id, idempotency scope), or the reply refusing the request."""
    request_id = request[REQUEST_ID]
    if not op.security:
        return None, "anonymous"
    if "twilioSignature" in op.security:
        given = request.headers.get("X-Twilio-Signature", "")
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        expected = compute_twilio_signature(
            auth_token=core.twilio_auth_token, url=str(request.url), params=pairs
        )
        if given and hmac.compare_digest(given, expected):
            core.store.inbound_signatures["valid"] += 1
            return None, "twilio"
        core.store.inbound_signatures["invalid"] += 1
        return Reply(status=403, body=TWIML_REJECT.encode(), content_type="text/xml")
    if "bearerAuth" in op.security:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), core.runtime_key):
            return core.tenant_id, "runtime:" + core.tenant_id
        message = "Missing or invalid credential: send Authorization: Bearer <runtime key>."
        return api_error(401, message, request_id, code="unauthorized")
    if hmac.compare_digest(request.headers.get("x-admin-key", ""), core.admin_key):
        return None, "admin"
    message = "Missing or invalid credential: send the x-admin-key header."
    return api_error(401, message, request_id, code="unauthorized")


def _parse_body(request: web.Request, body: bytes) -> Any:
    if not body:
        return None
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        return json.loads(body)
    except ValueError:
        return None  # a body the operation does not take; validation let it through


async def _fault(
    request: web.Request,
    error: FaultError,
    headers: dict[str, str],
    reply: Reply | None,
    op: Operation,
) -> web.StreamResponse:
    if error.kind in ("drop", "reset"):
        return await send_broken(
            request, error, headers=headers, reply=reply, success_status=op.success_status
        )
    fault, extra = fault_reply(error, request[REQUEST_ID])
    return to_response(fault, {**headers, **extra})


async def _pause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


async def dispatch(request: web.Request, op: Operation) -> web.StreamResponse:
    core = request.app[CORE]
    request_id = request[REQUEST_ID]
    headers = request[HEADERS]
    notes = request[NOTES]
    notes["operation_id"] = op.operation_id
    body = await request.read()
    plan = core.faults.decide(op.method, request.path)
    error = plan.error
    if error is not None:
        notes["fault"] = f"{error.kind}@{error.phase}"
    if plan.latency_ms:
        notes["latency_ms"] = dict(plan.latency_ms)
    await _pause(plan.delay("before"))
    if error is not None and error.phase == "before":
        return await _fault(request, error, headers, None, op)

    auth = _authenticate(core, op, request, body)
    if isinstance(auth, Reply):
        return to_response(auth, headers)
    tenant_id, scope = auth

    problem = validate_request(
        core.contracts.validators[op.api],
        ContractRequest(
            host_url=core.contracts.server_urls[op.api],
            method=op.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            body=body or None,
            content_type=request.headers.get("Content-Type", ""),
        ),
    )
    if problem is not None:
        # A schema problem is a 422 where the operation documents one (bodies); list queries
        # document only 400, so there a bad parameter is a 400 with the same details.
        status = problem.status if problem.status in op.statuses else 400
        code = problem.code if status == problem.status else "invalid_request"
        reply = api_error(status, problem.message, request_id, code=code, details=problem.details)
        return to_response(reply, headers)

    key = request.headers.get("Idempotency-Key") if op.idempotency_key else None
    request_fingerprint = fingerprint(op.method, request.path, body)
    reply_headers = dict(headers)
    result: Reply | None = None
    reserved = False
    if key is not None:
        begin = core.idempotency.begin(scope, key, request_fingerprint)
        if begin.outcome == "conflict":
            message = "Idempotency-Key was already used with a different request."
            conflict = api_error(409, message, request_id, code="idempotency_conflict")
            return to_response(conflict, headers)
        if begin.outcome == "in_progress":
            message = "A request with this Idempotency-Key is still being processed."
            busy = api_error(409, message, request_id, code="idempotency_in_progress")
            return to_response(busy, headers)
        if begin.outcome == "replay":
            notes["replayed"] = True
            reply_headers["Idempotent-Replayed"] = "true"
            result = begin.reply
        reserved = begin.outcome == "new"

    try:
        await _pause(plan.delay("during"))
        if error is not None and error.phase == "during":
            return await _fault(request, error, headers, None, op)
        if result is None:
            ctx = Ctx(
                store=core.store,
                op=op,
                request_id=request_id,
                tenant_id=tenant_id,
                path_params=request.match_info,
                query=request.query,
                body=_parse_body(request, body),
                idempotency_key=key,
                host=request.host,
                count_creation=lambda: core.idempotency.count_creation(op.operation_id, key),
            )
            result = HANDLERS[op.operation_id](ctx)
    finally:
        if reserved:
            assert key is not None
            # Record the answer for replays, or release the key when there is none.
            core.idempotency.finish(scope, key, result)

    assert result is not None
    await _pause(plan.delay("after"))
    if error is not None and error.phase == "after":
        return await _fault(request, error, reply_headers, result, op)
    return to_response(result, reply_headers)


def _operation_route(op: Operation) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await dispatch(request, op)

    handle.__name__ = op.operation_id
    return handle


def _docs_route(data: bytes) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(body=data, content_type="application/json")

    return handle


def build_app(core: SandboxCore) -> web.Application:
    """The application serving both contracts, their documents and the control endpoints."""
    missing = [
        op.operation_id for op in core.contracts.operations if op.operation_id not in HANDLERS
    ]
    if missing:
        raise RuntimeError(f"sandbox has no handler for: {', '.join(missing)}")
    app = web.Application(middlewares=[envelope], client_max_size=4 * 1024 * 1024)
    app[CORE] = core
    for op in core.contracts.operations:
        app.router.add_route(op.method, op.path, _operation_route(op), name=op.operation_id)
    for path, api in core.contracts.docs_paths.items():
        app.router.add_get(path, _docs_route(core.contracts.raw[api]), allow_head=False)
    add_control_routes(app)
    return app
