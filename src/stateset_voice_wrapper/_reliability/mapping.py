"""The one place where HTTP answers and low-level exceptions become typed errors.

Both functions take the call's identity (IDs, key, attempts) so every error carries it. Bodies
are parsed defensively: an HTML proxy page, a truncated or non-JSON body, or JSON of the wrong
shape still gives a typed error with a readable message, never a JSONDecodeError or KeyError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx

from .._shared.defaults import HEADER_SERVER_REQUEST_ID, MAX_ERROR_BODY
from .._shared.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AttemptRecord,
    FieldError,
    StateSetVoiceError,
    status_error_class,
)
from .options import ResponseInfo

__all__ = [
    "RequestIdentity",
    "connection_error",
    "response_validation_error",
    "status_error",
]


@attrs.frozen
class RequestIdentity:
    """What identifies one logical call in every log line and error."""

    method: str
    path: str
    client_request_id: str
    idempotency_key: str | None

    def error_kwargs(
        self, attempts: Sequence[AttemptRecord], request_id: str | None
    ) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "client_request_id": self.client_request_id,
            "idempotency_key": self.idempotency_key,
            "attempts": attempts,
            "request_id": request_id,
        }


def _decode_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _decoded(headers: httpx.Headers, body: bytes) -> bytes:
    """The body with its Content-Encoding undone.

    The transport keeps the raw bytes (so the response it returns is decoded exactly once, by
    httpx); a gzip-compressed error body must be decompressed before it can be parsed.
    """
    encoding = headers.get("content-encoding")
    if not body or not encoding:
        return body
    try:
        return httpx.Response(200, headers={"content-encoding": encoding}, content=body).content
    except httpx.DecodingError:
        return body


def _describe_body(headers: Mapping[str, str], body: bytes) -> str:
    content_type = headers.get("content-type", "").split(";")[0].strip()
    if not body:
        return "an empty body"
    kind = f"a {content_type} body" if content_type else "a body without a content type"
    return f"{kind} that is not the structured error JSON ({len(body)} bytes)"


def _field_errors(raw: Any) -> list[FieldError]:
    if not isinstance(raw, list):
        return []
    out = []
    for item in raw:
        if isinstance(item, Mapping) and isinstance(item.get("field"), str):
            message = item.get("message")
            code = item.get("code")
            out.append(
                FieldError(
                    field=item["field"],
                    message=message if isinstance(message, str) else "invalid",
                    code=code if isinstance(code, str) else None,
                )
            )
    return out


def status_error(
    *,
    status_code: int,
    headers: httpx.Headers,
    body: bytes,
    identity: RequestIdentity,
    attempts: Sequence[AttemptRecord],
    retry_after: float | None,
) -> APIStatusError:
    """Build the typed error for a final non-2xx answer."""
    request_id = headers.get(HEADER_SERVER_REQUEST_ID)
    body = _decoded(headers, body)
    data = _decode_json(body)
    code: str | None = None
    field_errors: list[FieldError] = []
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        message = data["message"]
        code = data.get("code") if isinstance(data.get("code"), str) else None
        body_request_id = data.get("request_id")
        if request_id is None and isinstance(body_request_id, str):
            request_id = body_request_id
        field_errors = _field_errors(data.get("details"))
        if retry_after is None and isinstance(data.get("retry_after"), int | float):
            retry_after = float(data["retry_after"])
    else:
        reason = httpx.codes.get_reason_phrase(status_code) or "non-standard status"
        message = f"HTTP {status_code} {reason} with {_describe_body(headers, body)}"
    cls = status_error_class(status_code, code)
    return cls(
        message,
        status_code=status_code,
        body=body[:MAX_ERROR_BODY],
        field_errors=field_errors,
        retry_after=retry_after,
        code=code,
        **identity.error_kwargs(attempts, request_id),
    )


def connection_error(
    exc: BaseException,
    *,
    identity: RequestIdentity,
    attempts: Sequence[AttemptRecord],
    request_id: str | None = None,
    note: str = "",
) -> StateSetVoiceError:
    """Build the typed error for an attempt that got no complete HTTP answer."""
    name = type(exc).__name__
    detail = str(exc).strip()
    # httpx messages name hosts and ports, never credentials; keep them but bound their length.
    text = f"{name}: {detail[:200]}" if detail else name
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    message = f"request failed without a complete response ({text})"
    if note:
        message = f"{message}; {note}"
    return cls(message, **identity.error_kwargs(attempts, request_id))


def response_validation_error(
    message: str,
    *,
    response: httpx.Response,
    info: ResponseInfo,
    created: bool,
    resource_id: str | None = None,
) -> APIResponseValidationError:
    """A 2xx answer that cannot be read as the contract says.

    ``created``: the request was a creating POST, so its 2xx means the resource (a phone call)
    may exist now; the message says so and names ``resource_id`` when the body had one, so
    nobody retries it under a new key.
    """
    if created:
        where = f" (id {resource_id})" if resource_id else ""
        message = (
            f"{message}; the request SUCCEEDED (HTTP {response.status_code}), so the resource"
            f"{where} may exist: retry only with the same idempotency key"
        )
    error = APIResponseValidationError(
        message,
        status_code=response.status_code,
        body=response.content[:MAX_ERROR_BODY],
        request_id=info.request_id or response.headers.get(HEADER_SERVER_REQUEST_ID),
        client_request_id=info.client_request_id,
        idempotency_key=info.idempotency_key,
    )
    error.succeeded = created
    error.resource_id = resource_id
    return error
