"""Operations of the contracts, as the typed clients use them: one table built from the facts.

Every typed client method names an operationId; :func:`operation` turns that operation's facts
into what a request needs: where each argument goes (path, query, header or body), the checker
of each argument, and how to read each 2xx answer. ``requests.build_request`` validates a
method's arguments and builds the request from it; ``responses.parse_response`` reads the 2xx
answer. Nothing here does I/O, and nothing here is written from the contract by hand: a new
parameter in a regenerated contract is validated and sent as soon as a method accepts it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Final

import attrs

from .._shared.defaults import DEFAULT_ITER_PAGE_SIZE
from .._shared.errors import InvalidParameterError
from .._shared.schema import Checker, argument_checker, describe_value, response_checker
from .methods import CLEAR, Clear

__all__ = [
    "CLEAR",
    "IDEMPOTENCY_HEADER",
    "Argument",
    "Clear",
    "Operation",
    "Success",
    "builder",
    "check_page_size",
    "models",
    "operation",
]

#: Header parameters the methods take under their own names.
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"


@functools.cache
def models(api: str) -> ModuleType:
    """The generated models package of ``api`` (``public`` or ``admin``), imported on first use."""
    return importlib.import_module(f"stateset_voice_{api}.models")


@functools.cache
def builder(api: str, model: str) -> Callable[[Any], Any] | None:
    """The one-pass check-and-build of the generated model ``model`` (see ``fastbuild``), or
    None when the model is read with the check and ``from_dict``. Both generated on first use."""
    import stateset_voice_facts as facts

    from .._shared.fastbuild import fast_builder

    return fast_builder(facts.SCHEMAS[api], model, models(api))


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
    """The operation ``operation_id`` of the pinned contracts (the facts, a large literal
    module, are imported on the first call, not with the client)."""
    import stateset_voice_facts as facts

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
