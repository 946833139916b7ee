"""A typed client method's arguments, checked against the contract and built into a request.

``None`` means "not sent"; :data:`~.operations.CLEAR` sends ``null`` where the contract allows
it. Values are first turned into the JSON the contract describes (enums to their values, aware
datetimes to RFC 3339, generated models to dicts), then checked by the argument checkers of
``schema``; nothing is sent when a check fails.
"""

from __future__ import annotations

import datetime
import enum
import math
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

import attrs

from .._shared.errors import InvalidParameterError
from .._shared.schema import describe_value
from .._shared.validate import check_header_value, check_idempotency_key
from .methods import CLEAR
from .operations import IDEMPOTENCY_HEADER, Operation

__all__ = ["MAX_ARGUMENT_DEPTH", "BuiltRequest", "build_request"]

#: Longest value of a header parameter other than the Idempotency-Key (which has its own rule).
_MAX_HEADER_VALUE: Final = 8192

#: Deeper nesting than this in an argument is refused (a JSON document, not a recursion bomb).
MAX_ARGUMENT_DEPTH: Final = 32


@attrs.frozen
class BuiltRequest:
    """A validated request, before the client adds credentials and options."""

    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    json: dict[str, Any] | None
    form: dict[str, str] | None
    idempotency_key: str | None
    #: The operation and the client method that built it, for telemetry (``calls.create``).
    operation: tuple[str, str] = ("", "")


def _to_json(value: Any, where: str, depth: int = 0) -> Any:
    """A Python argument as the JSON value the contract describes."""
    if depth > MAX_ARGUMENT_DEPTH:
        raise InvalidParameterError(f"{where} is nested more than {MAX_ARGUMENT_DEPTH} levels deep")
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidParameterError(f"{where} must be a finite number, got {value!r}")
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidParameterError(
                f"{where} must be a timezone-aware datetime (a naive one is ambiguous):"
                " use datetime.now(timezone.utc) or .replace(tzinfo=...)"
            )
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and attrs.has(type(value)):
        return _to_json(to_dict(), where, depth + 1)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidParameterError(
                    f"{where} keys must be strings, got {type(key).__name__}"
                )
            out[key] = _to_json(item, f"{where}[{key!r}]", depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_to_json(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise InvalidParameterError(f"{where} cannot be sent as JSON: got {type(value).__name__}")


def _check_header(argument_name: str, header: str, value: Any) -> str:
    """A header parameter's value, fit to send: an Idempotency-Key by its own rule, any other
    header as visible ASCII (a value with a trailing space arrives as another value)."""
    try:
        if header == IDEMPOTENCY_HEADER:
            return check_idempotency_key(value)
        return check_header_value(argument_name, value, max_length=_MAX_HEADER_VALUE)
    except InvalidParameterError as exc:
        exc.parameter = argument_name
        raise


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _path_segment(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(
            f"{where} must be a non-empty string, got {describe_value(value)}"
        )
    if value in (".", ".."):
        # Percent-encoding keeps "/" out of the segment; dot segments would still be resolved.
        raise InvalidParameterError(f"{where} cannot be {value!r}")
    return quote(value, safe="")


def build_request(op: Operation, arguments: Mapping[str, Any], method_name: str) -> BuiltRequest:
    """Validate ``arguments`` (by python name) against ``op`` and build its request.

    ``None`` means "not sent"; :data:`CLEAR` sends ``null`` where the contract allows it.
    A rejected argument raises :class:`InvalidParameterError` naming it as the caller wrote it.
    """
    path = op.path
    params: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    body: dict[str, Any] = {}
    idempotency_key: str | None = None
    missing: list[str] = []
    unknown = [name for name in arguments if name not in op.arguments]
    if unknown:
        raise InvalidParameterError(
            f"{method_name}() got unexpected argument(s): {', '.join(sorted(unknown))}"
        )
    for name, argument in op.arguments.items():
        value = arguments.get(name)
        if value is None:
            if argument.required and argument.name != IDEMPOTENCY_HEADER:
                missing.append(name)
            continue
        if value is CLEAR:
            if not argument.nullable:
                raise InvalidParameterError(
                    f"{name} cannot be cleared: the contract does not allow null"
                )
            data: Any = None
        else:
            try:
                data = _to_json(value, name)
            except RecursionError:
                raise InvalidParameterError(
                    f"{name} is nested too deeply", parameter=name
                ) from None
            except InvalidParameterError as exc:
                exc.parameter = exc.parameter or name
                raise
        problem = argument.check(data, name)
        if problem is not None:
            raise InvalidParameterError(problem, parameter=name)
        if argument.location == "path":
            path = path.replace("{" + argument.name + "}", _path_segment(data, name))
        elif argument.location == "query":
            items = data if isinstance(data, list) else [data]
            params.extend((argument.name, _query_value(item)) for item in items)
        elif argument.location == "header":
            data = _check_header(name, argument.name, data)
            if argument.name == IDEMPOTENCY_HEADER:
                idempotency_key = data
            else:
                headers[argument.name] = str(data)
        else:
            body[argument.name] = data
    if missing:
        raise InvalidParameterError(
            f"{method_name}(): {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required",
            parameter=missing[0],
        )
    json_body: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    if op.body_content_type == "application/json":
        if body or op.body_required:
            json_body = body
    elif op.body_content_type is not None:
        form = {key: str(value) for key, value in body.items()}
    return BuiltRequest(
        method=op.method,
        path=path,
        params=params,
        headers=headers,
        json=json_body,
        form=form,
        idempotency_key=idempotency_key,
        operation=(op.operation_id, method_name),
    )
