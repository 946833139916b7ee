"""Twilio verification for WSGI servers (Flask, Django, gunicorn, wsgiref...), stdlib only."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

from ._errors import InvalidSignatureError
from ._inbound import (
    DEFAULT_FORWARD_TO,
    MAX_BODY_BYTES,
    ForwarderResponse,
    RequestBodyTooLargeError,
    TwilioRequest,
    build_twilio_request,
    check_body_length,
    check_public_url,
    forwarder_response,
    parse_content_length,
    rejection_response,
)

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["twilio_inbound_forwarder", "twilio_request_from_wsgi", "verify_wsgi_request"]

# RFC 3986 characters that may appear unescaped in a path.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


def _raw_path(environ: WSGIEnvironment) -> str:
    # gunicorn sets RAW_URI and uWSGI/Apache REQUEST_URI: the target exactly as sent.
    for key in ("RAW_URI", "REQUEST_URI"):
        raw = environ.get(key)
        if raw:
            return str(raw).split("?", 1)[0]
    # PEP 3333: SCRIPT_NAME and PATH_INFO are decoded bytes carried in latin-1 strings.
    decoded = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    try:
        raw = decoded.encode("latin-1")
    except UnicodeEncodeError:  # a server that decoded the path as UTF-8, against PEP 3333
        raw = decoded.encode("utf-8", "surrogateescape")
    return quote(raw, safe=_PATH_SAFE)


def _host(environ: WSGIEnvironment) -> str:
    if environ.get("HTTP_HOST"):
        return str(environ["HTTP_HOST"])
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    name, port = str(environ.get("SERVER_NAME", "")), str(environ.get("SERVER_PORT", ""))
    default = "443" if scheme == "https" else "80"
    return name if not port or port == default else f"{name}:{port}"


def _announced_length(environ: WSGIEnvironment, max_body_bytes: int) -> int | None:
    value = environ.get("CONTENT_LENGTH")
    return parse_content_length(
        None if value is None else str(value), max_body_bytes=max_body_bytes
    )


def _read_body(environ: WSGIEnvironment, max_body_bytes: int) -> bytes:
    length = _announced_length(environ, max_body_bytes)
    stream = environ.get("wsgi.input")
    if stream is None:
        body = b""
    elif length is not None:
        body = stream.read(length) if length else b""
    elif environ.get("wsgi.input_terminated"):
        # No Content-Length (a chunked body): servers that set this flag (gunicorn) end
        # the stream at the end of the body, so reading past the limit is safe.
        body = stream.read(max_body_bytes + 1)
    else:
        # PEP 3333: without CONTENT_LENGTH the stream may be the raw socket; reading it
        # would wait for the client to close. There is no body.
        body = b""
    check_body_length(body, expected=length, max_body_bytes=max_body_bytes)
    return bytes(body)


_DRAIN_LIMIT = 64 * 1024


def _drain(environ: WSGIEnvironment) -> None:
    # Closing a socket with unread input makes the kernel send RST, which can destroy the
    # 413 before the client reads it; a modestly oversized body is read and dropped first.
    stream = environ.get("wsgi.input")
    try:
        length = parse_content_length(
            str(environ.get("CONTENT_LENGTH") or ""), max_body_bytes=_DRAIN_LIMIT
        )
    except InvalidSignatureError:
        return
    if stream is not None and length:
        stream.read(length)


def twilio_request_from_wsgi(
    environ: WSGIEnvironment,
    *,
    public_url: str | None = None,
    trust_forwarded: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> TwilioRequest:
    """Extract URL, form parameters, signature and body from a WSGI environ.

    The body is read from ``wsgi.input`` and put back as a fresh stream, so the
    application behind can still read it. See :func:`reconstruct_url` for
    ``public_url`` and ``trust_forwarded``.

    Everything it raises is an :class:`InvalidSignatureError`: a ``Content-Length``
    over ``max_body_bytes`` raises :class:`RequestBodyTooLargeError` (413) before
    anything is read, one that is not a decimal length or longer than the body
    :class:`InvalidContentLengthError` (400), and a malformed ``Host`` the base
    class (401).

    >>> from wsgiref.util import setup_testing_defaults
    >>> environ = {"PATH_INFO": "/twilio/inbound", "HTTP_HOST": "hooks.example.com"}
    >>> setup_testing_defaults(environ)
    >>> twilio_request_from_wsgi(environ).url
    'http://hooks.example.com/twilio/inbound'
    """
    check_public_url(public_url)
    body = _read_body(environ, max_body_bytes)
    environ["wsgi.input"] = io.BytesIO(body)
    return build_twilio_request(
        scheme=str(environ.get("wsgi.url_scheme", "http")),
        host=_host(environ),
        raw_path=_raw_path(environ),
        query=str(environ.get("QUERY_STRING", "")),
        headers=_headers(environ),
        body=body,
        public_url=public_url,
        trust_forwarded=trust_forwarded,
    )


def verify_wsgi_request(
    environ: WSGIEnvironment,
    *,
    auth_token: str,
    public_url: str | None = None,
    trust_forwarded: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> TwilioRequest:
    """Verify a WSGI request's ``X-Twilio-Signature`` and return the parsed request.

    Raises :class:`InvalidSignatureError` when it does not verify, or one of its
    subclasses :class:`RequestBodyTooLargeError` (answer 413) and
    :class:`InvalidContentLengthError` (answer 400); see
    :func:`twilio_request_from_wsgi`.

    >>> # In a Flask view:  verify_wsgi_request(request.environ, auth_token=TOKEN)
    """
    request = twilio_request_from_wsgi(
        environ,
        public_url=public_url,
        trust_forwarded=trust_forwarded,
        max_body_bytes=max_body_bytes,
    )
    request.verify(auth_token=auth_token)
    return request


def twilio_inbound_forwarder(
    *,
    auth_token: str,
    forward_to: str = DEFAULT_FORWARD_TO,
    public_url: str | None = None,
    trust_forwarded: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> WSGIApplication:
    """A WSGI app that verifies Twilio's signature, then answers 307 to ``forward_to``.

    Unverified requests and malformed hosts or URLs get ``401 invalid signature``,
    bodies over ``max_body_bytes`` 413, a malformed ``Content-Length`` 400. Point the
    Twilio number's voice webhook at it, served by a production WSGI server
    (gunicorn, uWSGI) or a threaded one with a socket timeout
    (``examples/twilio_forwarder.py``).

    >>> app = twilio_inbound_forwarder(auth_token="token",
    ...                                     public_url="https://hooks.example.com/twilio/inbound")
    >>> # gunicorn 'myapp:app'
    """
    if not auth_token:
        raise ValueError("auth_token must be a non-empty string")
    check_public_url(public_url)

    def respond(environ: WSGIEnvironment) -> ForwarderResponse:
        try:
            request = twilio_request_from_wsgi(
                environ,
                public_url=public_url,
                trust_forwarded=trust_forwarded,
                max_body_bytes=max_body_bytes,
            )
        except RequestBodyTooLargeError as exc:
            _drain(environ)
            return rejection_response(exc)
        except InvalidSignatureError as exc:
            return rejection_response(exc)
        return forwarder_response(request, auth_token=auth_token, forward_to=forward_to)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = respond(environ)
        start_response(f"{response.status} {response.reason}", list(response.headers))
        return [response.body]

    return app
