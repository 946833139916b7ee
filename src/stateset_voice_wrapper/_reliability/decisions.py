"""What a logical request decides after an attempt, and the log lines that go with it.

``LogicalRequest`` decides one of three after each attempt: return the answer (the
``httpx.Response`` itself is that decision), :class:`Sleep` then retry, or :class:`Raise`; the
transport's loops act on it. The log lines say what was decided, naming the
request by its method, its shown path (masked, computed only here) and both request IDs.
"""

from __future__ import annotations

import logging

import httpx

from .._shared.defaults import LOGGER_NAME
from .._shared.errors import AttemptRecord, StateSetVoiceError
from .._shared.redact import redact
from .._shared.untrusted import escape_untrusted
from .mapping import RequestIdentity
from .options import RetryEvent

__all__ = [
    "Decision",
    "Outcomes",
    "Raise",
    "Sleep",
    "log_budget_exhausted",
    "log_failure",
    "log_retry",
    "log_success",
]

logger = logging.getLogger(LOGGER_NAME)

# The decisions are plain slotted classes (attrs' frozen __init__, an object.__setattr__ per
# field, costs more than the decision itself); the commonest one, returning the answer, is
# the response itself, so a request that succeeds at once makes no decision object at all.


class Sleep:
    __slots__ = ("delay",)

    def __init__(self, delay: float) -> None:
        self.delay = delay


class Raise:
    __slots__ = ("cause", "error")

    def __init__(self, error: StateSetVoiceError, cause: BaseException | None = None) -> None:
        self.error = error
        self.cause = cause


#: Return the answer (the response itself), sleep and retry, or raise.
Decision = httpx.Response | Sleep | Raise


class Outcomes(list[tuple[str, float, float, str | None]]):
    """What each attempt of a logical request got back, kept as plain tuples in the list
    itself (its length and truth cost no Python call); the :class:`AttemptRecord` objects
    errors and ``ResponseInfo`` carry are made when first asked for (a request that succeeds
    with nobody reading its records never makes them)."""

    __slots__ = ("_made",)
    _made: list[AttemptRecord]

    def add(self, outcome: str, waited: float, elapsed: float, request_id: str | None) -> None:
        self.append((outcome, waited, elapsed, request_id))

    def records(self) -> list[AttemptRecord]:
        try:
            made = self._made
        except AttributeError:
            made = []
            self._made = made
        for number in range(len(made), len(self)):
            outcome, waited, elapsed, request_id = self[number]
            made.append(
                AttemptRecord(
                    number=number + 1,
                    outcome=outcome,
                    waited=waited,
                    elapsed=elapsed,
                    request_id=request_id,
                )
            )
        return made


def _shown(value: str | None) -> str | None:
    """A server-supplied value as a log line may show it: redacted (numbers, key-shaped
    words), then escaped by the one output policy."""
    return None if value is None else escape_untrusted(redact(value), max_length=200)


def log_success(
    identity: RequestIdentity,
    status: int,
    elapsed: float,
    attempts: int,
    request_id: str | None,
) -> None:
    logger.debug(
        "%s %s -> %d in %.3fs (attempts=%d client_request_id=%s request_id=%s)",
        identity.method,
        identity.path,
        status,
        elapsed,
        attempts,
        identity.client_request_id,
        _shown(request_id),
    )


def log_retry(event: RetryEvent) -> None:
    logger.warning(
        "%s %s: attempt %d got %s; retrying in %.3fs (client_request_id=%s request_id=%s)",
        event.method,
        event.path,
        event.attempt,
        event.outcome,
        event.delay,
        event.client_request_id,
        _shown(event.request_id),
    )


def log_budget_exhausted(identity: RequestIdentity, outcome: str, request_id: str | None) -> None:
    logger.warning(
        "%s %s: retry budget exhausted after %s; failing fast (client_request_id=%s request_id=%s)",
        identity.method,
        identity.path,
        outcome,
        identity.client_request_id,
        _shown(request_id),
    )


def log_failure(
    identity: RequestIdentity, attempts: int, outcome: str, request_id: str | None
) -> None:
    logger.warning(
        "%s %s: failed after %d attempt(s), last %s (client_request_id=%s request_id=%s)",
        identity.method,
        identity.path,
        attempts,
        outcome,
        identity.client_request_id,
        _shown(request_id),
    )
