"""Verify ``StateSet-Signature`` on webhook deliveries, then parse them.

The header is ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` (the contract's
``webhookSignature`` scheme): one ``v1`` per secret active at the sender, so a
secret can be rotated without a window where deliveries fail. A receiver may
likewise hold several secrets; a delivery verifies when any ``v1`` matches any
secret, and its ``t`` lies within ``tolerance`` seconds of the receiver's
clock, in either direction (replays are refused, and so are clocks far ahead).
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from ._errors import InvalidSignatureError
from ._events import parse_event
from ._signing import compute_stateset_signature
from ._telemetry import counted_verification

if TYPE_CHECKING:
    from ._events import WebhookEvent

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "STATESET_SIGNATURE_HEADER",
    "construct_event",
    "verify_stateset_signature",
]

STATESET_SIGNATURE_HEADER: Final = "StateSet-Signature"
"""Name of the header carrying a delivery's signature."""

DEFAULT_TOLERANCE_SECONDS: Final = 300.0
"""How far (either direction) a delivery's ``t`` may be from the receiver's clock: the contract's 300 s."""

_MAX_HEADER_LENGTH: Final = 8192
# Unix seconds have 10 digits until 2286. More than 15 cannot be a real clock, and a
# longer string would reach int()'s 4,300-digit limit or overflow the float in `now() - t`.
_MAX_TIMESTAMP_DIGITS: Final = 15


def _malformed(detail: str) -> InvalidSignatureError:
    return InvalidSignatureError(f"malformed header: {detail}", reason="malformed_header")


def _parse_header(header: str) -> tuple[int, list[str]]:
    if len(header) > _MAX_HEADER_LENGTH:
        raise _malformed("too long")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise _malformed("expected comma-separated key=value pairs")
        key, value = key.strip(), value.strip()
        if key == "t":
            if timestamp is not None:
                raise _malformed("more than one t")
            if not (value.isascii() and value.isdigit()) or len(value) > _MAX_TIMESTAMP_DIGITS:
                raise _malformed("t is not a unix timestamp")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
        # Other keys (future schemes such as v2) are ignored, as the format allows.
    if timestamp is None:
        raise _malformed("no t timestamp")
    return timestamp, signatures


def _check_secrets(secrets: Sequence[str]) -> None:
    if isinstance(secrets, str | bytes):
        raise TypeError("secrets must be a sequence of strings, e.g. [secret], not a single string")
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        raise ValueError("secrets must hold at least one non-empty string")


@counted_verification("stateset")
def verify_stateset_signature(
    *,
    payload: bytes | str,
    header: str | None,
    secrets: Sequence[str],
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: Callable[[], float] = time.time,
) -> None:
    """Check a delivery's ``StateSet-Signature``; raise :class:`InvalidSignatureError` if not valid.

    ``payload`` is the raw request body, exactly as received. ``secrets`` are
    the endpoint secrets currently accepted (old and new during a rotation).
    The failure's message (and ``reason``) says which check failed:
    ``"missing signature header"``, ``"malformed header: ..."``,
    ``"no v1 signature"``, ``"signature mismatch"`` or
    ``"timestamp outside tolerance"``; secrets and signatures never appear in it.

    >>> from stateset_voice_wrapper.webhooks import stateset_signature_header
    >>> header = stateset_signature_header(b"{}", secrets=["whsec_new"], timestamp=1_800_000_000)
    >>> verify_stateset_signature(payload=b"{}", header=header, secrets=["whsec_old", "whsec_new"],
    ...                           now=lambda: 1_800_000_060)
    >>> verify_stateset_signature(payload=b"{}", header=header, secrets=["whsec_new"],
    ...                           now=lambda: 1_800_000_301)
    Traceback (most recent call last):
    ...
    stateset_voice_wrapper.webhooks.InvalidSignatureError: timestamp outside tolerance
    """
    _check_secrets(secrets)
    if not (tolerance >= 0):  # also rejects NaN
        raise ValueError("tolerance must be a non-negative number of seconds")
    if not header:
        raise InvalidSignatureError(
            "missing signature header (StateSet-Signature)", reason="missing_signature"
        )
    timestamp, signatures = _parse_header(header)
    if not signatures:
        raise InvalidSignatureError("no v1 signature", reason="no_signature")

    try:
        body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    except UnicodeEncodeError:  # a str with a lone surrogate: no sender signed that
        raise InvalidSignatureError(
            "payload is not valid Unicode text", reason="malformed_payload"
        ) from None
    try:
        provided = [s.encode("utf-8") for s in signatures]
    except UnicodeEncodeError:
        raise _malformed("v1 is not valid Unicode text") from None
    matched = False
    for secret in secrets:
        expected = compute_stateset_signature(body, secret=secret, timestamp=timestamp).encode()
        for candidate in provided:
            # Every pair is compared (no early exit), each in constant time.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise InvalidSignatureError("signature mismatch", reason="signature_mismatch")

    age = now() - timestamp
    if not math.isfinite(age) or abs(age) > tolerance:
        raise InvalidSignatureError(
            "timestamp outside tolerance", reason="timestamp_outside_tolerance"
        )


def _header_value(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def construct_event(
    *,
    payload: bytes | str,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: Callable[[], float] = time.time,
) -> WebhookEvent:
    """Verify a delivery's signature, then parse it: the one call a webhook handler needs.

    ``headers`` is the request's headers; ``StateSet-Signature`` is found in it
    case-insensitively. Raises :class:`InvalidSignatureError` (answer 401) or
    :class:`InvalidEventError` (answer 400); see :func:`verify_stateset_signature`
    and :func:`parse_event`.

    >>> from stateset_voice_wrapper.webhooks import stateset_signature_header
    >>> body = (b'{"id": "evt_1", "type": "session.started", "api_version": "2026-11-01",'
    ...         b' "occurred_at": "2026-11-20T15:05:45Z", "tenant_id": "ten_1", "data":'
    ...         b' {"session_id": "vs_1", "call_id": "call_1", "agent_key": "a", "status": "active"}}')
    >>> headers = {"stateset-signature": stateset_signature_header(
    ...     body, secrets=["whsec_x"], timestamp=1_800_000_000)}
    >>> event = construct_event(payload=body, headers=headers, secrets=["whsec_x"],
    ...                         now=lambda: 1_800_000_000)
    >>> type(event).__name__, event.id
    ('SessionStartedEvent', 'evt_1')
    """
    verify_stateset_signature(
        payload=payload,
        header=_header_value(headers, STATESET_SIGNATURE_HEADER),
        secrets=secrets,
        tolerance=tolerance,
        now=now,
    )
    return parse_event(payload)
