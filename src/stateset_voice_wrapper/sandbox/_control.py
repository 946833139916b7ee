"""``/_sandbox/*``: steer a running sandbox over HTTP (every endpoint needs ``x-admin-key``).

``GET  /_sandbox/info``                  base URL, seed, keys, clock, rate limit
``GET  /_sandbox/faults``                active fault rules and how often each kind fired
``POST /_sandbox/faults``                ``{"rules": [...], "append": false}`` (or a bare list)
``DELETE /_sandbox/faults``              remove every rule
``POST /_sandbox/advance``               ``{"steps": n}`` | ``{"seconds": s}`` | ``{"settle": true}``
``GET  /_sandbox/idempotency``           creations per key (``?operation=make_call``; all ops
                                         without it)
``GET  /_sandbox/requests``              the request log (``?limit=``), newest last
``GET  /_sandbox/events``                every event emitted, in order
``GET  /_sandbox/webhooks``              delivery settings and every delivery attempt
``POST /_sandbox/webhooks``              change ``url``, ``max_attempts``, ``backoff_seconds``,
                                         ``timeout_seconds``, ``duplicate_probability``
``POST /_sandbox/webhooks/flush``        wait until queued deliveries are done (``{"timeout"}``)
``POST /_sandbox/twilio/inbound``        ``{"url", "params"?, "valid_signature"?}``: POST a
                                         Twilio-signed inbound call to ``url``
``POST /_sandbox/rate-limit``            ``{"limit": n, "refill_per_second": r}``
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from ._core import SandboxCore
from ._http import api_error, json_reply, to_response
from ._keys import CORE, HEADERS, REQUEST_ID

ControlHandler = Callable[[SandboxCore, web.Request, Any], Awaitable[Any]]


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def _info(core: SandboxCore, request: web.Request, body: Any) -> Any:
    return core.info(_base_url(request))


async def _get_faults(core: SandboxCore, request: web.Request, body: Any) -> Any:
    return core.faults.describe()


async def _set_faults(core: SandboxCore, request: web.Request, body: Any) -> Any:
    if isinstance(body, list):
        return core.set_faults(body)
    if not isinstance(body, dict) or not isinstance(body.get("rules", []), list):
        raise ValueError('expected {"rules": [...], "append": false} or a list of rules')
    return core.set_faults(body.get("rules", []), append=bool(body.get("append", False)))


async def _clear_faults(core: SandboxCore, request: web.Request, body: Any) -> Any:
    return core.set_faults([])


async def _advance(core: SandboxCore, request: web.Request, body: Any) -> Any:
    body = body or {}
    if not isinstance(body, dict):
        raise ValueError('expected {"steps": n}, {"seconds": s} or {"settle": true}')
    steps = body.get("steps")
    seconds = body.get("seconds")
    return core.advance(
        steps=None if steps is None else float(steps),
        seconds=None if seconds is None else float(seconds),
        settle=bool(body.get("settle", False)),
    )


async def _idempotency(core: SandboxCore, request: web.Request, body: Any) -> Any:
    operation = request.query.get("operation")
    if operation is None:
        return {"creations_per_key": core.idempotency.all_creations()}
    return {
        "operation": operation,
        "creations_per_key": core.idempotency.creations_per_key(operation),
    }


async def _requests(core: SandboxCore, request: web.Request, body: Any) -> Any:
    records = list(core.request_log)
    limit = int(request.query.get("limit", len(records)))
    return {"items": records[-limit:] if limit else []}


async def _events(core: SandboxCore, request: web.Request, body: Any) -> Any:
    return {"items": core.events}


async def _webhooks(core: SandboxCore, request: web.Request, body: Any) -> Any:
    return core.webhook_state()


async def _configure_webhooks(core: SandboxCore, request: web.Request, body: Any) -> Any:
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object of webhook settings")
    return core.configure_webhooks(body)


async def _flush(core: SandboxCore, request: web.Request, body: Any) -> Any:
    timeout = float((body or {}).get("timeout", 10.0))
    return {"drained": await core.webhooks.flush(timeout), "pending": core.webhooks.pending}


async def _twilio_inbound(core: SandboxCore, request: web.Request, body: Any) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
        raise ValueError('expected {"url": "...", "params": {...}, "valid_signature": true}')
    params = core.twilio_params(body.get("params") or {})
    try:
        return await core.webhooks.post_twilio_inbound(
            body["url"],
            auth_token=core.twilio_auth_token,
            params=params,
            valid_signature=bool(body.get("valid_signature", True)),
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ValueError(f"could not POST to {body['url']}: {type(exc).__name__}: {exc}") from exc


async def _rate_limit(core: SandboxCore, request: web.Request, body: Any) -> Any:
    if not isinstance(body, dict) or "limit" not in body:
        raise ValueError('expected {"limit": n, "refill_per_second": r}')
    refill = float(body.get("refill_per_second", core.limiter.refill_per_second))
    return core.set_rate_limit(limit=int(body["limit"]), refill_per_second=refill)


def _endpoint(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        core = request.app[CORE]
        request_id = request[REQUEST_ID]
        headers = request[HEADERS]
        given = request.headers.get("x-admin-key", "")
        if not hmac.compare_digest(given, core.admin_key):
            message = "Control endpoints need the sandbox admin key in x-admin-key."
            return to_response(api_error(401, message, request_id), headers)
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
            result = await handler(core, request, body)
        except (ValueError, TypeError) as exc:
            detail = {"field": "body", "message": str(exc), "code": "invalid"}
            reply = api_error(422, str(exc), request_id, code="invalid_control", details=[detail])
            return to_response(reply, headers)
        return to_response(json_reply(200, result), headers)

    return handle


def add_control_routes(app: web.Application) -> None:
    routes: list[tuple[str, str, ControlHandler]] = [
        ("GET", "/info", _info),
        ("GET", "/faults", _get_faults),
        ("POST", "/faults", _set_faults),
        ("DELETE", "/faults", _clear_faults),
        ("POST", "/advance", _advance),
        ("GET", "/idempotency", _idempotency),
        ("GET", "/requests", _requests),
        ("GET", "/events", _events),
        ("GET", "/webhooks", _webhooks),
        ("POST", "/webhooks", _configure_webhooks),
        ("POST", "/webhooks/flush", _flush),
        ("POST", "/twilio/inbound", _twilio_inbound),
        ("POST", "/rate-limit", _rate_limit),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, "/_sandbox" + path, _endpoint(handler))
