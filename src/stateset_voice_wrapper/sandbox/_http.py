"""Turning replies and faults into bytes on the wire (the only aiohttp-specific output code)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from ._faults import FaultError
from ._idempotency import Reply
from ._util import dumps

_STATUS_CODES: Final = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
_FAULT_MESSAGES: Final = {
    "429": "Rate limit exceeded; retry after {s} seconds. (injected by the sandbox)",
    "500": "Internal server error. (injected by the sandbox)",
    "502": "Bad gateway: the upstream did not answer. (injected by the sandbox)",
    "503": "Service unavailable; retry after {s} seconds. (injected by the sandbox)",
    "504": "Gateway timeout: the upstream took too long. (injected by the sandbox)",
}
_HTML_PAGE: Final = (
    "<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>{status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def json_reply(status: int, value: Any) -> Reply:
    return Reply(status=status, body=dumps(value))


def api_error(
    status: int,
    message: str,
    request_id: str,
    *,
    code: str | None = None,
    details: list[dict[str, str]] | None = None,
    retry_after: int | None = None,
) -> Reply:
    """An ``ApiError`` body; ``request_id`` equals the response's ``x-request-id``."""
    body: dict[str, Any] = {
        "code": code or _STATUS_CODES.get(status, "error"),
        "message": message,
        "request_id": request_id,
    }
    if details:
        body["details"] = details
    if retry_after is not None:
        body["retry_after"] = retry_after
    return json_reply(status, body)


def to_response(reply: Reply, headers: Mapping[str, str]) -> web.Response:
    response = web.Response(status=reply.status, body=reply.body or None, headers=dict(headers))
    if reply.body or reply.status != 204:
        response.content_type = reply.content_type
    return response


def fault_reply(error: FaultError, request_id: str) -> tuple[Reply, dict[str, str]]:
    """The reply and extra headers of a status fault (``429 500 502 503 504 html``)."""
    if error.kind == "html":
        page = _HTML_PAGE.format(status=error.status).encode("ascii")
        return Reply(status=error.status, body=page, content_type="text/html"), {}
    status = int(error.kind)
    retry = error.retry_after if status in (429, 503) else None
    message = _FAULT_MESSAGES[error.kind].format(s=retry)
    extra = {"Retry-After": str(retry)} if retry is not None else {}
    return api_error(status, message, request_id, retry_after=retry), extra


async def send_broken(
    request: web.Request,
    error: FaultError,
    *,
    headers: Mapping[str, str],
    reply: Reply | None,
    success_status: int,
) -> web.StreamResponse:
    """Send a ``drop`` (nothing at all) or a ``reset`` (half a response), then abort."""
    transport = request.transport
    if error.kind == "drop" or transport is None or (reply is not None and reply.status == 204):
        if transport is not None:
            transport.abort()
        return web.Response(status=500)
    if reply is None:
        # Before the operation ran there is no real answer: cut short a plausible one.
        filler = "x" * 256
        reply = Reply(status=success_status, body=dumps({"status": "queued", "padding": filler}))
    body = reply.body if len(reply.body) >= 2 else reply.body + b" " * 32
    response = web.StreamResponse(status=reply.status, headers=dict(headers))
    response.content_type = reply.content_type
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    transport.abort()
    return response
