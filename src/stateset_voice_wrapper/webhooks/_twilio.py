"""Verify ``X-Twilio-Signature`` on inbound Twilio webhooks (framework neutral).

The algorithm (``_signing.compute_twilio_signature``) signs the exact URL Twilio
requested, so most verification failures in production are URL mismatches:
a TLS-terminating proxy turns ``https`` into ``http``, a load balancer changes
the host, or the port is (or is not) spelled out. :func:`reconstruct_url` builds
the URL from request parts with an explicit opt-in for ``X-Forwarded-*``
headers, and :func:`verify_twilio_signature` accepts the URL with and without
the scheme's default port, as Twilio's own helper libraries do.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ._errors import InvalidSignatureError
from ._signing import TwilioParams, compute_twilio_signature

__all__ = [
    "TWILIO_SIGNATURE_HEADER",
    "is_valid_twilio_signature",
    "reconstruct_url",
    "verify_twilio_signature",
]

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
"""Name of the header carrying Twilio's request signature."""

_DEFAULT_PORTS = {"https": 443, "http": 80}
_BODY_HASH_PARAM = "bodySHA256"


def _first_forwarded_value(value: str) -> str:
    # A chain of proxies appends: "https, http". The first entry is the client-facing one.
    return value.split(",", 1)[0].strip()


def reconstruct_url(
    *,
    scheme: str,
    host: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    trust_forwarded: bool = False,
) -> str:
    """Rebuild the URL Twilio requested from the parts a server sees.

    ``host`` is the ``Host`` header (it may carry a port); ``path`` and ``query``
    should be the raw, still percent-encoded request target, because Twilio signs
    the URL byte for byte. With ``trust_forwarded=True`` the first value of
    ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` (looked up case-insensitively
    in ``headers``) replace ``scheme`` and ``host``. Only enable it behind a proxy
    that overwrites those headers: otherwise any client can choose them.

    >>> reconstruct_url(scheme="http", host="10.0.0.5:8000", path="/twilio/inbound",
    ...                 query="a=1", headers={"X-Forwarded-Proto": "https",
    ...                 "X-Forwarded-Host": "hooks.example.com"}, trust_forwarded=True)
    'https://hooks.example.com/twilio/inbound?a=1'
    """
    if trust_forwarded:
        lowered = {name.lower(): value for name, value in headers.items()}
        forwarded_proto = _first_forwarded_value(lowered.get("x-forwarded-proto", ""))
        forwarded_host = _first_forwarded_value(lowered.get("x-forwarded-host", ""))
        if forwarded_proto:
            scheme = forwarded_proto
        if forwarded_host:
            host = forwarded_host
    scheme = scheme.lower()
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{host}{path}"
    return f"{url}?{query}" if query else url


def _url_variants(url: str) -> list[str]:
    """The URL as given, plus the same URL with the default port added or removed."""
    variants = [url]
    parts = urlsplit(url)
    default_port = _DEFAULT_PORTS.get(parts.scheme.lower())
    if default_port is None or not parts.hostname:
        return variants
    try:
        port = parts.port
    except ValueError:  # a non-numeric port: leave the URL alone, it will simply not verify
        return variants
    userinfo, _, hostport = parts.netloc.rpartition("@")
    prefix = f"{userinfo}@" if userinfo else ""
    if port is None:
        netloc = f"{prefix}{hostport}:{default_port}"
    elif port == default_port:
        netloc = prefix + hostport[: hostport.rfind(":")]
    else:
        return variants
    variants.append(urlunsplit(parts._replace(netloc=netloc)))
    return variants


def _expected_body_hash(url: str) -> str | None:
    values = [
        v
        for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)
        if k == _BODY_HASH_PARAM
    ]
    if not values:
        return None
    if len(values) > 1:
        raise InvalidSignatureError(
            "bodySHA256 appears more than once in the URL", reason="malformed_body_hash"
        )
    return values[0]


def verify_twilio_signature(
    *,
    auth_token: str,
    url: str,
    params: TwilioParams,
    signature: str | None,
    body: bytes | str | None = None,
) -> None:
    """Check that a request really comes from Twilio; raise :class:`InvalidSignatureError` if not.

    ``url`` is the full URL Twilio requested (see :func:`reconstruct_url`),
    ``params`` the POST form parameters (a mapping, possibly with lists for
    repeated names, or ``(name, value)`` pairs), ``signature`` the
    ``X-Twilio-Signature`` header value (``None`` when absent).

    When the URL carries a ``bodySHA256`` query parameter (JSON webhooks), the
    signature covers the URL alone and ``body`` (the raw request body) must hash
    to that value; ``params`` are then ignored. The URL is tried with and without
    the default port. Every comparison is constant time.

    >>> from stateset_voice_wrapper.webhooks import compute_twilio_signature
    >>> url, params = "https://example.com/voice", {"CallSid": "CA1"}
    >>> sig = compute_twilio_signature(auth_token="token", url=url, params=params)
    >>> verify_twilio_signature(auth_token="token", url=url, params=params, signature=sig)
    >>> verify_twilio_signature(auth_token="token", url=url, params={}, signature=sig)
    Traceback (most recent call last):
    ...
    stateset_voice_wrapper.webhooks.InvalidSignatureError: signature mismatch
    """
    if not auth_token:
        raise ValueError("auth_token must be a non-empty string")
    if not signature:
        raise InvalidSignatureError(
            "missing signature header (X-Twilio-Signature)", reason="missing_signature"
        )
    body_hash = _expected_body_hash(url)
    signed_params: TwilioParams = () if body_hash is not None else params

    provided = signature.strip().encode("utf-8")
    matched = False
    for candidate in _url_variants(url):
        expected = compute_twilio_signature(
            auth_token=auth_token, url=candidate, params=signed_params
        )
        # No short-circuit: every variant is compared, each in constant time.
        matched |= hmac.compare_digest(expected.encode("ascii"), provided)
    if not matched:
        raise InvalidSignatureError("signature mismatch", reason="signature_mismatch")

    if body_hash is not None:
        if body is None:
            raise InvalidSignatureError(
                "bodySHA256 is in the URL but no body was given to verify",
                reason="missing_body",
            )
        raw = body.encode("utf-8") if isinstance(body, str) else body
        actual = hashlib.sha256(raw).hexdigest()
        if not hmac.compare_digest(actual.encode("ascii"), body_hash.lower().encode("utf-8")):
            raise InvalidSignatureError(
                "bodySHA256 does not match the body", reason="body_hash_mismatch"
            )


def is_valid_twilio_signature(
    *,
    auth_token: str,
    url: str,
    params: TwilioParams,
    signature: str | None,
    body: bytes | str | None = None,
) -> bool:
    """Boolean twin of :func:`verify_twilio_signature`: ``True`` when it would not raise.

    >>> is_valid_twilio_signature(auth_token="token", url="https://example.com/voice",
    ...                           params={}, signature="bogus")
    False
    """
    try:
        verify_twilio_signature(
            auth_token=auth_token, url=url, params=params, signature=signature, body=body
        )
    except InvalidSignatureError:
        return False
    return True
