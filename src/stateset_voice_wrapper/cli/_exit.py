"""Exit codes of ``stateset-voice`` and how an exception maps to one.

Each code names a different thing for a script to do next, so a pipeline can branch on it
without parsing messages: fix the input (4), fix the credentials (5), retry later (8, 9, 10),
look at the contracts (13, 14), and so on.
"""

from __future__ import annotations

import enum
from typing import Any

from .._shared.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    DuplicateCallInFlightError,
    IdempotencyConflictError,
    InternalServerError,
    InvalidParameterError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StateSetVoiceError,
    UnprocessableEntityError,
)


class ExitCode(enum.IntEnum):
    """Process exit status of every ``stateset-voice`` command."""

    OK = 0
    ERROR = 1
    """An unexpected failure (a bug): the message says what happened."""
    USAGE = 2
    """The command line could not be parsed."""
    CONFIGURATION = 3
    """A missing key, an unsafe base URL or a missing optional extra."""
    INVALID_INPUT = 4
    """An argument was rejected, by the client before sending or by the API (400, 422)."""
    AUTHENTICATION = 5
    """The key was refused (401) or lacks permission (403)."""
    NOT_FOUND = 6
    """The resource does not exist (404)."""
    CONFLICT = 7
    """409, an idempotency key reused with other parameters, or a create in flight elsewhere."""
    RATE_LIMITED = 8
    """Still 429 after the retries."""
    SERVER_ERROR = 9
    """Still 5xx after the retries."""
    CONNECTION = 10
    """The API could not be reached, or the deadline passed."""
    BAD_RESPONSE = 11
    """The API answered something the contract does not allow."""
    INVALID_WEBHOOK = 12
    """``webhooks verify``: the signature or the event is not valid."""
    CONTRACT_DRIFT = 13
    """``contracts check``: the live contracts differ from the pinned ones."""
    CONTRACT_FETCH = 14
    """``contracts check``: a contract could not be downloaded, was refused (an unsafe URL, a
    redirect to another origin, too large, too slow) or is not an OpenAPI document."""
    GATE_BLOCKED = 15
    """``admin rollout sweep --check``: the decision was not ``promote``."""
    STILL_RUNNING = 16
    """``calls create --wait``: the call had not ended when ``--wait-timeout`` ran out."""
    DEPRECATED = 17
    """A deprecated command that no longer does its work (``contracts fetch``); the message
    names what replaces it."""
    # ``launch-check``: one code per gate, most basic first. When several gates fail the
    # lowest code is the exit status (every failed gate is in the report).
    LAUNCH_DUPLICATES = 20
    """``launch-check``: a business key has more than one outbound call."""
    LAUNCH_FINAL_STATUS = 21
    """``launch-check``: a call did not reach a final status within ``--wait-timeout``."""
    LAUNCH_WEBHOOK_DELIVERY = 22
    """``launch-check``: a call that ended had no final event delivered."""
    LAUNCH_SIGNATURES = 23
    """``launch-check``: the share of deliveries whose signature verified is below the gate."""
    LAUNCH_SYNTHETIC_CALLS = 24
    """``launch-check``: fewer synthetic calls completed than the gate needs."""
    LAUNCH_INTENTS = 25
    """``launch-check``: a supported intent's calls did not reach its expected outcome."""
    LAUNCH_SWEEP_DISAGREES = 26
    """``launch-check``: the server's dry-run rollout sweep disagrees with the measurement."""
    INTERRUPTED = 130
    """Ctrl-C."""


_BY_CLASS: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ConfigurationError, ExitCode.CONFIGURATION),
    (InvalidParameterError, ExitCode.INVALID_INPUT),
    (BadRequestError, ExitCode.INVALID_INPUT),
    (UnprocessableEntityError, ExitCode.INVALID_INPUT),
    (AuthenticationError, ExitCode.AUTHENTICATION),
    (PermissionDeniedError, ExitCode.AUTHENTICATION),
    (NotFoundError, ExitCode.NOT_FOUND),
    (ConflictError, ExitCode.CONFLICT),
    (IdempotencyConflictError, ExitCode.CONFLICT),
    (DuplicateCallInFlightError, ExitCode.CONFLICT),
    (RateLimitError, ExitCode.RATE_LIMITED),
    (InternalServerError, ExitCode.SERVER_ERROR),
    (APIConnectionError, ExitCode.CONNECTION),
    (APIResponseValidationError, ExitCode.BAD_RESPONSE),
)


#: ``launch-check``'s gate -> its exit code (the gates' order in the report is the codes').
LAUNCH_GATE_CODES: dict[str, ExitCode] = {
    "duplicate_outbound_calls": ExitCode.LAUNCH_DUPLICATES,
    "final_status": ExitCode.LAUNCH_FINAL_STATUS,
    "webhook_delivery": ExitCode.LAUNCH_WEBHOOK_DELIVERY,
    "signature_verification": ExitCode.LAUNCH_SIGNATURES,
    "synthetic_calls": ExitCode.LAUNCH_SYNTHETIC_CALLS,
    "intents": ExitCode.LAUNCH_INTENTS,
    "sweep_agreement": ExitCode.LAUNCH_SWEEP_DISAGREES,
}


def exit_code_for(exc: StateSetVoiceError) -> ExitCode:
    """The exit code of an error raised by the client library."""
    for cls, code in _BY_CLASS:
        if isinstance(exc, cls):
            return code
    if isinstance(exc, APIStatusError):
        status = exc.status_code or 0
        return ExitCode.SERVER_ERROR if status >= 500 else ExitCode.BAD_RESPONSE
    return ExitCode.ERROR


_HINTS: dict[ExitCode, str] = {
    ExitCode.AUTHENTICATION: "check STATESET_VOICE_API_KEY (runtime commands) or "
    "STATESET_VOICE_ADMIN_API_KEY (admin commands), and STATESET_VOICE_BASE_URL",
    ExitCode.CONNECTION: "check STATESET_VOICE_BASE_URL and the network; raise --deadline "
    "for slow links",
    ExitCode.RATE_LIMITED: "wait and run the command again",
    ExitCode.SERVER_ERROR: "run the command again later; quote the request_id to support",
    ExitCode.CONFLICT: "an idempotency key is single-use per request body: pass the same "
    "parameters, or a new key for a new call",
}


def hint_for(code: ExitCode) -> str | None:
    """One line telling a person what to try, for codes where there is something to try."""
    return _HINTS.get(code)


def error_document(exc: BaseException, code: ExitCode) -> dict[str, Any]:
    """The JSON written to stderr for an error when the output format is JSON."""
    error: dict[str, Any] = {
        "type": getattr(exc, "kind", None) or type(exc).__name__,
        "message": getattr(exc, "message", None) or str(exc),
        "exit_code": int(code),
    }
    if isinstance(exc, StateSetVoiceError):
        error.update(
            status=exc.status_code,
            code=exc.code,
            request_id=exc.request_id,
            client_request_id=exc.client_request_id,
            idempotency_key=exc.idempotency_key,
            attempts=len(exc.attempts) or None,
        )
    return {"error": {name: value for name, value in error.items() if value is not None}}
