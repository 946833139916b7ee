"""Make client-supplied text safe to log: visible control characters and masked phone numbers.

A request's path, query and headers are chosen by whoever sends it, and the sandbox answers
anyone on loopback. Logged as they arrive, ``%0a`` in a path (decoded: a newline) would start a
forged log line, ``%1b`` an ANSI escape sequence, and U+202E would reorder what a terminal shows.
Paths also carry phone numbers (``/api/v1/call-logs/+15555550199``), which logs should not keep.
So every log line and request-log entry goes through :func:`loggable`:

- control characters (C0, DEL, C1), format characters (bidi controls, zero-width marks), line
  and paragraph separators, unpaired surrogates and the backslash are written as escapes
  (``\\n``, ``\\x1b``, ``\\u202e``, ``\\\\``), so one log record stays one visible line;
- anything that looks like a phone number keeps only its last four digits:
  ``+15555550199`` -> ``+*******0199``, ``%2B15555550199`` -> ``%2B*******0199``;
- long values are cut, with the number of characters left out.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Final

_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
_ESCAPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_KEEP_DIGITS: Final = 4
_MIN_PHONE_DIGITS: Final = 7
CONTINUATION: Final = "  | "
"""What starts every line of a log record after its first (a traceback's lines)."""

# International numbers start with "+" (or its percent-encoding) and may be grouped with
# spaces, dots, dashes or parentheses; national ones are a bare run of 7 to 15 digits or the
# NANP "(555) 555-0199" shape. A digit run inside a word (an identifier) is left alone.
_SEP: Final = r"(?:[ ().\-]|%20|%2[dD]|%28|%29)"
_PHONE: Final = re.compile(
    r"(?:\+|%2[bB])\(?\d(?:" + _SEP + r"?\d)*"
    r"|(?<![A-Za-z0-9])\(?\d{3}\)?" + _SEP + r"\d{3}" + _SEP + r"\d{4}(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])\d{" + str(_MIN_PHONE_DIGITS) + r",15}(?![A-Za-z0-9])"
)


def escape_controls(text: str, *, backslash: bool = True) -> str:
    """``text`` with every invisible or line-breaking character written as an escape.

    With ``backslash=False`` a backslash stays as it is: for text whose values were escaped
    already, so that ``\\n`` is not escaped twice.
    """
    if text.isprintable() and (not backslash or "\\" not in text):
        return text
    out: list[str] = []
    for char in text:
        named = _NAMED.get(char)
        if named is not None and (backslash or char != "\\"):
            out.append(named)
        elif char != " " and unicodedata.category(char) in _ESCAPED_CATEGORIES:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _tokens(found: str) -> list[str]:
    """Characters of ``found``, with each percent-escape (``%2B``, ``%20``) as one token."""
    tokens: list[str] = []
    i = 0
    while i < len(found):
        step = 3 if found[i] == "%" else 1
        tokens.append(found[i : i + step])
        i += step
    return tokens


def _mask(match: re.Match[str]) -> str:
    tokens = _tokens(match.group(0))
    digits = sum(token.isdigit() for token in tokens)
    if digits < _MIN_PHONE_DIGITS:
        return match.group(0)
    keep_from = digits - _KEEP_DIGITS
    seen = 0
    out: list[str] = []
    for token in tokens:
        if token.isdigit():  # a percent-escape's hex digits are not the number's
            out.append(token if seen >= keep_from else "*")
            seen += 1
        else:
            out.append(token)
    return "".join(out)


def mask_phone_numbers(text: str) -> str:
    """``text`` with every phone-number-like run cut down to its last four digits."""
    return _PHONE.sub(_mask, text)


def loggable(text: str | None, limit: int = 512) -> str | None:
    """What may be logged of a client-supplied ``text``: masked, escaped and at most ``limit``."""
    if text is None:
        return None
    if len(text) > limit * 4:
        text = text[: limit * 4]  # no need to scan what will be cut anyway
    safe = escape_controls(mask_phone_numbers(text))
    if len(safe) > limit:
        return f"{safe[:limit]}...(+{len(safe) - limit} chars)"
    return safe


class LogSafeFilter(logging.Filter):
    """Applies :func:`loggable` to the whole message of every record, traceback included.

    The request pipeline already logs only :func:`loggable` values; this filter also covers what
    it cannot see, such as an exception message that quotes a request value.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        # A traceback spans lines by design. Each line is escaped, and every line after the
        # first starts with CONTINUATION, so no text inside a record can pass for a record.
        lines = [
            escape_controls(mask_phone_numbers(line), backslash=False)
            for line in message.split("\n")
        ]
        record.msg = ("\n" + CONTINUATION).join(lines)
        record.args = None
        return True


def install_filter(logger: logging.Logger) -> None:
    """Add one :class:`LogSafeFilter` to ``logger`` (idempotent)."""
    if not any(isinstance(f, LogSafeFilter) for f in logger.filters):
        logger.addFilter(LogSafeFilter())
