"""Operations of the contracts, as the typed clients use them: one table built from the facts.

Every typed client method names an operationId; :func:`operation` turns that operation's facts
into what a request needs: where each argument goes (path, query, header or body), the checker
of each argument, and how to read each 2xx answer. :func:`build_request` validates a method's
arguments and builds the request; :func:`parse_response` reads the 2xx answer into the
generated model. Nothing here does I/O, and nothing here is written from the contract by hand:
a new parameter in a regenerated contract is validated and sent as soon as a method accepts it.
"""

from __future__ import annotations

import datetime
import enum
import functools
import importlib
import json
import math
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Final
from urllib.parse import quote

import attrs
import httpx
import stateset_voice_facts as facts

from .._reliability.mapping import response_validation_error
from .._reliability.options import ResponseInfo
from .._shared.defaults import DEFAULT_ITER_PAGE_SIZE
from .._shared.errors import APIResponseValidationError, InvalidParameterError
from .schema import Checker, argument_checker, describe_value, response_checker

__all__ = [
    "CLEAR",
    "BuiltRequest",
    "Clear",
    "Operation",
    "build_request",
    "check_page_size",
    "models",
    "operation",
    "parse_response",
]

#: Deeper nesting than this in an argument is refused (a JSON document, not a recursion bomb).
MAX_ARGUMENT_DEPTH: Final = 32

#: Header parameters the methods take under their own names.
_IDEMPOTENCY_HEADER: Final = "Idempotency-Key"


class Clear(enum.Enum):
    """Type of :data:`CLEAR`."""

    CLEAR = "clear"

    def __repr__(self) -> str:
        return "CLEAR"


#: Pass as a field's value to send JSON ``null`` (clear it), where the contract allows null;
#: ``None`` always means "not sent".
CLEAR: Final = Clear.CLEAR


@functools.cache
def models(api: str) -> ModuleType:
    """The generated models package of ``api`` (``public`` or ``admin``), imported on first use."""
    return importlib.import_module(f"stateset_voice_{api}.models")


@attrs.frozen
class Argument:
    """One parameter or body field: its names, where it goes and its check."""

    name: str
    python_name: str
    location: str  # "path", "query", "header" or "body"
    required: bool
    nullable: bool
    check: Checker


@attrs.frozen
class Success:
    """How to read one 2xx answer."""

    content_type: str | None
    check: Checker | None
    model: str | None  # a generated model name, or None for a bare value


@attrs.frozen
class Operation:
    """An operation of the contracts, ready to build requests for."""

    operation_id: str
    api: str
    method: str
    path: str
    paged: bool
    idempotency_key: bool
    credentials: tuple[tuple[str, str | None], ...]  # (header, scheme)
    arguments: dict[str, Argument]  # by python name
    body_content_type: str | None
    body_required: bool
    success: dict[int, Success]
    #: Lower-cased names of the header parameters (which the caller supplies).
    header_parameters: frozenset[str]
    #: For a paged operation: the ``limit`` bounds (minimum, maximum) and default.
    page_bounds: tuple[int, int, int] | None

    @property
    def creates(self) -> bool:
        """A POST that takes an Idempotency-Key: its 2xx means something now exists."""
        return self.method == "POST" and self.idempotency_key


def _nullable(schema: Mapping[str, Any]) -> bool:
    options = schema.get("anyOf", ()) or schema.get("oneOf", ())
    kind = schema.get("type")
    return (
        any(option.get("type") == "null" for option in options)
        or kind == "null"
        or (isinstance(kind, list) and "null" in kind)
    )


@functools.cache
def operation(operation_id: str) -> Operation:
    """The operation ``operation_id`` of the pinned contracts."""
    op = facts.OPERATIONS[operation_id]
    api = op["api"]
    arguments: dict[str, Argument] = {}
    for param in op["parameters"]:
        arguments[param["python_name"]] = Argument(
            name=param["name"],
            python_name=param["python_name"],
            location=param["location"],
            required=param["required"],
            nullable=_nullable(param["schema"]),
            check=argument_checker(api, param["schema"]),
        )
    body = op["body"]
    if body is not None:
        for field in body["fields"]:
            arguments[field["python_name"]] = Argument(
                name=field["name"],
                python_name=field["python_name"],
                location="body",
                required=field["required"],
                nullable=_nullable(field["schema"]),
                check=argument_checker(api, field["schema"]),
            )
    success = {}
    for status, response in op["responses"].items():
        schema = response["schema"]
        success[status] = Success(
            content_type=response["content_type"],
            check=None if schema is None else response_checker(api, schema),
            model=schema.get("$ref") if schema else None,
        )
    page_bounds = None
    if op["paged"]:
        limit = next(p["schema"] for p in op["parameters"] if p["name"] == "limit")
        page_bounds = (
            limit.get("minimum", 1),
            limit.get("maximum", 2**31),
            limit.get("default", 25),
        )
    return Operation(
        operation_id=operation_id,
        api=api,
        method=op["method"],
        path=op["path"],
        paged=op["paged"],
        idempotency_key=op["idempotency_key"],
        credentials=tuple((s["header"], s["scheme"]) for s in op["security"]),
        arguments=arguments,
        body_content_type=None if body is None else body["content_type"],
        body_required=False if body is None else body["required"],
        success=success,
        header_parameters=frozenset(
            p["name"].lower() for p in op["parameters"] if p["location"] == "header"
        ),
        page_bounds=page_bounds,
    )


def check_page_size(op: Operation, page_size: int | None) -> int:
    """The page size for iterating ``op``: ``page_size`` within the contract's ``limit`` bounds,
    or the larger of the contract's default and the SDK's iteration default."""
    assert op.page_bounds is not None, f"{op.operation_id} is not paged"
    low, high, default = op.page_bounds
    if page_size is None:
        return max(default, min(high, DEFAULT_ITER_PAGE_SIZE))
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not low <= page_size <= high
    ):
        raise InvalidParameterError(
            f"page_size must be an integer from {low} to {high}, got {describe_value(page_size)}"
        )
    return page_size


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


def _check_header_value(value: Any, where: str) -> None:
    """An HTTP header value: visible ASCII with inner spaces, nothing a proxy would trim or
    refuse (a key sent with a trailing space arrives as another key, or not at all)."""
    if not isinstance(value, str):
        raise InvalidParameterError(
            f"{where} must be a string, got {describe_value(value)}", parameter=where
        )
    for position, char in enumerate(value):
        if not (" " <= char <= "~"):
            kind = (
                "a control character"
                if ord(char) < 32 or ord(char) == 127
                else "a non-ASCII character"
            )
            raise InvalidParameterError(
                f"{where} contains {kind} at position {position}: use printable ASCII",
                parameter=where,
            )
    if value != value.strip():
        raise InvalidParameterError(
            f"{where} must not start or end with whitespace", parameter=where
        )


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
            if argument.required and argument.name != _IDEMPOTENCY_HEADER:
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
            _check_header_value(data, name)
            if argument.name == _IDEMPOTENCY_HEADER:
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
    )


def _success(op: Operation, status: int) -> Success | None:
    """How to read ``status``; another 2xx than the contract's is read as the declared one."""
    found = op.success.get(status)
    if found is None and op.success:
        found = next(iter(op.success.values()))
    return found


def _created_id(data: Any) -> str | None:
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key.endswith("_id") and isinstance(value, str) and len(value) <= 128:
                return value
    return None


def parse_response(
    op: Operation, response: httpx.Response, info: ResponseInfo, method_name: str
) -> Any:
    """The 2xx answer as the generated model (a string for text, None for no content).

    A body that cannot be read as the contract says raises :class:`APIResponseValidationError`
    with the IDs; for a creating POST the message says the request succeeded, so the resource
    may exist, and carries its ID when one is readable.
    """
    success = _success(op, response.status_code)
    if success is None or success.content_type is None or response.status_code == 204:
        return None
    if not success.content_type.endswith("json"):
        return response.text
    data: Any = None

    def fail(detail: str) -> APIResponseValidationError:
        return response_validation_error(
            f"{method_name}: {detail}",
            response=response,
            info=info,
            created=op.creates,
            resource_id=_created_id(data),
        )

    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        raise fail("the response body is not JSON") from None
    if success.check is not None:
        try:
            problem = success.check(data, "response")
        except RecursionError:
            problem = "the response body is nested too deeply"
        if problem is not None:
            raise fail(f"the response body does not match the contract ({problem})")
    if success.model is None:
        return data
    model = getattr(models(op.api), success.model)
    try:
        return model.from_dict(data)
    except (KeyError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise fail(
            f"the response body does not match the contract ({type(exc).__name__})"
        ) from None
