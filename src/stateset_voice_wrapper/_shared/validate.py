"""Validators for values that end up in HTTP headers or in the reliability settings.

Each raises :class:`InvalidParameterError` (or :class:`ConfigurationError` for credentials)
before anything is sent, naming the problem and where it is, never the value itself when the
value may be secret.

Example::

    >>> check_idempotency_key("appt-A-123-confirm")
    'appt-A-123-confirm'
    >>> check_idempotency_key(" appt")
    Traceback (most recent call last):
    ...
    stateset_voice_wrapper.InvalidParameterError: idempotency_key has leading or trailing whitespace
"""

from __future__ import annotations

import math
import re
import unicodedata

from .errors import ConfigurationError, InvalidParameterError

__all__ = [
    "MAX_IDEMPOTENCY_KEY_LENGTH",
    "check_credential",
    "check_header_value",
    "check_idempotency_key",
    "check_request_id",
    "check_seconds",
    "first_bad_header_char",
]

#: Longest Idempotency-Key accepted (the length Stripe and most APIs allow).
MAX_IDEMPOTENCY_KEY_LENGTH = 255
#: Longest X-Request-Id accepted.
MAX_REQUEST_ID_LENGTH = 255
#: Shortest and longest API key accepted.
MIN_CREDENTIAL_LENGTH = 4
MAX_CREDENTIAL_LENGTH = 1024


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"a control character ({code})"
    if char == " ":
        return "a space"
    if ord(char) > 0x7F:
        category = unicodedata.category(char)
        kind = "an invisible" if category in ("Cf", "Zs", "Zl", "Zp") else "a"
        return f"{kind} non-ASCII character ({code})"
    return f"the character {char!r}"


_BAD_WITH_SPACE = re.compile(r"[^\x20-\x7e]")
_BAD_WITHOUT_SPACE = re.compile(r"[^\x21-\x7e]")


def first_bad_header_char(value: str, *, allow_space: bool = True) -> int | None:
    """Index of the first character that may not appear in an HTTP header value as sent by
    this package (visible ASCII, and spaces inside when ``allow_space``), or None."""
    found = (_BAD_WITH_SPACE if allow_space else _BAD_WITHOUT_SPACE).search(value)
    return None if found is None else found.start()


def check_header_value(name: str, value: object, *, max_length: int) -> str:
    """``value`` if it is a string fit to send as one header value: visible ASCII with spaces
    only inside it, 1 to ``max_length`` characters. Else :class:`InvalidParameterError`."""
    if not isinstance(value, str):
        raise InvalidParameterError(f"{name} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidParameterError(f"{name} must not be empty")
    if len(value) > max_length:
        raise InvalidParameterError(
            f"{name} is {len(value)} characters long; at most {max_length} are allowed"
        )
    if value != value.strip() or value[0] == " " or value[-1] == " ":
        raise InvalidParameterError(f"{name} has leading or trailing whitespace")
    bad = first_bad_header_char(value)
    if bad is not None:
        raise InvalidParameterError(
            f"{name} contains {_describe(value[bad])} at position {bad} (0-based);"
            " only printable ASCII is allowed in an HTTP header"
        )
    return value


def check_idempotency_key(value: object) -> str:
    """An Idempotency-Key as given, if it is valid; else :class:`InvalidParameterError`.

    A key is sent as an HTTP header: 1 to 255 printable ASCII characters (``0x20``-``0x7E``),
    no leading or trailing whitespace. Example: ``check_idempotency_key("appt-A-123-confirm")``.
    """
    return check_header_value("idempotency_key", value, max_length=MAX_IDEMPOTENCY_KEY_LENGTH)


def check_request_id(value: object) -> str:
    """A client request ID (``X-Request-Id``) as given, if it is valid."""
    return check_header_value("client_request_id", value, max_length=MAX_REQUEST_ID_LENGTH)


def check_credential(value: object, *, what: str) -> str:
    """An API key, stripped of surrounding whitespace, if it can be sent as a header safely.

    Raises :class:`ConfigurationError` naming the problem and its position, never the key:
    ``the runtime API key contains an invisible non-ASCII character (U+200B) at position 17``.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"the {what} must be a string, got {type(value).__name__}")
    key = value.strip()
    if not key:
        raise ConfigurationError(f"the {what} is empty")
    bad = first_bad_header_char(key, allow_space=False)
    if bad is not None:
        raise ConfigurationError(
            f"the {what} contains {_describe(key[bad])} at position {bad} (0-based, after"
            " stripping surrounding whitespace); a key is printable ASCII without spaces:"
            " copy it again from the dashboard"
        )
    if not MIN_CREDENTIAL_LENGTH <= len(key) <= MAX_CREDENTIAL_LENGTH:
        raise ConfigurationError(
            f"the {what} is {len(key)} characters long; a key has"
            f" {MIN_CREDENTIAL_LENGTH} to {MAX_CREDENTIAL_LENGTH}"
        )
    return key


def check_seconds(
    name: str, value: object, *, allow_none: bool, allow_zero: bool, unit: str = "seconds"
) -> float | None:
    """A duration in seconds (or an amount of ``unit``): a finite real number (not a bool),
    ``> 0`` (or ``>= 0`` with ``allow_zero``), or None when ``allow_none``. Else
    :class:`InvalidParameterError`."""
    if value is None:
        if allow_none:
            return None
        raise InvalidParameterError(f"{name} must be a number of {unit}, got None")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(
            f"{name} must be a number of {unit}, got {type(value).__name__}"
        )
    seconds = float(value)
    low = ">= 0" if allow_zero else "> 0"
    if (
        math.isnan(seconds)
        or math.isinf(seconds)
        or seconds < 0
        or (seconds == 0 and not allow_zero)
    ):
        suffix = " or None" if allow_none else ""
        raise InvalidParameterError(
            f"{name} must be {low} {unit}{suffix} (a finite number), got {value!r}"
        )
    return seconds
