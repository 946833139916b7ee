"""Pure signature computations for Twilio requests and StateSet deliveries.

Nothing here does I/O or comparison; verification (constant-time compares,
tolerance windows, error messages) lives in ``_twilio.py`` and ``_stateset.py``.
These functions are also what the sandbox uses to *sign* the deliveries it
sends, so both sides share one definition of the algorithm.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence

__all__ = [
    "TwilioParams",
    "compute_stateset_signature",
    "compute_twilio_signature",
    "stateset_signature_header",
    "twilio_signing_string",
]

#: POST parameters as a mapping (a value may be a list for repeated names)
#: or as the ordered ``(name, value)`` pairs of a parsed form body.
TwilioParams = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]


def _grouped_params(params: TwilioParams) -> dict[str, list[str]]:
    """Group parameters by name, keeping every value of a repeated name."""
    grouped: dict[str, list[str]] = {}
    if isinstance(params, Mapping):
        for name, value in params.items():
            values = [value] if isinstance(value, str) else list(value)
            grouped.setdefault(name, []).extend(values)
    else:
        for name, value in params:
            grouped.setdefault(name, []).append(value)
    return grouped


def twilio_signing_string(*, url: str, params: TwilioParams) -> str:
    """Return the string Twilio signs: the URL, then ``name + value`` pairs.

    Names are sorted (case-sensitive code-point order). A repeated name
    contributes each of its *distinct* values once, sorted too: Twilio signs
    ``a=1&a=1`` as ``a1``, and its helper libraries (twilio-python's
    ``sorted(set(values))``, twilio-node's ``new Set``) do the same.

    >>> twilio_signing_string(url="https://x.test/a", params={"b": "2", "a": ["9", "1", "9"]})
    'https://x.test/aa1a9b2'
    """
    grouped = _grouped_params(params)
    parts = [url]
    for name in sorted(grouped):
        for value in sorted(set(grouped[name])):
            parts.append(name)
            parts.append(value)
    return "".join(parts)


def compute_twilio_signature(
    *,
    auth_token: str,
    url: str,
    params: Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]],
) -> str:
    """Compute the ``X-Twilio-Signature`` value Twilio sends for a request.

    base64(HMAC-SHA1(auth_token, url + sorted name/value pairs)). For a JSON
    body signed through ``bodySHA256``, pass the URL (including that query
    parameter) and ``params=()``.

    >>> compute_twilio_signature(auth_token="t", url="https://x.test/a", params={})
    '/LN9jcZfInu7z310uGZeRkyPUvw='
    """
    message = twilio_signing_string(url=url, params=params).encode("utf-8")
    digest = hmac.new(auth_token.encode("utf-8"), message, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def compute_stateset_signature(payload: bytes, *, secret: str, timestamp: int) -> str:
    """Compute one ``v1`` StateSet delivery signature (lowercase hex).

    HMAC-SHA256 keyed with the whole secret string (utf-8, ``whsec_`` prefix
    included) over ``f"{timestamp}."`` followed by the raw payload bytes.

    >>> len(compute_stateset_signature(b"{}", secret="whsec_x", timestamp=1))
    64
    """
    message = f"{timestamp}.".encode("ascii") + payload
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def stateset_signature_header(payload: bytes, *, secrets: Sequence[str], timestamp: int) -> str:
    """Build a ``StateSet-Signature`` header value: ``t=<ts>,v1=<hex>[,v1=<hex>...]``.

    One ``v1`` per secret, so a sender mid-rotation signs with old and new.

    >>> stateset_signature_header(b"{}", secrets=["a", "b"], timestamp=5).count("v1=")
    2
    """
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of strings, not a single string")
    signatures = [
        f"v1={compute_stateset_signature(payload, secret=s, timestamp=timestamp)}" for s in secrets
    ]
    return ",".join([f"t={timestamp}", *signatures])
