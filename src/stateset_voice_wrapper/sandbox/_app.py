"""The aiohttp application: every contract operation behind one request pipeline.

For a contract operation the pipeline is, in order::

    x-request-id -> who is calling (key, Twilio signature, else the peer address)
      -> rate limit of that caller (429) -> injected fault "before"
      -> auth refusal (401 / Twilio 403) -> contract validation (400 / 422)
      -> Idempotency-Key (replay / 409) -> injected fault "during" -> the operation
      -> injected fault "after" -> response

The rate-limit bucket is chosen by what the request proved, not by what it claims: a valid
runtime key is its tenant's bucket, a valid admin key the admin bucket, a valid Twilio
signature the Twilio bucket, and everything else (no key, a wrong key, docs, unknown paths)
the bucket of its peer address. Bodies are read within a size and a time bound (413, 408).

``POST /api/v1/incoming-call`` answers Twilio, which turns any non-2xx answer into "an
application error has occurred" for the caller. So a correctly signed post always gets TwiML
with 200: one it cannot use (a missing ``CallSid``) is rejected, one over the rate limit hears
a busy signal. The contract's 403 stays the answer to a post without a valid signature.

Every response carries ``x-request-id`` (``req_...``); every response outside ``/_sandbox``
carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ..webhooks import compute_twilio_signature
from ._admin import HANDLERS as ADMIN_HANDLERS
from ._bodies import BodyError, JsonError, parse_json, read_body, refuse_body
from ._context import Ctx, Handler
from ._control import add_control_routes
from ._core import SandboxCore
from ._faults import FaultError
from ._http import api_error, fault_reply, send_broken, to_response
from ._idempotency import ANONYMOUS_SCOPE, Reply, fingerprint
from ._keys import CORE, HEADERS, NOTES, OPERATIONS, REQUEST_ID
from ._public import HANDLERS as PUBLIC_HANDLERS
from ._public import TWIML_BUSY, TWIML_REJECT
from ._requestlog import logger, record_request, safe_target
from ._spec import Operation
from ._util import same_secret
from ._validation import ContractRequest, RequestProblem, validate_request

HANDLERS: dict[str, Handler] = {**PUBLIC_HANDLERS, **ADMIN_HANDLERS}
CONTROL_PREFIX = "/_sandbox"
_JSON_TYPES = ("application/json",)


def _peer(request: web.Request) -> str:
    return "peer:" + (request.remote or "?")


def _take_token(request: web.Request, caller: str) -> bool:
    """Charge ``caller``'s bucket; add the rate-limit headers; return whether it is allowed."""
    decision = request.app[CORE].limiter.take(caller)
    request[HEADERS].update(decision.headers())
    if not decision.allowed:
        request[NOTES]["retry_after"] = decision.retry_after
    return decision.allowed


def _rate_limited(request: web.Request) -> web.Response:
    retry = int(request[NOTES]["retry_after"])
    message = f"Rate limit exceeded; retry after {retry} seconds."
    reply = api_error(429, message, request[REQUEST_ID], code="rate_limited", retry_after=retry)
    headers: dict[str, str] = request[HEADERS]
    return to_response(reply, {**headers, "Retry-After": str(retry)})


@web.middleware
async def envelope(request: web.Request, handler: Any) -> web.StreamResponse:
    """Request id, rate limit outside operations, error bodies, and the request log."""
    core = request.app[CORE]
    started = time.monotonic()
    request_id = core.new_request_id()
    request[REQUEST_ID] = request_id
    headers: dict[str, str] = {"x-request-id": request_id}
    request[HEADERS] = headers
    notes: dict[str, Any] = {}
    request[NOTES] = notes
    control = request.path.startswith(CONTROL_PREFIX)
    is_operation = request.match_info.route.name in request.app[OPERATIONS]
    response: web.StreamResponse
    if not control and not is_operation and not _take_token(request, _peer(request)):
        # Docs, unknown paths and methods: nobody to authenticate, so the peer's bucket.
        response = _rate_limited(request)
        record_request(core, request, notes, response.status, started, control)
        return response
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        message = {404: "No such endpoint.", 405: "Method not allowed here."}.get(
            exc.status, exc.reason
        )
        extra = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        response = to_response(api_error(exc.status, message, request_id), {**headers, **extra})
    except Exception:
        target = safe_target(request, core.limits.max_logged_chars)
        logger.exception("sandbox: unhandled error in %s %s", request.method, target)
        response = to_response(api_error(500, "Internal sandbox error.", request_id), headers)
    if not response.prepared:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
    record_request(core, request, notes, response.status, started, control)
    return response


def _header_identity(core: SandboxCore, op: Operation, request: web.Request) -> str | None:
    """The caller a key proves (``tenant:...``, ``admin``), or None."""
    if "bearerAuth" in op.security:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and same_secret(token.strip(), core.runtime_key):
            return "tenant:" + core.tenant_id
        return None
    given = request.headers.get("x-admin-key", "")
    return "admin" if same_secret(given, core.admin_key) else None


def _twilio_signed(core: SandboxCore, request: web.Request, body: bytes) -> bool:
    given = request.headers.get("X-Twilio-Signature", "")
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    expected = compute_twilio_signature(
        auth_token=core.twilio_auth_token, url=str(request.url), params=pairs
    )
    valid = bool(given) and same_secret(given, expected)
    core.store.inbound_signatures["valid" if valid else "invalid"] += 1
    return valid


def _twiml(status: int, twiml: str) -> Reply:
    return Reply(status=status, body=twiml.encode(), content_type="text/xml")


def _unauthorized(op: Operation, request_id: str) -> Reply:
    if "twilioSignature" in op.security:
        return _twiml(403, TWIML_REJECT)
    if "bearerAuth" in op.security:
        message = "Missing or invalid credential: send Authorization: Bearer <runtime key>."
    else:
        message = "Missing or invalid credential: send the x-admin-key header."
    return api_error(401, message, request_id, code="unauthorized")


def _parse_body(request: web.Request, op: Operation, body: bytes) -> tuple[Any, JsonError | None]:
    """The body as the operation reads it: JSON (strictly parsed), form fields, or None."""
    if not body or not op.body_media_types:
        return None, None
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)), None
    if request.content_type in _JSON_TYPES or request.content_type.endswith("+json"):
        try:
            return parse_json(body, max_depth=request.app[CORE].limits.max_json_depth), None
        except JsonError as exc:
            return None, exc
    return None, None  # a media type the operation does not take; validation says so


def _problem_reply(op: Operation, problem: RequestProblem, request_id: str) -> Reply:
    # A schema problem is a 422 where the operation documents one (bodies); list queries
    # document only 400, so there a bad parameter is a 400 with the same details.
    status = problem.status if problem.status in op.statuses else 400
    code = problem.code if status == problem.status else "invalid_request"
    return api_error(status, problem.message, request_id, code=code, details=problem.details)


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


async def _read(request: web.Request, max_bytes: int) -> bytes | web.StreamResponse:
    limits = request.app[CORE].limits
    try:
        return await read_body(request, max_bytes=max_bytes, timeout=limits.body_timeout_seconds)
    except BodyError as exc:
        _take_token(request, _peer(request))  # for the X-RateLimit-* headers
        headers: dict[str, str] = request[HEADERS]
        return await refuse_body(request, exc, request[REQUEST_ID], headers)


async def dispatch(request: web.Request, op: Operation) -> web.StreamResponse:
    core = request.app[CORE]
    limits = core.limits
    request_id = request[REQUEST_ID]
    headers = request[HEADERS]
    notes = request[NOTES]
    notes["operation_id"] = op.operation_id
    twilio = "twilioSignature" in op.security

    # Who is calling decides the bucket and the body bound; nothing is refused yet.
    caller = None if op.anonymous or twilio else _header_identity(core, op, request)
    max_bytes = limits.max_body_bytes if caller else limits.max_anonymous_body_bytes
    body = b""
    if caller or op.anonymous or twilio:  # a refused request's body is never needed
        read = await _read(request, max_bytes)
        if not isinstance(read, bytes):
            return read
        body = read
    if twilio and _twilio_signed(core, request, body):
        caller = "twilio"
    if not _take_token(request, caller or _peer(request)):
        if not twilio:
            return _rate_limited(request)
        notes["refused"] = "rate_limited"
        return to_response(
            _twiml(200 if caller else 403, TWIML_BUSY if caller else TWIML_REJECT), headers
        )

    plan = core.faults.decide(op.method, request.path)
    error = plan.error
    if error is not None:
        notes["fault"] = f"{error.kind}@{error.phase}"
    if plan.latency_ms:
        notes["latency_ms"] = dict(plan.latency_ms)
    await _pause(plan.delay("before"))
    if error is not None and error.phase == "before":
        return await _fault(request, error, headers, None, op)

    if caller is None and not op.anonymous:
        return to_response(_unauthorized(op, request_id), headers)
    tenant_id = core.tenant_id if caller and caller.startswith("tenant:") else None
    scope = {None: ANONYMOUS_SCOPE, "admin": "admin", "twilio": "twilio"}.get(
        caller, "runtime:" + core.tenant_id
    )

    parsed, json_error = _parse_body(request, op, body)
    problem: RequestProblem | None
    if json_error is not None:
        detail = {"field": "body", "message": str(json_error), "code": "invalid_json"}
        problem = RequestProblem(
            400, "invalid_request", "Request body is not valid JSON.", [detail]
        )
    else:
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
            op.query_parameters,
        )
    if problem is not None:
        if twilio:
            # Signed, but not a call Twilio could have sent: end it without an error page.
            notes["refused"] = "invalid_request"
            return to_response(_twiml(200, TWIML_REJECT), headers)
        return to_response(_problem_reply(op, problem, request_id), headers)

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
                body=parsed,
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
    # Bodies are read by _bodies.read_body with per-operation bounds; this is the backstop.
    app = web.Application(middlewares=[envelope], client_max_size=core.limits.max_body_bytes)
    app[CORE] = core
    app[OPERATIONS] = frozenset(op.operation_id for op in core.contracts.operations)
    for op in core.contracts.operations:
        app.router.add_route(op.method, op.path, _operation_route(op), name=op.operation_id)
    for path, api in core.contracts.docs_paths.items():
        app.router.add_get(path, _docs_route(core.contracts.raw[api]), allow_head=False)
    add_control_routes(app)
    return app
