"""The part of the WSGI and ASGI helpers that does not depend on the server interface.

``_wsgi.py`` and ``_asgi.py`` only translate an environ or a scope into the
arguments of :func:`build_twilio_request`; what a request means (its URL, its
parameters, whether it verifies, what the forwarder answers) is decided here,
once, for both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from ._errors import InvalidSignatureError
from ._twilio import reconstruct_url, verify_twilio_signature

__all__ = [
    "DEFAULT_FORWARD_TO",
    "MAX_BODY_BYTES",
    "ForwarderResponse",
    "TwilioRequest",
    "build_twilio_request",
    "check_public_url",
    "forwarder_response",
    "too_large_response",
]

DEFAULT_FORWARD_TO: Final = "https://voice.stateset.app/api/v1/incoming-call"
"""Where :func:`twilio_inbound_forwarder` sends verified calls (StateSet's inbound-call webhook)."""

MAX_BODY_BYTES: Final = 1024 * 1024
"""Largest request body the helpers read (Twilio webhooks are a few kilobytes); larger gets 413."""

_FORM_TYPE = "application/x-www-form-urlencoded"
_logger = logging.getLogger("stateset_voice").getChild("webhooks")


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
    reconstructed from the parts (see :func:`reconstruct_url`).
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


def too_large_response() -> ForwarderResponse:
    """413: the body is larger than :data:`MAX_BODY_BYTES`."""
    return _text(413, "Payload Too Large", "request body too large")


def forwarder_response(
    request: TwilioRequest, *, auth_token: str, forward_to: str
) -> ForwarderResponse:
    """307 to ``forward_to`` when the request verifies, else 401 ``invalid signature``.

    307 (not 302) makes Twilio repeat the same method and body at ``forward_to``.
    The failed check is logged at WARNING, by reason only.
    """
    try:
        request.verify(auth_token=auth_token)
    except InvalidSignatureError as exc:
        _logger.warning("rejected inbound Twilio request: %s", exc.reason)
        return _text(401, "Unauthorized", "invalid signature")
    headers = (("Location", forward_to), ("Content-Length", "0"))
    return ForwarderResponse(307, "Temporary Redirect", headers, b"")
