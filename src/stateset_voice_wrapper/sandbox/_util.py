"""Small pure helpers: identifiers, timestamps, canonical JSON, stable hashing."""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import random
from typing import Any, Final

JSON = Any
"""A JSON-compatible value (the sandbox's bodies are built from plain dicts and lists)."""

_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class IdFactory:
    """Makes ULID-shaped identifiers (``call_01JD...``) from one random stream.

    Seeded, the same sequence of requests yields the same identifiers.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def new(self, prefix: str) -> str:
        return prefix + "_" + "".join(self._rng.choice(_CROCKFORD) for _ in range(26))

    def token(self, nbytes: int) -> str:
        """Lowercase hex of ``nbytes`` random bytes (keys, secrets, Twilio SIDs)."""
        return f"{self._rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def same_secret(given: str, expected: str) -> bool:
    """Compare a client-sent credential with the real one in constant time.

    Header values can hold any byte (decoded with surrogate escapes), which
    ``hmac.compare_digest`` refuses for ``str``; compared as bytes they are simply unequal.
    """
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def isoformat(unix_seconds: float) -> str:
    """RFC 3339 UTC timestamp with milliseconds, e.g. ``2026-11-20T15:04:05.123Z``."""
    moment = _dt.datetime.fromtimestamp(unix_seconds, _dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> float:
    """Unix seconds of an RFC 3339 timestamp (``Z`` or an offset; naive means UTC)."""
    moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.timestamp()


def dumps(value: JSON) -> bytes:
    """The sandbox's wire form of a JSON body: always valid JSON text in UTF-8.

    NaN and infinities have no JSON form, so they raise ``ValueError`` rather than going out as
    ``NaN`` (which no JSON parser has to accept). A string that UTF-8 cannot encode (an
    unpaired surrogate; request bodies are refused with one) is sent as a ``\\u`` escape.
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")


def canonical_body(body: bytes) -> bytes:
    """Body bytes that compare equal when two requests carry the same JSON value.

    Used for idempotency fingerprints: key order and whitespace do not make a body different.
    A body that is not JSON is compared byte for byte.
    """
    if not body:
        return b""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def stable_hash(*parts: str) -> int:
    """A 64-bit hash that is the same in every process (unlike ``hash()``)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def page(items: list[JSON], *, limit: int, offset: int) -> dict[str, JSON]:
    """The contracts' list envelope over an already filtered and ordered list."""
    chunk = items[offset : offset + limit]
    return {
        "items": chunk,
        "total": len(items),
        "limit": limit,
        "offset": offset,
        "has_more": offset + len(chunk) < len(items),
    }
