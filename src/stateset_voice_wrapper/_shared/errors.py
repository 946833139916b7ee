"""The error hierarchy of stateset_voice_wrapper.

Every error the package raises on purpose derives from :class:`StateSetVoiceError`::

    StateSetVoiceError
    ├── APIConnectionError              the request did not get an HTTP answer
    │   └── APITimeoutError             ... because a timeout or the deadline ran out
    ├── APIStatusError                  the server answered with a non-2xx status
    │   ├── BadRequestError             400
    │   ├── AuthenticationError         401
    │   ├── PermissionDeniedError       403
    │   ├── NotFoundError               404
    │   ├── ConflictError               409
    │   │   ├── IdempotencyConflictError    the key was used with other parameters (server or ledger)
    │   │   └── DuplicateCallInFlightError  the key is in flight elsewhere (server or ledger)
    │   ├── UnprocessableEntityError    422  (.field_errors)
    │   ├── RateLimitError              429  (.retry_after)
    │   └── InternalServerError         >= 500, and any other unexpected status
    ├── APIResponseValidationError      a 2xx body that does not match the contract
    ├── ConfigurationError (ValueError) a missing or malformed key, an unsafe base URL
    ├── InvalidParameterError (ValueError)  an argument rejected before anything was sent
    ├── StoreError (RuntimeError)       a ledger or dedup store failed or was misused
    ├── CallLimitError                  a call limiter refused; nothing was sent (_storage/errors.py)
    │   ├── ConcurrencyLimitError       ... no permit of the concurrency limit came free
    │   └── CallRateLimitError          ... the request rate limit stayed full (.retry_after)
    ├── OutsideCallingHoursError        the calling window refused a call (.next_allowed_at)
    │   └── UnknownCalleeLocationError  ... because the number's local time cannot be told
    ├── webhooks.InvalidSignatureError (ValueError)  a webhook is not provably authentic
    └── webhooks.InvalidEventError (ValueError)      an authentic body is not a well-formed event

The two idempotency conflicts are one condition wherever it is detected: the ledger raises
them before anything is sent (``status_code`` is then None), and the server's 409 answers
with code ``idempotency_conflict`` or ``idempotency_in_progress`` raise the same classes, so
one ``except IdempotencyConflictError`` catches both.

Every error carries what is needed to correlate and to retry safely: ``request_id`` (the
server's ``x-request-id``), ``client_request_id`` (the ``X-Request-Id`` this client sent on
every attempt), ``idempotency_key`` (reuse it to retry without creating twice) and
``attempts`` (what each attempt got back and how long it waited before it).

Two more attributes say what a failure means for the work: ``may_have_reached_server`` is
False only when the client knows that no attempt reached the server (every attempt failed to
connect, or waited for a pooled connection in vain), so nothing can have been created; and
``not_retried`` says why a request that could otherwise have been retried was not (the
deadline, the retry budget, a one-shot body).

Messages never contain credentials or phone numbers: text from the server or from a lower
layer is redacted first (``_shared/redact.py``). The raw error body stays on ``exc.body``
and may contain personal data.

Example::

    try:
        voice.calls.create(to=..., from_=..., agent_key="front_desk", idempotency_key="appt-42")
    except RateLimitError as exc:
        print(f"retry after {exc.retry_after}s; key {exc.idempotency_key}")
    except APIStatusError as exc:
        print(exc.status_code, exc.code, exc.request_id)
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import attrs

from .redact import mask_phone_numbers, redact
from .untrusted import escape_untrusted

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AttemptRecord",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "DuplicateCallInFlightError",
    "FieldError",
    "IdempotencyConflictError",
    "InternalServerError",
    "InvalidParameterError",
    "NotFoundError",
    "OutsideCallingHoursError",
    "PermissionDeniedError",
    "RateLimitError",
    "StateSetVoiceError",
    "StoreError",
    "UnknownCalleeLocationError",
    "UnprocessableEntityError",
]


@attrs.frozen
class AttemptRecord:
    """What one attempt of a logical call got back.

    ``outcome`` is the HTTP status as a string (``"503"``) or the exception class name
    (``"ConnectTimeout"``); ``waited`` is the backoff slept *before* this attempt, in seconds;
    ``elapsed`` is how long the attempt itself took.
    """

    number: int
    outcome: str
    waited: float
    elapsed: float
    #: The server's request ID, exact; its repr is redacted (the server chooses it).
    request_id: str | None = attrs.field(default=None, repr=lambda v: repr(_shown(v)))


def _shown(value: str | None) -> str | None:
    """Server-chosen text (a code, a request ID) as a message may show it: redacted."""
    return None if value is None else redact(value)


@attrs.frozen
class FieldError:
    """One field-level problem reported by a 400 or 422 response."""

    field: str
    message: str
    code: str | None = None


class StateSetVoiceError(Exception):
    """Root of every error raised by stateset_voice_wrapper. See the module docstring."""

    status_code: int | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        client_request_id: str | None = None,
        idempotency_key: str | None = None,
        attempts: Sequence[AttemptRecord] = (),
        method: str | None = None,
        path: str | None = None,
        may_have_reached_server: bool = True,
        not_retried: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.idempotency_key = idempotency_key
        self.attempts: tuple[AttemptRecord, ...] = tuple(attempts)
        self.method = method
        self.path = path
        #: False only when no attempt can have reached the server (nothing was created).
        self.may_have_reached_server = may_have_reached_server
        #: Why a request that could otherwise have been retried was not, or None.
        self.not_retried = not_retried

    def __str__(self) -> str:
        parts = [self.message]
        if self.not_retried:
            parts.append(f"[not retried: {self.not_retried}]")
        ids = []
        if self.status_code is not None:
            ids.append(f"status={self.status_code}")
        if self.code:
            ids.append(f"code={_shown(self.code)}")
        if self.method and self.path:
            ids.append(f"{self.method} {self.path}")
        if self.request_id:
            ids.append(f"request_id={_shown(self.request_id)}")
        if self.client_request_id:
            ids.append(f"client_request_id={self.client_request_id}")
        if self.idempotency_key:
            # A business key may embed a phone number; the attribute keeps it exact.
            ids.append(f"idempotency_key={mask_phone_numbers(self.idempotency_key)}")
        if len(self.attempts) > 1:
            ids.append(f"attempts={len(self.attempts)}")
        if ids:
            parts.append("(" + ", ".join(ids) + ")")
        # Server-supplied text (a message, a code, a request ID) cannot move a terminal's cursor
        # or forge a log line once printed, nor show a number or a key-shaped word; the
        # attributes keep it exact.
        return escape_untrusted(" ".join(parts))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class APIConnectionError(StateSetVoiceError):
    """The request got no HTTP answer: connection refused, reset, or a truncated body."""


class APITimeoutError(APIConnectionError):
    """A connect/read/write/pool timeout, or the call's total deadline, ran out."""


class APIStatusError(StateSetVoiceError):
    """The server answered with a non-2xx status. ``body`` holds the raw bytes (capped)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        body: bytes = b"",
        field_errors: Sequence[FieldError] = (),
        retry_after: float | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.status_code = status_code
        self.body = body
        self.field_errors: tuple[FieldError, ...] = tuple(field_errors)
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """400: the request is malformed."""


class AuthenticationError(APIStatusError):
    """401: the credential is missing, malformed or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the credential may not act on this resource."""


class NotFoundError(APIStatusError):
    """404: no such resource for this tenant."""


class ConflictError(APIStatusError):
    """409: idempotency key reused with another body, still in progress, or a state conflict."""


class UnprocessableEntityError(APIStatusError):
    """422: validation failed; ``field_errors`` lists each field."""


class RateLimitError(APIStatusError):
    """429: rate limited; ``retry_after`` is the server's requested wait in seconds, if given."""


class InternalServerError(APIStatusError):
    """A 5xx, or any status the contract does not define (such as a proxy's 520)."""


class APIResponseValidationError(StateSetVoiceError):
    """A response whose body does not match the contract (not JSON, or the wrong types).

    ``succeeded`` is true when the answer was a 2xx to a creating request: the resource (a
    phone call) may exist, and ``resource_id`` holds its ID when the body had one. Retry such a
    request only with the same idempotency key.
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, body: bytes = b"", **kwargs: object
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.status_code = status_code
        self.body = body
        self.succeeded = False
        self.resource_id: str | None = None


class IdempotencyConflictError(ConflictError):
    """The idempotency key was already used with different parameters.

    Raised by the ledger before anything is sent (``status_code`` None), and for the server's
    409 ``idempotency_conflict``. Use a new key for new parameters.
    """

    def __init__(self, message: str, *, status_code: int | None = None, **kwargs: object) -> None:
        super().__init__(message, status_code=status_code, **kwargs)  # type: ignore[arg-type]


class DuplicateCallInFlightError(ConflictError):
    """A request with this idempotency key is still being processed elsewhere.

    Raised by the ledger (another worker holds the key; ``status_code`` None) and for the
    server's 409 ``idempotency_in_progress``. Retry later with the same key.
    """

    def __init__(self, message: str, *, status_code: int | None = None, **kwargs: object) -> None:
        super().__init__(message, status_code=status_code, **kwargs)  # type: ignore[arg-type]


class ConfigurationError(StateSetVoiceError, ValueError):
    """A client cannot be built as configured: a missing key or an unsafe base URL."""


class InvalidParameterError(StateSetVoiceError, ValueError):
    """An argument was rejected before anything was sent (including reliability options).

    ``parameter`` names the argument as the caller wrote it (``from_``), when there is one.
    """

    def __init__(self, message: str, *, parameter: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.parameter = parameter


class StoreError(StateSetVoiceError, RuntimeError):
    """A lease store (the ledger's or the webhook consumer's) failed or was used after close."""


class OutsideCallingHoursError(StateSetVoiceError):
    """The client's calling window refused the call; nothing was sent.

    ``next_allowed_at`` is the first instant (UTC) at which the number is inside the window in
    every time zone it may be in, or None when no such instant exists within a year (or, for
    :class:`UnknownCalleeLocationError`, cannot be computed). ``zones`` are the IANA zones
    checked, ``rule`` names the hours that applied (``"default"``, ``"us_states FL"`` ...).
    The number itself is never kept: ``number_hint`` is the package's mask of it (``"+***01"``).
    """

    def __init__(
        self,
        message: str,
        *,
        next_allowed_at: datetime.datetime | None = None,
        zones: Sequence[str] = (),
        rule: str | None = None,
        number_hint: str = "…",
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.next_allowed_at = next_allowed_at
        self.zones: tuple[str, ...] = tuple(zones)
        self.rule = rule
        self.number_hint = number_hint


class UnknownCalleeLocationError(OutsideCallingHoursError):
    """The calling window cannot tell the callee's local time, so it refused the call.

    The number is valid but has no time zone (``zones`` is empty), is a toll-free or other
    service number that rings anywhere, or is a US number whose state a ``us_states`` rule
    needs but the area code table does not know. ``reason`` says which. Allow such numbers
    with ``CallingWindow(unknown="allow")`` or one call with ``ignore_calling_window=True``.
    """

    def __init__(self, message: str, *, reason: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.reason = reason


def _public_module(module: str, *classes: type) -> None:
    """Show ``stateset_voice_wrapper.ConflictError`` in tracebacks, not the private module."""
    for cls in classes:
        cls.__module__ = module


_public_module(
    "stateset_voice_wrapper",
    StateSetVoiceError,
    APIConnectionError,
    APITimeoutError,
    APIStatusError,
    BadRequestError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
    ConflictError,
    IdempotencyConflictError,
    DuplicateCallInFlightError,
    UnprocessableEntityError,
    RateLimitError,
    InternalServerError,
    APIResponseValidationError,
    ConfigurationError,
    InvalidParameterError,
    StoreError,
    OutsideCallingHoursError,
    UnknownCalleeLocationError,
    AttemptRecord,
    FieldError,
)
