"""The validators of the reliability options: every value is checked when a config or a
block of overrides is built, so a bad one raises before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

from .._shared.errors import ConfigurationError, InvalidParameterError
from .._shared.telemetry import otel_installed
from .._shared.validate import (
    check_header_value,
    check_idempotency_key,
    check_request_id,
    check_seconds,
)

__all__ = [
    "a_callable",
    "check_header_map",
    "check_query_map",
    "header_map",
    "instance_of",
    "non_negative_int",
    "non_negative_seconds",
    "optional_callable",
    "optional_key",
    "optional_request_id",
    "optional_timeout",
    "positive_or_none",
    "query_map",
    "telemetry_switch",
    "to_timeout",
]

_PHASES = ("connect", "read", "write", "pool")


def to_timeout(value: object) -> httpx.Timeout:
    """An ``httpx.Timeout`` from seconds or a Timeout, each phase a finite number > 0 or None."""
    if isinstance(value, httpx.Timeout):
        for phase in _PHASES:
            check_seconds(
                f"timeout.{phase}", getattr(value, phase), allow_none=True, allow_zero=False
            )
        return value
    seconds = check_seconds("timeout", value, allow_none=True, allow_zero=False)
    return httpx.Timeout(seconds)


def optional_timeout(value: object) -> httpx.Timeout | None:
    return None if value is None else to_timeout(value)


def non_negative_int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError(f"{attribute.name} must be an integer >= 0, got {value!r}")


def positive_or_none(_: object, attribute: attrs.Attribute[float], value: float | None) -> None:
    check_seconds(attribute.name, value, allow_none=True, allow_zero=False)


def non_negative_seconds(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    check_seconds(attribute.name, value, allow_none=False, allow_zero=True)


def a_callable(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise InvalidParameterError(
            f"{attribute.name} must be callable, got {type(value).__name__}"
        )


def optional_callable(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        a_callable(_, attribute, value)


def instance_of(kind: type) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise InvalidParameterError(
                f"{attribute.name} must be a {kind.__name__}, got {type(value).__name__}"
            )

    return check


def telemetry_switch(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidParameterError(f"telemetry must be True, False or None, got {value!r}")
    if value is True and not otel_installed():
        raise ConfigurationError(
            "telemetry=True needs opentelemetry-api: pip install 'stateset-voice[otel]'"
        )


def optional_key(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_idempotency_key(value)


def optional_request_id(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_request_id(value)


def check_header_map(what: str, value: object) -> None:
    """Refuse headers (``what``: the option's name) the wire would reject or httpx could not
    encode: a name that is not an HTTP token, a value with a control or non-ASCII character."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidParameterError(f"{what} must be a mapping, got {type(value).__name__}")
    for name, item in value.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidParameterError(f"{what} has an invalid header name {name!r}")
        check_header_value(f"{what}[{name!r}]", item, max_length=_MAX_HEADER_VALUE)


def check_query_map(what: str, value: object) -> None:
    """Refuse query parameters (``what``: the option's name) that are not strings to strings."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidParameterError(f"{what} must be a mapping, got {type(value).__name__}")
    for name, item in value.items():
        if not isinstance(name, str) or not isinstance(item, str):
            raise InvalidParameterError(f"{what} maps strings to strings")


def header_map(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_header_map(attribute.name, value)


def query_map(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_query_map(attribute.name, value)


#: An HTTP header name (RFC 9110 token).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MAX_HEADER_VALUE = 8192
