"""The one place where HTTP answers and low-level exceptions become typed errors.

Both functions take the call's identity (IDs, key, attempts) so every error carries it. Bodies
are parsed defensively: an HTML proxy page, a truncated or non-JSON body, or JSON of the wrong
shape still gives a typed error with a readable message, never a JSONDecodeError or KeyError.
Every text taken from the server or from a lower layer is redacted (``_shared/redact.py``)
before it becomes part of a message: no credential, no phone number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from .._shared.defaults import HEADER_SERVER_REQUEST_ID, MAX_ERROR_BODY, MAX_RESPONSE_BODY
from .._shared.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AttemptRecord,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DuplicateCallInFlightError,
    FieldError,
    IdempotencyConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StateSetVoiceError,
    UnprocessableEntityError,
)
from .._shared.redact import mask_phone_numbers, redact
from .options import ResponseInfo

__all__ = [
    "BodyProblem",
    "RequestIdentity",
    "connection_error",
    "decode_body",
    "response_validation_error",
    "status_error",
    "status_error_class",
]

#: The error class of each status with a meaning of its own.
_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


#: 409 answers whose error ``code`` names an idempotency condition the ledger detects too.
_CONFLICT_CODES: dict[str, type[APIStatusError]] = {
    "idempotency_conflict": IdempotencyConflictError,
    "idempotency_in_progress": DuplicateCallInFlightError,
}


def status_error_class(status_code: int, code: str | None = None) -> type[APIStatusError]:
    """The error class for a non-2xx status: one subclass per meaning, 5xx and unknowns as server errors."""
    if status_code == 409 and code is not None:
        conflict = _CONFLICT_CODES.get(code)
        if conflict is not None:
            return conflict
    cls = _STATUS_CLASSES.get(status_code)
    if cls is not None:
        return cls
    if 400 <= status_code < 500:
        return APIStatusError
    return InternalServerError


#: Longest server message kept on an error (the raw body keeps everything).
_MAX_MESSAGE = 1000


class RequestIdentity:
    """What identifies one logical call in every log line and error.

    ``path`` is the URL path fit to show (no query string, phone numbers masked). It is
    computed when a log line or an error first needs it: most requests never do, and the
    masking is a regular expression over the path.
    """

    __slots__ = ("_path", "_url", "client_request_id", "idempotency_key", "method")

    def __init__(
        self,
        method: str,
        client_request_id: str,
        idempotency_key: str | None,
        url: httpx.URL | None = None,
        path: str | None = None,
    ) -> None:
        self.method = method
        self.client_request_id = client_request_id
        self.idempotency_key = idempotency_key
        self._url = url
        self._path = path

    @property
    def path(self) -> str:
        if self._path is None:
            self._path = mask_phone_numbers(self._url.path) if self._url is not None else "/"
        return self._path

    def __repr__(self) -> str:
        return (
            f"RequestIdentity(method={self.method!r}, path={self.path!r},"
            f" client_request_id={self.client_request_id!r})"
        )

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


class BodyProblem(StateSetVoiceError):
    """A body that cannot be used: it does not decode, or it is larger than allowed."""


#: Raw bytes fed to the decoder at a time: bounds what one step of a decompression bomb makes.
_DECODE_STEP = 8192


def decode_body(headers: httpx.Headers, body: bytes, *, limit: int = MAX_RESPONSE_BODY) -> bytes:
    """The body with its Content-Encoding undone, at most ``limit`` bytes; else BodyProblem.

    httpx's own decoders do the work (gzip, deflate, and br/zstd where installed), fed in
    small steps so that a few kilobytes that inflate to gigabytes stop at ``limit``.
    """
    encoding = headers.get("content-encoding")
    if not body or not encoding or encoding.strip().lower() == "identity":
        return body
    pieces = (body[i : i + _DECODE_STEP] for i in range(0, len(body), _DECODE_STEP))
    response = httpx.Response(200, headers={"content-encoding": encoding}, stream=_Pieces(pieces))
    out = bytearray()
    try:
        for chunk in response.iter_bytes():
            out += chunk
            if len(out) > limit:
                raise BodyProblem(f"decodes to more than {limit} bytes")
    except httpx.DecodingError as exc:
        raise BodyProblem(f"is not valid {encoding!r} ({type(exc).__name__})") from exc
    return bytes(out)


class _Pieces(httpx.SyncByteStream):
    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces


def _decoded(headers: httpx.Headers, body: bytes) -> bytes:
    """An error body with its Content-Encoding undone, or the raw bytes if it does not decode."""
    try:
        return decode_body(headers, body)
    except BodyProblem:
        return body


def _describe_body(headers: Mapping[str, str], body: bytes) -> str:
    content_type = headers.get("content-type", "").split(";")[0].strip()
    if not body:
        return "an empty body"
    kind = f"a {content_type} body" if content_type else "a body without a content type"
    return f"{kind} that is not the structured error JSON ({len(body)} bytes)"


def _field_errors(raw: Any, secrets: Sequence[str]) -> list[FieldError]:
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
                    message=redact(message, secrets=secrets)[:_MAX_MESSAGE]
                    if isinstance(message, str)
                    else "invalid",
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
    not_retried: str | None = None,
    secrets: Sequence[str] = (),
) -> APIStatusError:
    """Build the typed error for a final non-2xx answer.

    The server's ``message`` (and each field error's) is redacted: a server that echoes the
    numbers of a call (``cannot call +1555... from +1555...``) shows ``+***78`` instead, and
    one that echoes the request's credential (``secrets``, whatever its shape) shows ``***``.
    The raw body stays on ``body``.
    """
    request_id = headers.get(HEADER_SERVER_REQUEST_ID)
    body = _decoded(headers, body)
    data = _decode_json(body)
    code: str | None = None
    field_errors: list[FieldError] = []
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        message = redact(data["message"], secrets=secrets)[:_MAX_MESSAGE]
        code = data.get("code") if isinstance(data.get("code"), str) else None
        body_request_id = data.get("request_id")
        if request_id is None and isinstance(body_request_id, str):
            request_id = body_request_id
        field_errors = _field_errors(data.get("details"), secrets)
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
        not_retried=not_retried,
        **identity.error_kwargs(attempts, request_id),
    )


def connection_error(
    exc: BaseException,
    *,
    identity: RequestIdentity,
    attempts: Sequence[AttemptRecord],
    request_id: str | None = None,
    secrets: Sequence[str] = (),
    may_have_reached_server: bool = True,
    not_retried: str | None = None,
    answered: bool = False,
) -> StateSetVoiceError:
    """Build the typed error for an attempt that got no complete HTTP answer.

    The lower layer's text is kept (httpx names hosts and ports) but redacted: h11 and
    httpcore quote header values, so the request's credential headers (``secrets``), bytes
    literals, bearer tokens, URL userinfo and phone numbers are removed, and it is bounded.
    """
    name = type(exc).__name__
    detail = redact(str(exc).strip(), secrets=secrets)
    text = f"{name}: {detail[:200]}" if detail else name
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    if answered:
        message = f"the response's body did not arrive complete ({text})"
    else:
        message = f"request failed without a complete response ({text})"
    return cls(
        message,
        may_have_reached_server=may_have_reached_server,
        not_retried=not_retried,
        **identity.error_kwargs(attempts, request_id),
    )


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
        attempts=info.attempt_records,
    )
    error.succeeded = created
    error.resource_id = resource_id
    return error
