"""Verify ``X-Twilio-Signature`` on inbound Twilio webhooks (framework neutral).

The algorithm (``_signing.compute_twilio_signature``) signs the exact URL Twilio
requested, so most verification failures in production are URL mismatches:
a TLS-terminating proxy turns ``https`` into ``http``, a load balancer changes
the host, or the port is (or is not) spelled out. :func:`reconstruct_url` builds
the URL from request parts with an explicit opt-in for ``X-Forwarded-*``
headers, and :func:`verify_twilio_signature` accepts the few spellings of one
URL that Twilio may have signed (see :func:`_signed_url_candidates`).

Every URL and host is parsed here, by hand, to RFC 3986's grammar: the request's
``Host`` header and URL are unauthenticated input, and anything malformed is an
:class:`InvalidSignatureError` (answer 401), never a plain ``ValueError``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product
from urllib.parse import parse_qsl

from ._errors import InvalidSignatureError
from ._signing import TwilioParams, compute_twilio_signature
from ._telemetry import counted_verification

__all__ = [
    "TWILIO_SIGNATURE_HEADER",
    "is_valid_twilio_signature",
    "reconstruct_url",
    "verify_twilio_signature",
]

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
"""Name of the header carrying Twilio's request signature."""

_DEFAULT_PORTS = {"https": "443", "http": "80"}
_BODY_HASH_PARAM = "bodySHA256"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_PCT = r"%[0-9A-Fa-f]{2}"
_REG_NAME = re.compile(rf"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|{_PCT})+")
_USERINFO = re.compile(rf"(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|{_PCT})*")
_PORT = re.compile(r"[0-9]{1,5}")
# Controls and spaces never appear in a URL Twilio sends (it percent-encodes them).
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


def _malformed_url() -> InvalidSignatureError:
    return InvalidSignatureError("malformed URL", reason="malformed_url")


def _malformed_host() -> InvalidSignatureError:
    return InvalidSignatureError("malformed host", reason="malformed_host")


def _split_hostport(hostport: str) -> tuple[str, str | None]:
    """``host[:port]`` -> (host, port digits or None); the host as sent, brackets kept.

    Raises :class:`InvalidSignatureError` (``malformed_host``) for anything else:
    an unclosed or invalid IPv6 literal, a port that is empty, not decimal or out
    of 1-65535, or a character a host may not contain.
    """
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise _malformed_host()
        host, after = hostport[: end + 1], hostport[end + 1 :]
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _malformed_host() from None
        if not after:
            return host, None
        if not after.startswith(":"):
            raise _malformed_host()
        port = after[1:]
    else:
        host, sep, port = hostport.partition(":")
        if not _REG_NAME.fullmatch(host):
            raise _malformed_host()
        if not sep:
            return host, None
    if not _PORT.fullmatch(port) or not 0 < int(port) <= 65535:
        raise _malformed_host()
    return host, port


@dataclass(frozen=True, slots=True)
class _Url:
    """An absolute http(s) URL in pieces, each exactly as written."""

    scheme: str
    userinfo: str | None
    host: str
    port: str | None
    rest: str  # path, then "?query" and "#fragment" if any

    @property
    def query(self) -> str:
        return self.rest.partition("#")[0].partition("?")[2]

    def text(self, *, scheme: str, userinfo: str | None, port: str | None, rest: str) -> str:
        credentials = f"{userinfo}@" if userinfo is not None else ""
        port_part = f":{port}" if port is not None else ""
        return f"{scheme}://{credentials}{self.host}{port_part}{rest}"


def _parse_url(url: str) -> _Url:
    """Split an absolute http(s) URL; :class:`InvalidSignatureError` if it is not one."""
    scheme, sep, remainder = url.partition("://")
    if (
        not sep
        or not _SCHEME.fullmatch(scheme)
        or scheme.lower() not in _DEFAULT_PORTS
        or _FORBIDDEN.search(url)
    ):
        raise _malformed_url()
    end = len(remainder)
    for delimiter in "/?#":
        found = remainder.find(delimiter)
        if 0 <= found < end:
            end = found
    authority, rest = remainder[:end], remainder[end:]
    userinfo, at, hostport = authority.rpartition("@")
    if at and not _USERINFO.fullmatch(userinfo):
        raise _malformed_url()
    try:
        host, port = _split_hostport(hostport)
    except InvalidSignatureError:
        raise _malformed_url() from None
    return _Url(scheme, userinfo if at else None, host, port, rest)


def _without_empty_query(rest: str) -> str:
    # "/voice?" and "/voice#" name the same resource as "/voice" (RFC 3986 6.2.3).
    before_fragment, _, fragment = rest.partition("#")
    path, _, query = before_fragment.partition("?")
    return path + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")


def _signed_url_candidates(parsed: _Url) -> list[str]:
    """Every spelling of the request's URL that Twilio may have signed, the URL as given first.

    * the scheme as given, and lower-cased;
    * the path and query as given, and without an empty ``?`` (or ``#``) at the end;
    * the credentials, if any, kept and dropped (Twilio's docs: it drops a URL's
      username and password before signing);
    * the port as given (if any) and without it, or, when the URL has none, with the
      scheme's default port: Twilio signs with and without ports inconsistently.
    """
    default_port = _DEFAULT_PORTS[parsed.scheme.lower()]
    schemes = dict.fromkeys([parsed.scheme, parsed.scheme.lower()])
    rests = dict.fromkeys([parsed.rest, _without_empty_query(parsed.rest)])
    userinfos = dict.fromkeys([parsed.userinfo, None])
    ports = dict.fromkeys([parsed.port, None] if parsed.port is not None else [None, default_port])
    candidates = (
        parsed.text(scheme=scheme, userinfo=userinfo, port=port, rest=rest)
        for scheme, rest, userinfo, port in product(schemes, rests, userinfos, ports)
    )
    return list(dict.fromkeys(candidates))


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

    A host that is not ``host[:port]`` (``[``, ``[::1``, ``a@b``, ``h:99999``) raises
    :class:`InvalidSignatureError` with reason ``"malformed_host"``, and a scheme
    other than http(s) one with ``"malformed_url"``: answer 401.

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
    if scheme not in _DEFAULT_PORTS:
        raise _malformed_url()
    _split_hostport(host)
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{host}{path}"
    return f"{url}?{query}" if query else url


def _expected_body_hash(parsed: _Url) -> str | None:
    values = [
        v for k, v in parse_qsl(parsed.query, keep_blank_values=True) if k == _BODY_HASH_PARAM
    ]
    if not values:
        return None
    if len(values) > 1:
        raise InvalidSignatureError(
            "bodySHA256 appears more than once in the URL", reason="malformed_body_hash"
        )
    # Twilio sends hexdigest() output; its helper libraries compare it case-sensitively.
    if not _HEX_SHA256.fullmatch(values[0]):
        raise InvalidSignatureError(
            "bodySHA256 is not a lowercase hex SHA-256 digest", reason="malformed_body_hash"
        )
    return values[0]


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no client can have signed this
        raise InvalidSignatureError(
            "request text is not valid Unicode", reason="malformed_request"
        ) from None


@counted_verification("twilio")
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
    to that value; ``params`` are then ignored. The URL is tried as given and in
    the other spellings Twilio may sign: with and without the port (or the
    default port), without credentials, with a lower-case scheme and without an
    empty ``?``. Every comparison is constant time. A URL that is not an
    absolute http(s) URL raises with reason ``"malformed_url"``.

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
    parsed = _parse_url(url)
    body_hash = _expected_body_hash(parsed)
    signed_params: TwilioParams = () if body_hash is not None else params

    provided = _utf8(signature.strip())
    matched = False
    for candidate in _signed_url_candidates(parsed):
        try:
            expected = compute_twilio_signature(
                auth_token=auth_token, url=candidate, params=signed_params
            )
        except UnicodeEncodeError:
            raise InvalidSignatureError(
                "request text is not valid Unicode", reason="malformed_request"
            ) from None
        # No short-circuit: every candidate is compared, each in constant time.
        matched |= hmac.compare_digest(expected.encode("ascii"), provided)
    if not matched:
        raise InvalidSignatureError("signature mismatch", reason="signature_mismatch")

    if body_hash is not None:
        if body is None:
            raise InvalidSignatureError(
                "bodySHA256 is in the URL but no body was given to verify",
                reason="missing_body",
            )
        raw = _utf8(body) if isinstance(body, str) else body
        actual = hashlib.sha256(raw).hexdigest()
        if not hmac.compare_digest(actual.encode("ascii"), body_hash.encode("ascii")):
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
