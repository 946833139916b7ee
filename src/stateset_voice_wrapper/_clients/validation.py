"""Checks of the typed clients' arguments, made before anything is sent.

A rejected argument raises :class:`InvalidParameterError`, naming the parameter and the rule and
never repeating a whole phone number.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from .._shared.errors import InvalidParameterError

__all__ = [
    "MAX_PAGE_SIZE",
    "check_agent_key",
    "check_enum",
    "check_limit",
    "check_metadata",
    "check_offset",
    "check_phone",
    "reject_unknown",
]

E = TypeVar("E", bound=enum.Enum)

MAX_PAGE_SIZE = 200

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _tail(value: str) -> str:
    return f"…{value[-2:]}" if len(value) > 4 else "…"


def check_phone(name: str, value: object) -> str:
    """An E.164 number, or a message that never repeats the whole number."""
    if not isinstance(value, str):
        raise InvalidParameterError(
            f"{name} must be an E.164 phone number string, got {type(value).__name__}"
        )
    if not _E164.fullmatch(value):
        raise InvalidParameterError(
            f"{name} must be an E.164 phone number like +15555555678 (a '+', country code, up to 15 digits);"
            f" got {len(value)} characters ending in {_tail(value)!r}"
        )
    return value


def check_agent_key(value: object, name: str = "agent_key") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(f"{name} must be a non-empty string, e.g. 'support_primary'")
    return value


def check_enum(enum_cls: type[E], value: object, name: str) -> E:
    """``value`` as a member of ``enum_cls``; an unknown value names the allowed ones."""
    if isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum_cls)
        raise InvalidParameterError(f"{name} must be one of: {allowed}; got {value!r}") from None


def check_limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidParameterError(
            f"limit must be an integer from 1 to {MAX_PAGE_SIZE}, got {value!r}"
        )
    return value


def check_offset(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError(f"offset must be an integer >= 0, got {value!r}")
    return value


def check_metadata(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Metadata must be a JSON object; name the first key whose value cannot be serialized."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidParameterError(
            f"metadata must be a mapping of str to JSON values, got {type(value).__name__}"
        )
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidParameterError(f"metadata keys must be strings, got {type(key).__name__}")
        try:
            json.dumps(item, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                f"metadata[{key!r}] cannot be serialized to JSON ({type(item).__name__})"
            ) from exc
        if isinstance(item, float) and not math.isfinite(
            item
        ):  # pragma: no cover - json catches it
            raise InvalidParameterError(f"metadata[{key!r}] must be finite")
    return dict(value)


def reject_unknown(method: str, unknown: Mapping[str, object]) -> None:
    """Unknown keyword arguments are an error, not silently ignored."""
    if unknown:
        names = ", ".join(sorted(unknown))
        raise InvalidParameterError(f"{method}() got unexpected keyword argument(s): {names}")
