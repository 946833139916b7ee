"""The ``format`` keywords of the contracts, each with a validator that really checks it.

JSON Schema makes ``format`` an annotation unless a validator for it is installed, and
openapi-core skips a format it has no checker for without a word: with no URI library,
``"webhook_url": "not a uri"`` passed, was stored, and the next GET served a body that breaks its
own schema. So the sandbox names its checker for every format, and
:func:`check_formats_supported` refuses to load a contract that uses a format missing from
:data:`FORMAT_VALIDATORS`: a new format in a contract is a decision, never a silent skip.

=============  =========================================================================
``date-time``  RFC 3339 ``date-time`` (rfc3339-validator; ``t`` and ``z`` may be lower case,
               as RFC 3339 section 5.6 allows)
``email``      an RFC 5321 mailbox: dot-atom or quoted local part, a domain name or an
               address literal (email-validator, syntax only, no DNS)
``uri``        an absolute RFC 3986 URI (rfc3986-validator, rule ``URI``)
=============  =========================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from email_validator import EmailNotValidError, validate_email
from rfc3339_validator import validate_rfc3339
from rfc3986_validator import validate_rfc3986  # type: ignore[import-untyped]  # no stubs

from .. import StateSetVoiceError


def is_date_time(value: object) -> bool:
    """RFC 3339 ``date-time``; values other than strings are left to the ``type`` keyword."""
    if not isinstance(value, str):
        return True
    # Only ASCII digits, "T", "Z", ":", "-", "+" and "." can match, so upper() cannot turn
    # another character into an accepted one.
    return bool(validate_rfc3339(value.upper()))


def is_email(value: object) -> bool:
    """An RFC 5321 mailbox (``dana@acme.example``, ``"a b"@x.io``, ``ops@[127.0.0.1]``)."""
    if not isinstance(value, str):
        return True
    try:
        validate_email(
            value,
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
            allow_quoted_local=True,
            allow_domain_literal=True,
        )
    except EmailNotValidError:
        return False
    return True


def is_uri(value: object) -> bool:
    """An absolute URI: a scheme, then the rest as RFC 3986 allows (``https://x.io/hook``)."""
    if not isinstance(value, str):
        return True
    return validate_rfc3986(value, rule="URI") is not None


FORMAT_VALIDATORS: Final[Mapping[str, Callable[[Any], bool]]] = {
    "date-time": is_date_time,
    "email": is_email,
    "uri": is_uri,
}
"""Every ``format`` the sandbox validates, and how (openapi-core's ``extra_format_validators``)."""


class UnsupportedFormatError(StateSetVoiceError, ValueError):
    """A contract uses a ``format`` the sandbox has no validator for."""


_VALUE_KEYWORDS: Final = frozenset({"example", "examples", "default", "enum", "const"})
"""Keywords whose content is instance data, not schema: a ``format`` key there is a value."""


def formats_used(node: object) -> Iterator[str]:
    """Every ``format`` keyword in a JSON document (schemas nest anywhere)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            value = current.get("format")
            if isinstance(value, str):
                yield value
            stack.extend(v for k, v in current.items() if k not in _VALUE_KEYWORDS)
        elif isinstance(current, list):
            stack.extend(current)


def check_formats_supported(name: str, document: Mapping[str, Any]) -> None:
    """Raise :class:`UnsupportedFormatError` if ``document`` uses an unvalidated format."""
    missing = sorted(set(formats_used(document)) - set(FORMAT_VALIDATORS))
    if missing:
        raise UnsupportedFormatError(
            f"the {name} contract uses format {', '.join(missing)}, which the sandbox cannot "
            "validate; add a validator to sandbox/_formats.py FORMAT_VALIDATORS"
        )
