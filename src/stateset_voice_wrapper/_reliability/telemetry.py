"""What the reliability layer records about a request, decided without OpenTelemetry.

``LogicalRequest`` asks ``instruments()`` once per logical request whether telemetry is on for
it (when it is off, nothing of OpenTelemetry is ever imported), and only then builds its
recorder, a :class:`~.spans.RequestTelemetry` (the class :func:`recorder` imports). The rest is
pure: which contract operation a request is (:func:`resolve_operation`, from the facts' path
templates), what ``error.type`` an attempt gets, and what a span may show of an idempotency key.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import TYPE_CHECKING, Final

import httpx

if TYPE_CHECKING:
    from .spans import RequestTelemetry

__all__ = [
    "OPERATION_EXTENSION",
    "error_type_of",
    "key_digest",
    "recorder",
    "resolve_operation",
]

#: The request extension a typed client sets: ``(operation_id, client method name)``.
OPERATION_EXTENSION: Final = "stateset_voice.operation"


@functools.cache
def recorder() -> type[RequestTelemetry]:
    """``spans.RequestTelemetry``, the recorder of one logical request, imported with the
    first request that has telemetry on: the caller asks :func:`instruments` first, and when it
    finds none nothing here runs (an import statement made per request would run the import
    machinery every time)."""
    from .spans import RequestTelemetry

    return RequestTelemetry


def key_digest(key: str) -> str:
    """What spans show of an idempotency key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@functools.cache
def _routes() -> dict[str, tuple[str, str, re.Pattern[str]]]:
    """operationId -> (method, path template, a pattern capturing a base URL's prefix)."""
    import stateset_voice_facts as facts

    routes = {}
    for operation_id, op in facts.OPERATIONS.items():
        template = op["path"]
        body = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template))
        routes[operation_id] = (op["method"], template, re.compile(f"(.*?){body}/?"))
    return routes


def resolve_operation(request: httpx.Request) -> tuple[str | None, str | None, str | None]:
    """(operationId, client method, ``url.template``) of a request; Nones when unknown.

    A typed client names its operation in the request's extensions; any other request (a
    generated client's) is matched against the contract's path templates. A base URL's path
    prefix (a proxy's ``/voice``) is kept in the template.
    """
    named = request.extensions.get(OPERATION_EXTENSION)
    path = request.url.path
    routes = _routes()
    if named is not None:
        operation_id, method_name = named
        route = routes.get(operation_id)
        if route is not None:
            found = route[2].fullmatch(path)
            if found is not None:
                return operation_id, method_name, found.group(1) + route[1]
        return operation_id, method_name, None
    by_method = _routes_by_method().get(request.method)
    if by_method is not None:
        pattern, names = by_method
        found = pattern.fullmatch(path)
        if found is not None and found.lastindex is not None:
            operation_id, template = names[found.lastindex - 1]
            return operation_id, None, found.group(found.lastindex) + template
    return None, None, None


@functools.cache
def _routes_by_method() -> dict[str, tuple[re.Pattern[str], list[tuple[str, str]]]]:
    """method -> one pattern trying each of its routes in the contract's order (a regular
    expression's alternatives are tried in order, so the first route that matches wins, as
    a loop over the routes would find it), and the (operationId, template) of each.

    Every route's pattern has one group (the base URL's prefix), so the number of the group
    that took part in the match names the route.
    """
    grouped: dict[str, list[tuple[str, str, str]]] = {}
    for operation_id, (method, template, pattern) in _routes().items():
        grouped.setdefault(method, []).append((operation_id, template, pattern.pattern))
    return {
        method: (
            re.compile("|".join(f"(?:{source})" for _, _, source in entries)),
            [(operation_id, template) for operation_id, template, _ in entries],
        )
        for method, entries in grouped.items()
    }


def error_type_of(exc: BaseException) -> str:
    """``error.type`` for an attempt that raised: ``timeout``, else the exception's class."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    cls = type(exc)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
