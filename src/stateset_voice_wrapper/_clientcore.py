"""What the sync and async typed clients share: settings, input checks, pages and parsing.

Nothing here does I/O. The clients in ``_async_clients`` (hand-written) and ``_sync_clients``
(generated from it by ``scripts/unasync``) call these functions, so validation, credential
handling and response checks are written once.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import math
import os
import re
import uuid
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import attrs
import httpx

from ._constants import DEFAULT_BASE_URL, ENV_BASE_URL
from ._errors import (
    APIResponseValidationError,
    ConfigurationError,
    InvalidParameterError,
)
from ._options import CallRecord, ReliabilityConfig

__all__ = [
    "ConfigurationError",
    "InvalidParameterError",
    "Page",
    "check_agent_key",
    "check_enum",
    "check_limit",
    "check_metadata",
    "check_offset",
    "check_phone",
    "expect",
    "reject_unknown",
    "resolve_base_url",
    "resolve_key",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

MAX_PAGE_SIZE = 200
#: Page size used by the lazy ``list()`` iterators.
DEFAULT_ITER_PAGE_SIZE = 100

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def resolve_key(value: str | None, *, env: str, what: str) -> str:
    """The explicit key, else the environment variable; fail naming the variable."""
    key = value if value is not None else os.environ.get(env)
    if not key or not key.strip():
        raise ConfigurationError(
            f"no {what}: pass it to the client or set the {env} environment variable"
        )
    return key.strip()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_base_url(value: str | None) -> str:
    """The explicit base URL, else STATESET_VOICE_BASE_URL, else production; https unless loopback."""
    raw = value or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"base URL {raw!r} is not a valid URL") from exc
    if url.scheme == "https" and url.host:
        return str(url).rstrip("/")
    if url.scheme == "http" and _is_loopback(url.host):
        return str(url).rstrip("/")
    raise ConfigurationError(
        f"base URL {raw!r} refused: credentials are only sent over https (plain http is allowed for loopback hosts only)"
    )


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


@attrs.frozen
class Page(Generic[T]):
    """One page of a list: the items and the envelope around them."""

    items: list[T]
    total: int
    limit: int
    offset: int
    has_more: bool
    request_id: str | None = None

    @property
    def next_offset(self) -> int | None:
        """Offset of the next page, or None when this is the last one.

        An empty page ends iteration even if the server claims more, so a misbehaving server
        cannot make a loop spin forever.
        """
        if not self.items:
            return None
        nxt = self.offset + len(self.items)
        if not self.has_more or nxt >= self.total:
            return None
        return nxt


def expect(parsed: object, model: type[T], record: CallRecord, what: str) -> T:
    """The parsed body if it is the expected model; else a validation error with the IDs."""
    if isinstance(parsed, model):
        return parsed
    raise APIResponseValidationError(
        f"{what}: the response body does not match the contract (expected {model.__name__}, got {type(parsed).__name__})",
        status_code=record.status_code,
        request_id=record.request_id,
        client_request_id=record.client_request_id,
        idempotency_key=record.idempotency_key,
    )


def parse_failure(exc: Exception, record: CallRecord, what: str) -> APIResponseValidationError:
    """A generated model's KeyError/ValueError/TypeError on a 2xx body, as a typed error."""
    detail = f"{type(exc).__name__}: {str(exc)[:120]}"
    return APIResponseValidationError(
        f"{what}: the response body does not match the contract ({detail})",
        status_code=record.status_code,
        request_id=record.request_id,
        client_request_id=record.client_request_id,
        idempotency_key=record.idempotency_key,
    )


def build_config(base: ReliabilityConfig | None, **overrides: Any) -> ReliabilityConfig:
    """The client's reliability settings: ``base`` (or the defaults) with non-None overrides."""
    config = base if base is not None else ReliabilityConfig()
    changes = {name: value for name, value in overrides.items() if value is not None}
    return attrs.evolve(config, **changes) if changes else config


def new_idempotency_key() -> str:
    """A key for one logical call when the caller has no business key."""
    return str(uuid.uuid4())
