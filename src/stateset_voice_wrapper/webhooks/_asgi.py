"""Twilio verification for ASGI servers (FastAPI, Starlette, uvicorn...), stdlib only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from ._errors import InvalidSignatureError
from ._inbound import (
    DEFAULT_FORWARD_TO,
    MAX_BODY_BYTES,
    ForwarderResponse,
    RequestBodyTooLargeError,
    TwilioRequest,
    build_twilio_request,
    check_public_url,
    forwarder_response,
    parse_content_length,
    rejection_response,
)

__all__ = [
    "ASGIApp",
    "twilio_inbound_forwarder_asgi",
    "twilio_request_from_asgi",
    "verify_asgi_request",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
"""An ASGI 3 application."""

_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        # ASGI header names are lower-case bytes; values are latin-1 per HTTP/1.1.
        headers[bytes(name).decode("latin-1").lower()] = bytes(value).decode("latin-1")
    return headers


def _host(scope: Scope, headers: dict[str, str]) -> str:
    if headers.get("host"):
        return headers["host"]
    server = scope.get("server")
    if not server:
        return ""
    name, port = server[0], server[1]
    default = 443 if scope.get("scheme") in ("https", "wss") else 80
    return str(name) if port in (None, default) else f"{name}:{port}"


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if raw:
        # Some servers have included the query in raw_path; the query is taken separately.
        return bytes(raw).decode("latin-1").split("?", 1)[0]
    return quote(str(scope.get("path", "/")).encode("utf-8"), safe=_PATH_SAFE)


def twilio_request_from_asgi(
    scope: Scope,
    body: bytes,
    *,
    public_url: str | None = None,
    trust_forwarded: bool = False,
) -> TwilioRequest:
    """Extract URL, form parameters and signature from an ASGI HTTP scope and its body.

    The path is taken from ``raw_path`` when the server provides it (the bytes
    Twilio sent), else re-encoded from ``path``. Behind a proxy or a mount
    point, pass ``public_url`` or ``trust_forwarded`` (see :func:`reconstruct_url`).
    A malformed ``Host`` (or trusted ``X-Forwarded-Host``) raises
    :class:`InvalidSignatureError`.

    >>> scope = {"type": "http", "scheme": "https", "path": "/twilio/inbound",
    ...          "query_string": b"", "headers": [(b"host", b"hooks.example.com")]}
    >>> twilio_request_from_asgi(scope, b"").url
    'https://hooks.example.com/twilio/inbound'
    """
    check_public_url(public_url)
    headers = _headers(scope)
    return build_twilio_request(
        scheme=str(scope.get("scheme", "http")),
        host=_host(scope, headers),
        raw_path=_raw_path(scope),
        query=bytes(scope.get("query_string", b"")).decode("latin-1"),
        headers=headers,
        body=body,
        public_url=public_url,
        trust_forwarded=trust_forwarded,
    )


def verify_asgi_request(
    scope: Scope,
    body: bytes,
    *,
    auth_token: str,
    public_url: str | None = None,
    trust_forwarded: bool = False,
) -> TwilioRequest:
    """Verify an ASGI request's ``X-Twilio-Signature`` and return the parsed request.

    Raises :class:`InvalidSignatureError` when it does not verify or the host or
    URL is malformed. ``body`` is whatever the framework read: limit request sizes
    in the server or proxy in front of it.

    >>> # In a FastAPI route:  verify_asgi_request(request.scope, await request.body(), auth_token=TOKEN)
    """
    request = twilio_request_from_asgi(
        scope, body, public_url=public_url, trust_forwarded=trust_forwarded
    )
    request.verify(auth_token=auth_token)
    return request


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, or :class:`RequestBodyTooLargeError` / :class:`_Disconnected`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            raise RequestBodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_response(send: Send, response: ForwarderResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def twilio_inbound_forwarder_asgi(
    *,
    auth_token: str,
    forward_to: str = DEFAULT_FORWARD_TO,
    public_url: str | None = None,
    trust_forwarded: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> ASGIApp:
    """The ASGI twin of :func:`twilio_inbound_forwarder`: verify, then 307 to ``forward_to``.

    Unverified requests and malformed hosts or URLs get ``401 invalid signature``,
    bodies over ``max_body_bytes`` 413 (refused on ``Content-Length`` before reading
    when it announces them), a malformed ``Content-Length`` 400.

    >>> app = twilio_inbound_forwarder_asgi(auth_token="token")
    >>> # uvicorn.run(app, port=8080)
    """
    if not auth_token:
        raise ValueError("auth_token must be a non-empty string")
    check_public_url(public_url)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"unsupported ASGI scope type {scope['type']!r}")
        try:
            parse_content_length(
                _headers(scope).get("content-length"), max_body_bytes=max_body_bytes
            )
            body = await _read_body(receive, max_body_bytes)
            request = twilio_request_from_asgi(
                scope, body, public_url=public_url, trust_forwarded=trust_forwarded
            )
        except _Disconnected:
            return
        except InvalidSignatureError as exc:
            await _send_response(send, rejection_response(exc))
            return
        await _send_response(
            send, forwarder_response(request, auth_token=auth_token, forward_to=forward_to)
        )

    return app
