"""Reliable Python client for the StateSet Voice API.

The public surface, re-exported from small private modules:

- ``ReliableTransport``, ``ReliabilityConfig``, ``call_options``: timeouts, a deadline, safe
  retries, request IDs and idempotency keys, for the generated clients or any httpx client.
- ``RetryBudget``, ``get_retry_budget``: the process-wide retry budget.
- The error hierarchy rooted at ``StateSetVoiceError``.

Example::

    from stateset_voice_wrapper import ReliableTransport, call_options

    transport = ReliableTransport(deadline=30.0, max_retries=2)
"""

from ._budget import RetryBudget, get_retry_budget
from ._errors import (
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
from ._options import CallOptions, ReliabilityConfig, RetryEvent, call_options
from ._transport import ReliableTransport
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AttemptRecord",
    "AuthenticationError",
    "BadRequestError",
    "CallOptions",
    "ConflictError",
    "DuplicateCallInFlightError",
    "FieldError",
    "IdempotencyConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReliabilityConfig",
    "ReliableTransport",
    "RetryBudget",
    "RetryEvent",
    "StateSetVoiceError",
    "UnprocessableEntityError",
    "__version__",
    "call_options",
    "get_retry_budget",
]
