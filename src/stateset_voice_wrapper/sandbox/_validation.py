"""Validate a request against its contract with openapi-core and describe what is wrong.

Authentication is checked by the app before this runs, so security errors are ignored here.
A malformed request (JSON that does not parse, a parameter of the wrong type, an unsupported
content type) is a 400; a well-formed request that breaks the schema is a 422. Either way the
``details`` list names each field with a dotted path and a message that never echoes the value
(values can be phone numbers).

An empty query value (``?agent_key=``) is checked here against its parameter's schema, not by
openapi-core: openapi-core refuses every empty query value (its issue #1210), which made
``agent_key=`` a 400 "is required" although ``type: string`` allows ``""``. Dropping empty
values instead would be wrong too: ``created_before=`` is not a date-time and ``status=`` is
not one of the statuses. So ``""`` is valid exactly when the schema says so; a valid one is
passed to the operation as it is (``agent_key=`` matches an agent key equal to ``""``: none).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from jsonschema import FormatChecker
from multidict import MultiDict
from openapi_core import OpenAPI
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequestBodyError,
    MissingRequiredParameter,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_schema_validator import OAS31Validator, oas31_format_checker

from ._formats import FORMAT_VALIDATORS
from ._spec import QueryParameter

_E164_PATTERN: Final = "^\\+[1-9][0-9]{6,14}$"
_REQUIRED_RE: Final = re.compile(r"^'(.+)' is a required property$")


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers.update(oas31_format_checker.checkers)
    for name, func in FORMAT_VALIDATORS.items():
        checker.checks(name)(func)
    return checker


_FORMAT_CHECKER: Final = _format_checker()


class ContractRequest:
    """A request in the shape openapi-core reads (its ``Request`` protocol).

    ``host_url`` is the contract's own server URL, so the pinned document is matched as is,
    whatever host and port the sandbox listens on.
    """

    def __init__(
        self,
        *,
        host_url: str,
        method: str,
        path: str,
        query: Mapping[str, Any],
        headers: Mapping[str, str],
        body: bytes | None,
        content_type: str,
    ) -> None:
        self.host_url = host_url
        self.method = method.lower()
        self.path = path
        self.body = body
        self.content_type = content_type
        self.parameters = RequestParameters(query=query, header=headers, cookie={})


@dataclass(frozen=True, slots=True)
class RequestProblem:
    """Why a request was refused: the status, ApiError code, message and field errors."""

    status: int
    code: str
    message: str
    details: list[dict[str, str]] = field(default_factory=list)


def _detail(field_path: str, message: str, code: str) -> dict[str, str]:
    return {"field": field_path or "body", "message": message, "code": code}


def _schema_error_detail(prefix: str, error: Any) -> dict[str, str]:
    """Turn one jsonschema ValidationError into a FieldError without echoing the value."""
    path = [str(p) for p in getattr(error, "absolute_path", [])]
    validator = str(getattr(error, "validator", ""))
    expected = getattr(error, "validator_value", None)
    if validator == "required":
        match = _REQUIRED_RE.match(str(error.message))
        path.append(match.group(1) if match else "?")
        message, code = "is required", "required"
    elif validator == "pattern":
        if expected == _E164_PATTERN:
            message = "must be an E.164 phone number"
        else:
            message = f"must match the pattern {expected}"
        code = "invalid_format"
    elif validator == "format":
        message, code = f"must be a valid {expected}", "invalid_format"
    elif validator == "type":
        message, code = f"must be of type {expected}", "invalid_type"
    elif validator in ("enum", "const"):
        choices = expected if isinstance(expected, list) else [expected]
        message = "must be one of: " + ", ".join(str(c) for c in choices)
        code = "invalid_choice"
    elif validator in ("minLength", "maxLength"):
        bound = "at least" if validator == "minLength" else "at most"
        message, code = f"must be {bound} {expected} characters long", "out_of_range"
    elif validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "greater than or equal to",
            "maximum": "less than or equal to",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }
        message, code = f"must be {words[validator]} {expected}", "out_of_range"
    else:
        message, code = f"fails the {validator} constraint", validator or "invalid"
    full = ".".join(p for p in (prefix, *path) if p)
    return _detail(full, message, code)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    current: BaseException | None = exc
    while current is not None:
        yield current
        current = current.__cause__


def _describe(exc: Exception) -> tuple[bool, list[dict[str, str]]]:
    """Return (malformed?, field errors) for one openapi-core validation error."""
    prefix = ""
    if isinstance(exc, ParameterValidationError):
        prefix = exc.name
    for cause in _causes(exc):
        if isinstance(cause, InvalidSchemaValue):
            return False, [_schema_error_detail(prefix, e) for e in cause.schema_errors]
        if isinstance(cause, CastError):
            return True, [_detail(prefix, f"must be of type {cause.type}", "invalid_type")]
        if isinstance(cause, MediaTypeDeserializeError):
            return True, [_detail("body", "is not valid JSON", "invalid_json")]
        if isinstance(cause, MediaTypeNotFound):
            allowed = ", ".join(cause.availableMimetypes)
            return True, [_detail("body", f"content type must be {allowed}", "unsupported_media")]
    if isinstance(exc, MissingRequestBodyError):
        return False, [_detail("body", "is required", "required")]
    if isinstance(exc, ParameterValidationError):
        return False, [_detail(prefix, "is required", "required")]
    if isinstance(exc, RequestBodyValidationError):
        return True, [_detail("body", str(exc) or "is invalid", "invalid")]
    return True, [_detail("", str(exc) or type(exc).__name__, "invalid")]


def _empty_value_details(param: QueryParameter) -> tuple[bool, list[dict[str, str]]]:
    """Return (malformed?, field errors) for ``param`` sent with an empty value."""
    validator = OAS31Validator(param.schema(), format_checker=_FORMAT_CHECKER)
    malformed = False
    details: list[dict[str, str]] = []
    for error in validator.iter_errors(""):
        if error.validator == "type":
            # What openapi-core says when it cannot cast a value to the parameter's type.
            malformed = True
            details.append(
                _detail(param.name, f"must be of type {error.validator_value}", "invalid_type")
            )
        else:
            details.append(_schema_error_detail(param.name, error))
    return malformed, details


def validate_request(
    validator: OpenAPI,
    request: ContractRequest,
    query_parameters: tuple[QueryParameter, ...] = (),
) -> RequestProblem | None:
    """Validate ``request``; return the problem to answer with, or None when it is valid.

    ``query_parameters`` are the operation's own (``Operation.query_parameters``): their empty
    values are checked here, the rest by openapi-core.
    """
    malformed = False
    details: list[dict[str, str]] = []
    query = request.parameters.query
    checked = {p.name: p for p in query_parameters if query.get(p.name) == ""}
    if checked:
        for param in checked.values():
            is_malformed, found = _empty_value_details(param)
            malformed = malformed or is_malformed
            details.extend(found)
        request.parameters.query = MultiDict(
            (name, value) for name, value in query.items() if name not in checked
        )
    for exc in validator.iter_request_errors(request):
        if isinstance(exc, SecurityValidationError):
            continue
        if isinstance(exc, MissingRequiredParameter) and exc.name in checked:
            continue  # present but empty: judged above
        is_malformed, found = _describe(exc)
        malformed = malformed or is_malformed
        details.extend(found)
    if not details:
        return None
    if malformed:
        message = (
            "Request body is not valid JSON."
            if any(d["code"] == "invalid_json" for d in details)
            else "The request is malformed."
        )
        return RequestProblem(400, "invalid_request", message, details)
    return RequestProblem(422, "validation_failed", "The request failed validation.", details)
