"""The decisions of one logical request, with no I/O: the sans-IO core of the reliability layer.

A :class:`LogicalRequest` is made once per logical request (one httpx request, however many
attempts it takes). It fixes the request's identity (client request ID, Idempotency-Key), stamps
each attempt (attempt number, timeouts capped at the time left), and after each attempt says
what to do next: return, sleep and retry, or raise. ``transport`` runs it, sync and async.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from .._shared.defaults import HEADER_SERVER_REQUEST_ID, LOGGER_NAME, MAX_RETRY_AFTER
from .._shared.errors import APIResponseValidationError, APITimeoutError, StateSetVoiceError
from .._shared.telemetry import instruments
from .decisions import (
    Decision,
    Outcomes,
    Raise,
    Sleep,
    log_budget_exhausted,
    log_failure,
    log_retry,
    log_success,
)
from .guard import AttemptGuard
from .identity import AnswerHead, credential_values, stamp_attempt, stamp_identity
from .mapping import connection_error, status_error
from .options import ReliabilityConfig, RequestOverrides, ResponseInfo, RetryEvent, publish
from .policy import (
    FailureKind,
    backoff_delay,
    capped_timeouts,
    classify_exception,
    is_idempotent,
    is_retryable,
    phase_timeouts,
    retry_after_seconds,
)
from .telemetry import error_type_of, recorder

__all__ = ["Decision", "LogicalRequest", "Raise", "Sleep"]

logger = logging.getLogger(LOGGER_NAME)


class LogicalRequest:
    """The decisions of one logical request. Pure bookkeeping: the loops do the I/O."""

    def __init__(
        self, config: ReliabilityConfig, request: httpx.Request, options: RequestOverrides | None
    ) -> None:
        self.config = config
        self.request = request
        self.records: tuple[ResponseInfo, ...] = ()
        if options is None:
            self.timeout, self.deadline = config.timeout, config.deadline
            self.max_retries = config.max_retries
        else:
            self.timeout = options.timeout or config.timeout
            self.deadline = options.deadline or config.deadline
            retries = options.max_retries
            self.max_retries = config.max_retries if retries is None else retries
            self.records = options.records
        self.started = config.clock()
        self.expires = None if self.deadline is None else self.started + self.deadline
        identity, key = stamp_identity(config, request, options)
        self.identity = identity
        self.idempotent = is_idempotent(request.method, key)
        #: Spans and metrics of this request, or None (telemetry off: nothing is imported).
        self.telemetry = None
        if (found := instruments(config.telemetry)) is not None:
            cid = identity.client_request_id
            self.telemetry = recorder()(found, request, cid, key, self.deadline, config.clock)
        self._phases = phase_timeouts(self.timeout, request.extensions.get("timeout"))
        self._outcomes = Outcomes()
        self.waited = 0.0
        self.attempt_started = self.started
        self.last_request_id: str | None = None
        #: False once an attempt may have reached the server (see StateSetVoiceError).
        self.nothing_sent = True
        #: The body can be sent again (set by the transport after buffering a one-shot body).
        self.replayable = True

    def _kwargs(self) -> dict[str, Any]:
        kwargs = self.identity.error_kwargs(self._outcomes.records(), self.last_request_id)
        kwargs["may_have_reached_server"] = not self.nothing_sent
        return kwargs

    # -- time -------------------------------------------------------------------------------

    def remaining(self) -> float | None:
        return None if self.expires is None else self.expires - self.config.clock()

    def deadline_error(self, note: str) -> APITimeoutError:
        return APITimeoutError(f"deadline of {self.deadline:g}s exceeded: {note}", **self._kwargs())

    def time_left(self) -> float | None:
        """Seconds left in the request's budget (None: no deadline); raise once it is spent."""
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            if self.telemetry is not None:
                self.telemetry.stopped("deadline_exceeded")
            raise self.deadline_error(f"gave up after {len(self._outcomes)} attempt(s)")
        return remaining

    def check_body_deadline(self, response: httpx.Response) -> None:
        """:meth:`time_left` while a body arrives: the cut attempt is recorded first, with
        the server's request ID, so the error shows what the server had answered."""
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise self._deadline_cut(response, None).error

    def _deadline_cut(self, head: httpx.Response | None, guard: AttemptGuard | None) -> Raise:
        """The deadline ended the attempt in progress: record it and fail with the phase."""
        request_id = head.headers.get(HEADER_SERVER_REQUEST_ID) if head is not None else None
        if head is not None or guard is None or not guard.instrumented or guard.wrote:
            self.nothing_sent = False
        status = head.status_code if head is not None else None
        self._record(
            APITimeoutError.__name__, request_id, status=status, error_type="deadline_exceeded"
        )
        if self.telemetry is not None:
            self.telemetry.stopped("deadline_exceeded")
        if self.records:
            self._publish(status, replayed=False)
        number = len(self._outcomes)
        if head is not None:
            phase = f"the {head.status_code} response's body was still arriving"
        elif self.nothing_sent:
            phase = "the connection was still being set up"
        else:
            phase = "the response head had not arrived"
        error = self.deadline_error(f"{phase} (attempt {number})")
        return self._fail(APITimeoutError.__name__, error)

    # -- attempts ---------------------------------------------------------------------------

    def prepare(self) -> AttemptGuard:
        """Stamp the next attempt (``self.request``, sent again on each attempt): its number
        and its timeouts, capped at the time left; return the attempt's hard bound, that time
        left on the real clock (``time.monotonic``), for the deadline guard below httpcore."""
        now = self.config.clock()
        expires = self.expires
        remaining = None if expires is None else expires - now
        if remaining is not None and remaining <= 0:
            remaining = self.time_left()  # raises (unless the clock went back: its new reading)
        request = self.request
        if self._outcomes:  # the first attempt's number is stamped with the identity
            stamp_attempt(request.headers, len(self._outcomes) + 1)
        request.extensions["timeout"] = capped_timeouts(self._phases, remaining)
        self.attempt_started = now
        return AttemptGuard(None if remaining is None else time.monotonic() + remaining)

    def _record(
        self,
        outcome: str,
        request_id: str | None,
        *,
        status: int | None = None,
        error_type: str | None = None,
    ) -> None:
        if self.telemetry is not None:
            self.telemetry.attempt_ended(status, error_type, request_id)
        if request_id:
            self.last_request_id = request_id
        self._outcomes.add(
            outcome, self.waited, self.config.clock() - self.attempt_started, request_id
        )

    def _publish(self, status: int | None, *, replayed: bool) -> None:
        publish(
            self.records,
            request_id=self.last_request_id,
            client_request_id=self.identity.client_request_id,
            idempotency_key=self.identity.idempotency_key,
            status_code=status,
            replayed=replayed,
            attempt_records=tuple(self._outcomes.records()),
        )

    def on_response(
        self, response: httpx.Response, body: bytes, head: AnswerHead | None = None
    ) -> Decision:
        status = response.status_code
        headers = response.headers
        if head is None:
            head = AnswerHead(headers)
        self.nothing_sent = False
        success = 200 <= status < 300
        html = success and head.html
        if success and not html and not self.records and not logger.isEnabledFor(logging.DEBUG):
            # The request ends here, returned, and nothing will read the attempts' records
            # (no ResponseInfo, no log line): only the span and the server's ID are kept.
            request_id = head.request_id
            if request_id:
                self.last_request_id = request_id
            if self.telemetry is not None:
                self.telemetry.attempt_ended(status, None, request_id)
            self.config.budget.record_success()
            return response
        if status >= 400:
            error_type: str | None = str(status)
        else:
            error_type = "invalid_body" if html else None
        self._record(str(status), head.request_id, status=status, error_type=error_type)
        if self.records:
            self._publish(status, replayed=head.replayed)
        if success:
            self.config.budget.record_success()
            if html:
                message = (
                    f"HTTP {status} answered with an HTML page instead of the API's response"
                    f" ({len(body)} bytes); a proxy or captive portal is probably in the way"
                )
                return Raise(self._invalid(status, body, message))
            if logger.isEnabledFor(logging.DEBUG):
                log_success(
                    self.identity,
                    status,
                    self.config.clock() - self.started,
                    len(self._outcomes),
                    self.last_request_id,
                )
            return response
        retry_after = retry_after_seconds(headers, now=self.config.wall_clock())

        def final(not_retried: str | None = None) -> StateSetVoiceError:
            return status_error(
                status_code=status,
                headers=headers,
                body=body,
                identity=self.identity,
                attempts=self._outcomes.records(),
                retry_after=retry_after,
                not_retried=not_retried,
                secrets=credential_values(self.request),
            )

        if not is_retryable(idempotent=self.idempotent, status_code=status):
            return self._fail(str(status), final())
        return self._schedule_retry(
            str(status), timeout=False, retry_after=retry_after, final=final
        )

    def on_exception(
        self,
        exc: BaseException,
        *,
        guard: AttemptGuard | None = None,
        head: httpx.Response | None = None,
        deadline_cut: bool = False,
    ) -> Decision:
        """Decide after an attempt that ended in ``exc``; ``head`` is the response whose body
        was being read, if any; ``deadline_cut`` says the deadline stopped the attempt."""
        remaining = self.remaining()
        if (
            deadline_cut
            or (guard is not None and guard.deadline_hit)
            or (
                isinstance(exc, httpx.TimeoutException) and remaining is not None and remaining <= 0
            )
        ):
            return self._deadline_cut(head, guard)
        name = type(exc).__name__
        kind = classify_exception(exc)
        sent = head is not None or kind is not FailureKind.NOT_SENT
        if guard is not None and guard.instrumented and not guard.wrote and head is None:
            sent = False  # the socket never got a byte of this request
            if kind is FailureKind.MAYBE_SENT:
                kind = FailureKind.NOT_SENT
        if sent:
            self.nothing_sent = False
        self._record(
            name,
            head.headers.get(HEADER_SERVER_REQUEST_ID) if head else None,
            status=head.status_code if head else None,
            error_type=None if self.telemetry is None else error_type_of(exc),
        )
        if self.records:
            self._publish(None, replayed=False)

        def final(not_retried: str | None = None) -> StateSetVoiceError:
            return connection_error(
                exc,
                identity=self.identity,
                attempts=self._outcomes.records(),
                request_id=self.last_request_id,
                secrets=credential_values(self.request),
                may_have_reached_server=not self.nothing_sent,
                not_retried=not_retried,
                answered=head is not None,
            )

        if kind is FailureKind.FATAL:
            return self._fail(name, final(), exc)
        if not is_retryable(idempotent=self.idempotent, failure=kind):
            note = "the request may have reached the server and carries no Idempotency-Key"
            return self._fail(name, final(note), exc)
        return self._schedule_retry(
            name,
            timeout=isinstance(exc, httpx.TimeoutException),
            pool_wait=isinstance(exc, httpx.PoolTimeout),
            retry_after=None,
            final=final,
            cause=exc,
        )

    def _schedule_retry(
        self,
        outcome: str,
        *,
        timeout: bool,
        retry_after: float | None,
        final: Callable[[str | None], StateSetVoiceError],
        cause: BaseException | None = None,
        pool_wait: bool = False,
    ) -> Decision:
        retries_done = len(self._outcomes) - 1
        if retries_done >= self.max_retries:
            return self._fail(outcome, final(None), cause)
        if not self.replayable and not self.nothing_sent:
            note = "the request body was a one-shot stream that could not be sent again"
            return self._fail(outcome, final(note), cause)
        if retry_after is not None:
            delay = retry_after if self.expires is not None else min(retry_after, MAX_RETRY_AFTER)
        else:
            delay = backoff_delay(
                retries_done + 1,
                base=self.config.backoff_base,
                cap=self.config.backoff_cap,
                random=self.config.random,
            )
        remaining = self.remaining()
        if remaining is not None and delay >= remaining:
            # The answer (or failure) this attempt got is the truth to report: a 429 stays a
            # RateLimitError with its retry_after, noting that the deadline forbade the wait.
            why = "Retry-After" if retry_after is not None else "backoff"
            note = (
                f"the deadline of {self.deadline:g}s leaves {max(remaining, 0):.2f}s,"
                f" less than the {delay:.2f}s {why} wait"
            )
            if self.telemetry is not None:
                self.telemetry.stopped("deadline_exceeded")
            return self._fail(outcome, final(note), cause)
        if not self.config.budget.try_acquire(timeout=timeout, pool_wait=pool_wait):
            if self.telemetry is not None:
                self.telemetry.stopped("retry_budget_exhausted")
            log_budget_exhausted(self.identity, outcome, self.last_request_id)
            return Raise(final("the process-wide retry budget is exhausted"), cause)
        event = RetryEvent(
            method=self.identity.method,
            path=self.identity.path,
            attempt=len(self._outcomes),
            outcome=outcome,
            delay=delay,
            client_request_id=self.identity.client_request_id,
            request_id=self.last_request_id,
            idempotency_key=self.identity.idempotency_key,
        )
        log_retry(event)
        if self.config.on_retry is not None:
            self.config.on_retry(event)
        if self.telemetry is not None:
            self.telemetry.retry_scheduled(delay, retry_after)
        self.waited = delay
        return Sleep(delay)

    def _fail(
        self, outcome: str, error: StateSetVoiceError, cause: BaseException | None = None
    ) -> Raise:
        log_failure(self.identity, len(self._outcomes), outcome, self.last_request_id)
        return Raise(error, cause)

    def _invalid(self, status: int, body: bytes, message: str) -> APIResponseValidationError:
        return APIResponseValidationError(
            message, status_code=status, body=body[:2048], **self._kwargs()
        )

    def body_error(self, response: httpx.Response, body: bytes, problem: str) -> Raise:
        """A 2xx (or error) answer whose body cannot be used: a validation error, not retried."""
        self.nothing_sent = False
        self._record(
            str(response.status_code),
            response.headers.get(HEADER_SERVER_REQUEST_ID),
            status=response.status_code,
            error_type="invalid_body",
        )
        if self.records:
            self._publish(response.status_code, replayed=False)
        status = response.status_code
        error = self._invalid(status, body, f"HTTP {status} answer's body {problem}")
        return self._fail(str(status), error)
