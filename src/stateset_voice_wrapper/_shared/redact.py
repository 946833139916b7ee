"""Redaction: the one place that decides what of a text may be shown.

Every message the package builds from text it did not write (a server's error ``message``, a
lower-level exception's ``str()``, a URL) passes through :func:`redact` first, so a phone number
or a credential never reaches ``str(exc)``, ``repr(exc)``, a log record or an ``on_retry`` event.

- :func:`mask_phone_numbers` masks E.164 numbers (``+15555555678``, ``%2B15555555678``) and the
  common written forms (``+1 (555) 555-5678``, ``555-555-5678``, ``555.555.5678``, runs of ten or
  more digits), keeping the last two digits: ``+***78``. UUIDs (request IDs) are left whole.
- :func:`redact_credentials` drops bearer tokens, ``key=value`` credentials, API-key-shaped
  words, the userinfo of URLs and the values of bytes literals (where h11 and httpcore quote
  header values).

Example::

    >>> redact("cannot call +15555555678 from 555-555-1234 with Bearer sk_live_abc")
    'cannot call +***78 from ***34 with Bearer ***'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

__all__ = ["mask_number", "mask_phone_numbers", "redact", "redact_credentials", "redact_url"]


def _lazy(source: str) -> Callable[[], re.Pattern[str]]:
    """The pattern ``source``, compiled on its first use, not at import: compiling every
    pattern here took about 2 ms of the package's import, and most processes redact nothing."""
    return functools.cache(lambda: re.compile(source))


# A candidate number: an optional international prefix, then groups of digits joined by the
# separators people write. The lookarounds keep digits glued to a word (IDs like ``call_0123``,
# hex in UUIDs) out; the callback then decides by the digit count. A ``+`` (or ``%2B``) starts
# a number whatever precedes it, so numbers glued together (``+1555…+1555…``, a list joined
# by ``%2B`` in a query) are each masked.
# Separators and parentheses may be percent-encoded, as they are in URL paths and queries.
_SEP = r"(?:[ \t.\-/]|%20|%2[dDfF])"
_OPEN = r"(?:\(|%28)"
_CLOSE = r"(?:\)|%29)"

_candidate = _lazy(
    r"(?:(?P<prefix>\+|%2[bB])|(?<![\w.+%])(?P<zeros>00(?=\d))?)"
    rf"{_OPEN}?\d{{1,4}}{_CLOSE}?"
    rf"(?:{_SEP}{{0,3}}{_OPEN}?\d{{1,4}}{_CLOSE}?){{1,7}}"
    r"(?![\w])"
)

# A UUID's all-digit groups (``bd782233-4684-4170-8bd4-…``) look like a hyphenated number, but
# a UUID is an ID a person needs to quote (a request ID): UUIDs are left whole.
_uuid = _lazy(
    r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])"
)

_percent_escape = _lazy(r"%[0-9A-Fa-f]{2}")

_date = _lazy(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}")

_ipv4 = _lazy(r"\d{1,3}(?:\.\d{1,3}){3}")

_decimal = _lazy(r"\d+\.\d+")

_MIN_DIGITS = 7
_MIN_BARE_DIGITS = 10
_MAX_DIGITS = 15
_KEEP = 2


def _mask_match(match: re.Match[str]) -> str:
    text = match.group(0)
    prefix = match.group("prefix") or match.group("zeros")
    # A percent-escape's hex digits are not the number's.
    body = _percent_escape().sub(" ", text[len(prefix) :] if prefix and prefix != "00" else text)
    digits = [c for c in body if c.isdigit()]
    if prefix:
        digits = digits[2:] if prefix == "00" else digits
    count = len(digits)
    if count < _MIN_DIGITS or count > _MAX_DIGITS:
        return text
    if not prefix:
        if _date().fullmatch(body) or _ipv4().fullmatch(body) or _decimal().fullmatch(body):
            return text
        if body.isdigit() and count < _MIN_BARE_DIGITS:
            return text  # an amount or a count, not a number anyone dials as written
    shown = "+" if prefix else ""
    return f"{shown}***{''.join(digits[-_KEEP:])}"


def mask_number(number: str) -> str:
    """How a value known to be a phone number is shown: as the masker shows one found in text.

    >>> mask_number("+15555550101"), mask_number("5555550101"), mask_number("12")
    ('+***01', '***01', '***')
    """
    digits = [c for c in number if c.isdigit()]
    if len(digits) < _MIN_DIGITS:
        return "***"
    shown = "+" if number.lstrip().startswith(("+", "%2B", "%2b")) else ""
    return f"{shown}***{''.join(digits[-_KEEP:])}"


def mask_phone_numbers(text: str) -> str:
    """``text`` with every phone-number-like run masked to its last two digits."""
    if not any(c.isdigit() for c in text):
        return text
    if "-" not in text:
        return _candidate().sub(_mask_match, text)
    pieces: list[str] = []
    start = 0
    for uuid in _uuid().finditer(text):
        pieces.append(_candidate().sub(_mask_match, text[start : uuid.start()]))
        pieces.append(uuid.group(0))
        start = uuid.end()
    pieces.append(_candidate().sub(_mask_match, text[start:]))
    return "".join(pieces)


# userinfo of a URL: scheme://user:password@host
_userinfo = _lazy(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]*@")

# userinfo of a URL written without its scheme: user:password@host
_bare_userinfo = _lazy(r"^[^/\s@]*@")

# Authorization schemes followed by their credential.
_auth_scheme = _lazy(r"(?i)\b(bearer|basic|token|digest)(\s+)[^\s'\",;)]+")

# name=value / name: value pairs whose name says "secret".
_secret_pair = _lazy(
    r"(?i)\b((?:x-)?(?:admin[-_]?key|api[-_]?key|access[-_]?token|auth[-_]?token|token|"
    r"password|passwd|secret|authorization|signature)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\s'\",;&)]+"
)

# Words shaped like API keys: sk_live_..., sk_test_..., ak_..., pk_..., rk_...
_key_word = _lazy(r"\b((?:sk|pk|rk|ak|whsec)_(?:live_|test_)?)[A-Za-z0-9]{2,}[^\s'\",;)]*")

# bytes literals, where h11/httpcore quote raw header names and values: b'...' / b"..."
_bytes_literal = _lazy(r"""\bb(['"])(?:\\.|(?!\1).)*\1""")


def redact_credentials(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` without credentials: the known ``secrets`` (and each of their words), bearer
    tokens, ``key=value`` credentials, API-key-shaped words, URL userinfo and bytes literals."""
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, *secret.split(), secret.encode("unicode_escape").decode("ascii")}:
            if len(form) >= 4 and form in text:
                text = text.replace(form, "***")
    text = _bytes_literal().sub("b'***'", text)
    text = _userinfo().sub(r"\1***@", text)
    text = _auth_scheme().sub(r"\1\2***", text)
    text = _secret_pair().sub(r"\1***", text)
    return _key_word().sub(r"\1***", text)


def redact(text: str, *, secrets: Iterable[str] = ()) -> str:
    """Both redactions: credentials first (so a key's digits are gone), then phone numbers."""
    return mask_phone_numbers(redact_credentials(text, secrets=secrets))


def redact_url(url: str) -> str:
    """A URL fit to show: no userinfo, no query string or fragment, phone numbers masked."""
    cut = re.split(r"[?#]", url, maxsplit=1)[0]
    if "://" not in cut:
        # No scheme (``user:password@host``, a URL typed without ``https://``): the part
        # before the first ``@`` of the authority is still userinfo.
        cut = _bare_userinfo().sub("***@", cut)
    return mask_phone_numbers(_userinfo().sub(r"\1***@", cut))
