"""Make client-supplied text safe to log: visible control characters and masked phone numbers.

A request's path, query and headers are chosen by whoever sends it, and the sandbox answers
anyone on loopback. Logged as they arrive, ``%0a`` in a path (decoded: a newline) would start a
forged log line, ``%1b`` an ANSI escape sequence, and U+202E would reorder what a terminal shows.
Paths also carry phone numbers (``/api/v1/call-logs/+15555550199``), which logs should not keep.
So every log line and request-log entry goes through :func:`loggable`:

- control characters (C0, DEL, C1), format characters (bidi controls, zero-width marks), line
  and paragraph separators and unpaired surrogates are written as escapes (``\\n``,
  ``\\x1b``, ``\\u202e``) by the package's one output policy, ``_shared.untrusted``, so one
  log record stays one visible line;
- anything that looks like a phone number is masked by the package's one masking function,
  ``_shared.redact.mask_phone_numbers``: ``+15555550199`` -> ``+***99``, and credentials
  (``api_key=…``, ``token=…``, bearer tokens, key-shaped words such as ``sk_live_…``) are
  removed by ``_shared.redact.redact_credentials`` (the sandbox's own ``sk_test_`` keys are
  key-shaped too): a client may send a real key to the wrong host;
- long values are cut, with the number of characters left out.
"""

from __future__ import annotations

import logging
from typing import Final

from .._shared.redact import redact
from .._shared.untrusted import escape_untrusted

CONTINUATION: Final = "  | "
"""What starts every line of a log record after its first (a traceback's lines)."""


def escape_controls(text: str) -> str:
    """``text`` with every invisible or line-breaking character written as an escape (the
    package's one output policy, :func:`~stateset_voice_wrapper._shared.untrusted.escape_untrusted`)."""
    return escape_untrusted(text)


def loggable(text: str | None, limit: int = 512) -> str | None:
    """What may be logged of a client-supplied ``text``: masked, escaped and at most ``limit``."""
    if text is None:
        return None
    if len(text) > limit * 4:
        text = text[: limit * 4]  # no need to scan what will be cut anyway
    safe = escape_controls(redact(text))
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
        lines = [escape_controls(redact(line)) for line in message.split("\n")]
        record.msg = ("\n" + CONTINUATION).join(lines)
        record.args = None
        return True


def install_filter(logger: logging.Logger) -> None:
    """Add one :class:`LogSafeFilter` to ``logger`` (idempotent)."""
    if not any(isinstance(f, LogSafeFilter) for f in logger.filters):
        logger.addFilter(LogSafeFilter())
