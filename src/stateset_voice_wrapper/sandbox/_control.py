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

Bodies are strict JSON: ``NaN``, ``Infinity`` and numbers beyond a float are refused, and every
number must be finite and in range (``{"steps": "nan"}`` used to stop the clock for good, and
``{"refill_per_second": NaN}`` made every later request fail). A control request that cannot
be carried out is a 422 ``invalid_control`` with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from ._bodies import BodyError, parse_json, read_body, refuse_body
from ._core import SandboxCore
from ._http import api_error, json_reply, to_response
from ._keys import CORE, HEADERS, REQUEST_ID
from ._util import same_secret

_MAX_FLUSH_SECONDS = 3600.0

ControlHandler = Callable[[SandboxCore, web.Request, Any], Awaitable[Any]]


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def _info(core: SandboxCore, request: web.Request, body: Any) -> Any:
    return core.info(_base_url(request))


async def _get_faults(core: SandboxCore, request: web.Request, body: Any) -> Any:
    return core.faults.describe()


def _object(body: Any, expected: str) -> dict[str, Any]:
    """``body`` as a JSON object (no body counts as ``{}``)."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError(f"expected {expected}")
    return body


def _flag(body: Mapping[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be true or false")
    return value


def _rules(rules: Any) -> list[Mapping[str, Any]]:
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise ValueError('expected {"rules": [...], "append": false} or a list of rules')
    return rules


async def _set_faults(core: SandboxCore, request: web.Request, body: Any) -> Any:
    if isinstance(body, list):
        return core.set_faults(_rules(body))
    body = _object(body, '{"rules": [...], "append": false} or a list of rules')
    return core.set_faults(_rules(body.get("rules", [])), append=_flag(body, "append", False))


async def _clear_faults(core: SandboxCore, request: web.Request, body: Any) -> Any:
    return core.set_faults([])


async def _advance(core: SandboxCore, request: web.Request, body: Any) -> Any:
    body = _object(body, '{"steps": n}, {"seconds": s} or {"settle": true}')
    # core.advance refuses anything but finite numbers >= 0 (strings, NaN, infinities).
    return core.advance(
        steps=body.get("steps"), seconds=body.get("seconds"), settle=_flag(body, "settle", False)
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
    raw = request.query.get("limit")
    if raw is None:
        return {"items": records}
    if not raw.isdigit():
        raise ValueError("limit must be a whole number >= 0")
    limit = int(raw)
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
    timeout = _object(body, '{"timeout": seconds}').get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError("timeout must be a number")
    if not math.isfinite(timeout) or not 0 <= timeout <= _MAX_FLUSH_SECONDS:
        raise ValueError(f"timeout must be a number of seconds from 0 to {_MAX_FLUSH_SECONDS:g}")
    return {"drained": await core.webhooks.flush(timeout), "pending": core.webhooks.pending}


async def _twilio_inbound(core: SandboxCore, request: web.Request, body: Any) -> Any:
    expected = '{"url": "...", "params": {...}, "valid_signature": true}'
    body = _object(body, expected)
    params = body.get("params") or {}
    if not isinstance(body.get("url"), str) or not isinstance(params, dict):
        raise ValueError("expected " + expected)
    if not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in params.values()
    ):
        raise ValueError("Twilio parameter values must be strings or numbers")
    try:
        return await core.webhooks.post_twilio_inbound(
            body["url"],
            auth_token=core.twilio_auth_token,
            params=core.twilio_params(params),
            valid_signature=_flag(body, "valid_signature", True),
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ValueError(f"could not POST to {body['url']}: {type(exc).__name__}: {exc}") from exc


async def _rate_limit(core: SandboxCore, request: web.Request, body: Any) -> Any:
    if not isinstance(body, dict) or "limit" not in body:
        raise ValueError('expected {"limit": n, "refill_per_second": r}')
    refill = body.get("refill_per_second", core.limiter.refill_per_second)
    # set_rate_limit refuses anything but an integer >= 1 and a positive finite rate.
    return core.set_rate_limit(limit=body["limit"], refill_per_second=refill)


def _endpoint(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        core = request.app[CORE]
        request_id = request[REQUEST_ID]
        headers = request[HEADERS]
        given = request.headers.get("x-admin-key", "")
        if not same_secret(given, core.admin_key):
            message = "Control endpoints need the sandbox admin key in x-admin-key."
            return to_response(api_error(401, message, request_id), headers)
        limits = core.limits
        try:
            raw = await read_body(
                request, max_bytes=limits.max_body_bytes, timeout=limits.body_timeout_seconds
            )
        except BodyError as exc:
            return await refuse_body(request, exc, request_id, headers)
        try:
            body = parse_json(raw, max_depth=limits.max_json_depth) if raw else None
            result = await handler(core, request, body)
        except (ValueError, TypeError) as exc:  # JsonError is a ValueError
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
