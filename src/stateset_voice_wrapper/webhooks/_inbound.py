"""The part of the WSGI and ASGI helpers that does not depend on the server interface.

``_wsgi.py`` and ``_asgi.py`` only translate an environ or a scope into the
arguments of :func:`build_twilio_request`; what a request means (its URL, its
parameters, its length, whether it verifies, what the forwarder answers) is
decided here, once, for both.

Every way an inbound request can be unusable raises an :class:`InvalidSignatureError`
(the request is not provably from Twilio), so a handler that catches only that answers
401 rather than 500. Two subclasses say more, for handlers that want the precise status::

    InvalidSignatureError            401: bad, missing or unverifiable signature; malformed URL or host
    ├── RequestBodyTooLargeError     413: Content-Length (or the body) is over max_body_bytes
    └── InvalidContentLengthError    400: Content-Length is not a decimal length, or the body is shorter
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from .._shared.redact import redact_url
from ._errors import InvalidSignatureError
from ._twilio import reconstruct_url, verify_twilio_signature

__all__ = [
    "DEFAULT_FORWARD_TO",
    "MAX_BODY_BYTES",
    "ForwarderResponse",
    "InvalidContentLengthError",
    "RequestBodyTooLargeError",
    "TwilioRequest",
    "build_twilio_request",
    "check_body_length",
    "check_public_url",
    "forwarder_response",
    "parse_content_length",
    "rejection_response",
]

DEFAULT_FORWARD_TO: Final = "https://voice.stateset.app/api/v1/incoming-call"
"""Where :func:`twilio_inbound_forwarder` sends verified calls (StateSet's inbound-call webhook)."""

MAX_BODY_BYTES: Final = 1024 * 1024
"""Largest request body the helpers read (Twilio webhooks are a few kilobytes); larger gets 413."""

_FORM_TYPE = "application/x-www-form-urlencoded"
# RFC 9110: Content-Length = 1*DIGIT. int() would also take "-1", "+5", " 5", "1_0" and "١".
_CONTENT_LENGTH = re.compile(r"[0-9]+")
_logger = logging.getLogger("stateset_voice").getChild("webhooks")


class RequestBodyTooLargeError(InvalidSignatureError):
    """The request body is longer than the helper's ``max_body_bytes``: answer 413.

    It is an :class:`InvalidSignatureError` (reason ``"body_too_large"``) because an
    unread body cannot be verified, so a handler that catches only that answers 401.

    >>> from stateset_voice_wrapper.webhooks import InvalidSignatureError
    >>> issubclass(RequestBodyTooLargeError, InvalidSignatureError)
    True
    """

    def __init__(self, message: str = "request body is larger than max_body_bytes") -> None:
        super().__init__(message, reason="body_too_large")


class InvalidContentLengthError(InvalidSignatureError):
    """``Content-Length`` is not a decimal number, or the body is shorter than it: answer 400.

    Reason ``"invalid_content_length"`` or ``"incomplete_body"``; an
    :class:`InvalidSignatureError`, like :class:`RequestBodyTooLargeError`.

    >>> parse_content_length("-1", max_body_bytes=10)
    Traceback (most recent call last):
    ...
    stateset_voice_wrapper.webhooks._inbound.InvalidContentLengthError: Content-Length is not a decimal length
    """

    def __init__(
        self,
        message: str = "Content-Length is not a decimal length",
        *,
        reason: str = "invalid_content_length",
    ) -> None:
        super().__init__(message, reason=reason)


def parse_content_length(value: str | None, *, max_body_bytes: int) -> int | None:
    """The body length a ``Content-Length`` value announces, ``None`` when there is none.

    Raises :class:`InvalidContentLengthError` unless it is ASCII digits (surrounding
    spaces allowed), and :class:`RequestBodyTooLargeError` when it exceeds
    ``max_body_bytes``, without ever turning thousands of digits into an int.
    """
    if value is None or not value.strip(" \t"):
        return None
    digits = value.strip(" \t")
    if not _CONTENT_LENGTH.fullmatch(digits):
        raise InvalidContentLengthError()
    significant = digits.lstrip("0")
    if len(significant) > len(str(max_body_bytes)) or int(significant or "0") > max_body_bytes:
        raise RequestBodyTooLargeError()
    return int(significant or "0")


def check_body_length(body: bytes, *, expected: int | None, max_body_bytes: int) -> None:
    """Refuse a body longer than ``max_body_bytes`` or shorter than its ``Content-Length``."""
    if len(body) > max_body_bytes:
        raise RequestBodyTooLargeError()
    if expected is not None and len(body) < expected:
        raise InvalidContentLengthError(
            "request body is shorter than Content-Length", reason="incomplete_body"
        )


@dataclass(frozen=True, slots=True)
class TwilioRequest:
    """What verification needs from one inbound HTTP request.

    ``params`` are the form parameters in the order they were sent (repeated
    names kept); ``body`` is the raw body. Its repr omits the parameters and the
    body because they carry phone numbers.
    """

    url: str
    params: tuple[tuple[str, str], ...] = field(repr=False)
    signature: str | None = field(repr=False)
    body: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"TwilioRequest(url={redact_url(self.url)!r})"

    def verify(self, *, auth_token: str) -> None:
        """Verify this request's ``X-Twilio-Signature``; raise :class:`InvalidSignatureError` if not."""
        verify_twilio_signature(
            auth_token=auth_token,
            url=self.url,
            params=self.params,
            signature=self.signature,
            body=self.body,
        )


def check_public_url(public_url: str | None) -> None:
    """Reject a ``public_url`` the helpers cannot use (a query string, or no scheme/host)."""
    if public_url is None:
        return
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("public_url must be an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError(
            "public_url must not contain a query or fragment: the request's own query is appended"
        )


def build_twilio_request(
    *,
    scheme: str,
    host: str,
    raw_path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    public_url: str | None,
    trust_forwarded: bool,
) -> TwilioRequest:
    """Turn server-level request parts into a :class:`TwilioRequest`.

    ``headers`` must have lower-case names. With ``public_url`` (the URL
    configured in Twilio, without query), the URL is ``public_url`` plus the
    request's query string, whatever the server saw; otherwise it is
    reconstructed from the parts (see :func:`reconstruct_url`, which raises
    :class:`InvalidSignatureError` for a malformed host).
    """
    if public_url is not None:
        url = f"{public_url}?{query}" if query else public_url
    else:
        url = reconstruct_url(
            scheme=scheme,
            host=host,
            path=raw_path,
            query=query,
            headers=headers,
            trust_forwarded=trust_forwarded,
        )
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    params: tuple[tuple[str, str], ...] = ()
    if content_type == _FORM_TYPE:
        # Form bodies are ASCII after percent-encoding; "replace" keeps a broken body
        # from raising here (it will then simply fail verification).
        params = tuple(
            parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, encoding="utf-8")
        )
    return TwilioRequest(
        url=url,
        params=params,
        signature=headers.get("x-twilio-signature"),
        body=body,
    )


@dataclass(frozen=True, slots=True)
class ForwarderResponse:
    """Status, headers and body the inbound forwarder answers with."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _text(status: int, reason: str, text: str) -> ForwarderResponse:
    body = text.encode("utf-8")
    headers = (("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))))
    return ForwarderResponse(status, reason, headers, body)


def rejection_response(exc: InvalidSignatureError) -> ForwarderResponse:
    """413, 400 or 401 for a request that cannot be forwarded; logged at WARNING by reason only."""
    _logger.warning("rejected inbound Twilio request: %s", exc.reason)
    if isinstance(exc, RequestBodyTooLargeError):
        return _text(413, "Payload Too Large", "request body too large")
    if isinstance(exc, InvalidContentLengthError):
        return _text(400, "Bad Request", "bad request body length")
    return _text(401, "Unauthorized", "invalid signature")


def forwarder_response(
    request: TwilioRequest, *, auth_token: str, forward_to: str
) -> ForwarderResponse:
    """307 to ``forward_to`` when the request verifies, else 401 ``invalid signature``.

    307 (not 302) makes Twilio repeat the same method and body at ``forward_to``.
    """
    try:
        request.verify(auth_token=auth_token)
    except InvalidSignatureError as exc:
        return rejection_response(exc)
    headers = (("Location", forward_to), ("Content-Length", "0"))
    return ForwarderResponse(307, "Temporary Redirect", headers, b"")
