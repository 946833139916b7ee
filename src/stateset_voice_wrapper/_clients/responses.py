"""A 2xx answer, read as the contract says: checked for JSON types, then into the generated model.

A body that cannot be read raises :class:`APIResponseValidationError` with the request's IDs;
for a creating POST the message says the request succeeded, so the resource may exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from .._reliability.mapping import response_validation_error
from .._reliability.options import ResponseInfo
from .._shared.errors import APIResponseValidationError
from .operations import Operation, Success, builder, models

__all__ = ["parse_response"]


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
    if success.model is not None:
        build = builder(op.api, success.model)
        if build is not None:  # the check and the model in one pass
            built = build(data)
            if built is not None:
                return built
    if success.check is not None:  # the long way: it explains what the builder refused
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
