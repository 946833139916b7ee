"""Reliable Python client for the StateSet Voice API.

The public surface, re-exported from small private modules:

- ``ReliableTransport``, ``ReliabilityConfig``, ``request_options``, ``response_info``:
  timeouts, a deadline, safe retries, request IDs and idempotency keys, for the generated
  clients or any httpx client.
- ``RetryBudget``, ``get_retry_budget``: the process-wide retry budget.
- ``VoiceClient`` / ``AsyncVoiceClient`` (tenant runtime) and ``AdminClient`` /
  ``AsyncAdminClient`` (admin automation): typed methods for every operation, lazy pagination.
- ``SqliteLedger``, ``RedisLedger``: business idempotency that blocks duplicate outbound calls
  (with the lease and dedup stores in :mod:`stateset_voice_wrapper.stores`).
- ``RedisCallLimiter``, ``InProcessCallLimiter``: concurrent-call and request-rate limits shared
  by every worker (``VoiceClient(call_limiter=...)``); see ``docs/fleet-limits.md``.
- ``CallingWindow``, ``CallingRule``: refuse outbound calls outside the callee's local hours
  (the ``[compliance]`` extra).
- The error hierarchy rooted at ``StateSetVoiceError``.
- ``configure_telemetry``: OpenTelemetry spans and metrics (the ``[otel]`` extra); see
  ``docs/observability.md``. ``STATESET_VOICE_LOG=debug|info|warning|error`` prints the
  ``stateset_voice`` logger to stderr.

Example::

    from stateset_voice_wrapper import ReliableTransport, request_options

    transport = ReliableTransport(deadline=30.0, max_retries=2)
"""

import importlib
import logging
from typing import TYPE_CHECKING, Any

from ._clients.methods import CLEAR, Clear
from ._clients.pagination import Page
from ._clients.raw import RawResponse, raw_response
from ._reliability.budget import RetryBudget, get_retry_budget
from ._reliability.options import (
    ReliabilityConfig,
    RequestOptions,
    RequestOverrides,
    ResponseInfo,
    RetryEvent,
    request_options,
    response_info,
)
from ._reliability.transport import ReliableTransport
from ._shared.defaults import ENV_LOG as _ENV_LOG
from ._shared.defaults import LOGGER_NAME as _LOGGER_NAME
from ._shared.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AttemptRecord,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    DuplicateCallInFlightError,
    FieldError,
    IdempotencyConflictError,
    InternalServerError,
    InvalidParameterError,
    NotFoundError,
    OutsideCallingHoursError,
    PermissionDeniedError,
    RateLimitError,
    StateSetVoiceError,
    StoreError,
    UnknownCalleeLocationError,
    UnprocessableEntityError,
)
from ._shared.telemetry import configure_telemetry
from ._storage.errors import CallLimitError, CallRateLimitError, ConcurrencyLimitError
from ._version import __version__

# A library logs but never decides where logs go: without this, Python's last-resort handler
# would print our retry warnings to stderr in applications that configured no logging.
logging.getLogger(_LOGGER_NAME).addHandler(logging.NullHandler())


def _log_from_environment() -> None:
    """``STATESET_VOICE_LOG=debug|info|warning|error``: one stderr handler at that level, added
    at import (as ``OPENAI_LOG`` does), so it covers every client and the webhook helpers. An
    unset or unknown value leaves the logger silent."""
    import os

    level = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}.get(
        os.environ.get(_ENV_LOG, "").strip().lower()
    )
    if os.environ.get(_ENV_LOG, "").strip().lower() == "error":
        level = logging.ERROR
    if level is None:
        return
    logger = logging.getLogger(_LOGGER_NAME)
    if any(getattr(h, "_stateset_voice_env", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()  # stderr
    handler.setFormatter(
        logging.Formatter("[%(asctime)s - %(name)s:%(lineno)d - %(levelname)s] %(message)s")
    )
    handler._stateset_voice_env = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)


_log_from_environment()

if TYPE_CHECKING:
    from ._clients._async.admin import AsyncAdminClient
    from ._clients._async.runtime import AsyncVoiceClient
    from ._clients._sync.admin import AdminClient
    from ._clients._sync.runtime import VoiceClient
    from ._clients.calling_hours import CallingRule, CallingWindow
    from ._storage.call_limiters import InProcessCallLimiter, RedisCallLimiter
    from ._storage.ledger import IdempotencyLedger, RedisLedger, SqliteLedger
    from ._storage.limiter import CallLimiter

# The clients and ledgers load on first use: `import stateset_voice_wrapper` stays cheap for
# code that only needs the transport or the errors.
_LAZY = {
    "AsyncAdminClient": "._clients._async.admin",
    "AsyncVoiceClient": "._clients._async.runtime",
    "AdminClient": "._clients._sync.admin",
    "VoiceClient": "._clients._sync.runtime",
    "CallingRule": "._clients.calling_hours",
    "CallingWindow": "._clients.calling_hours",
    "IdempotencyLedger": "._storage.ledger",
    "CallLimiter": "._storage.limiter",
    "InProcessCallLimiter": "._storage.call_limiters",
    "RedisCallLimiter": "._storage.call_limiters",
    "RedisLedger": "._storage.ledger",
    "SqliteLedger": "._storage.ledger",
}


#: Old public names: each still works, warns, and goes at 1.0 (see CHANGELOG.md).
_DEPRECATED = {
    "CallOptions": ("RequestOverrides", RequestOverrides),
    "CallRecord": ("ResponseInfo", ResponseInfo),
    "call_options": ("request_options", request_options),
}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        import warnings

        replacement, value = _DEPRECATED[name]
        warnings.warn(
            f"stateset_voice_wrapper.{name} is deprecated; use {replacement} (removed in 1.0)",
            DeprecationWarning,
            stacklevel=2,
        )
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CLEAR",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AdminClient",
    "AsyncAdminClient",
    "AsyncVoiceClient",
    "AttemptRecord",
    "AuthenticationError",
    "BadRequestError",
    "CallLimitError",
    "CallLimiter",
    "CallRateLimitError",
    "CallingRule",
    "CallingWindow",
    "Clear",
    "ConcurrencyLimitError",
    "ConfigurationError",
    "ConflictError",
    "DuplicateCallInFlightError",
    "FieldError",
    "IdempotencyConflictError",
    "IdempotencyLedger",
    "InProcessCallLimiter",
    "InternalServerError",
    "InvalidParameterError",
    "NotFoundError",
    "OutsideCallingHoursError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "RedisCallLimiter",
    "RedisLedger",
    "ReliabilityConfig",
    "ReliableTransport",
    "RequestOptions",
    "RequestOverrides",
    "ResponseInfo",
    "RetryBudget",
    "RetryEvent",
    "SqliteLedger",
    "StateSetVoiceError",
    "StoreError",
    "UnknownCalleeLocationError",
    "UnprocessableEntityError",
    "VoiceClient",
    "__version__",
    "configure_telemetry",
    "get_retry_budget",
    "raw_response",
    "request_options",
    "response_info",
]
