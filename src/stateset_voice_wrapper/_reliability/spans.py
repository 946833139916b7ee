"""The spans and HTTP metrics of one logical request (imported only when telemetry is on).

One INTERNAL span per logical request, ``stateset_voice <method>`` (``stateset_voice
calls.create``), and one CLIENT span per attempt under it, named ``{method} {url.template}``
after OpenTelemetry's stable HTTP semantic conventions with the contract's path template
(``POST /api/v1/make-call``), never the raw path. Each attempt also records
``http.client.request.duration``; each logical request records
``stateset_voice.client.operation.duration``. Retries are events on the INTERNAL span.

While an attempt runs, its context carries OpenTelemetry's "suppress HTTP instrumentation"
key, so opentelemetry-instrumentation-httpx (which wraps the inner ``HTTPTransport``) neither
starts a second CLIENT span nor injects headers: the SDK's span, with its template and its
redacted URL, is the one. ``traceparent`` is injected into the attempt's headers by the SDK.

Nothing recorded is a phone number, a key or a secret: ``url.full`` has no query string, no
userinfo and phone numbers masked (``redact_url``); the idempotency key appears only as the
first 16 hex digits of its SHA-256; request IDs pass through ``redact``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any, Final

import httpx
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .._shared.defaults import HEADER_SERVER_REQUEST_ID
from .._shared.redact import redact, redact_url
from .._shared.telemetry import Instruments
from .telemetry import OPERATION_EXTENSION, error_type_of, key_digest, resolve_operation

__all__ = ["RequestTelemetry"]

#: OpenTelemetry's key for "HTTP instrumentation must not act here" (opentelemetry-api's
#: context module defines it; opentelemetry-instrumentation reads it).
_SUPPRESS_HTTP: Final = getattr(otel_context, "_SUPPRESS_HTTP_INSTRUMENTATION_KEY", None)

#: The module every OpenTelemetry instrumentation reads that key through; while it is not
#: loaded, nothing reads it.
_INSTRUMENTATION_UTILS: Final = "opentelemetry.instrumentation.utils"

_KNOWN_METHODS: Final = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)


_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _shown_id(value: str) -> str:
    """A request ID fit for an attribute: a generated UUID as it is, anything else redacted
    (a caller's own ID might hold a phone number; a UUID's digit runs only look like one)."""
    return value if _UUID.fullmatch(value) else redact(value)


#: (operationId, client method, INTERNAL span name, CLIENT span name, attempt attributes,
#: operation attributes) of one request shape.
_Shape = tuple[str | None, str | None, str, str, dict[str, Any], dict[str, Any]]

#: Shapes already worked out, by (method, scheme, host, port, path, operation extension). Kept
#: in memory only (nothing here is exported) and bounded: emptied when it reaches the limit.
_SHAPES: dict[tuple[Any, ...], _Shape] = {}
_SHAPES_LIMIT: Final = 1024


def _shape_of(request: httpx.Request) -> _Shape:
    """What a request's spans and measurements are named and labelled with, cached per shape
    (the route resolution and the attribute dicts are the dearest part of starting a request's
    telemetry; ``tests/test_hot_path.py`` holds the cached answer equal to a fresh one)."""
    url = request.url
    named = request.extensions.get(OPERATION_EXTENSION)
    if named is not None and type(named) is not tuple:
        return _make_shape(request)
    # httpx (and httpx2) keep the parsed URL, whose raw parts have the public properties'
    # names: the key, without the decoding those properties do on every read (a
    # percent-encoded path is one more key for the same shape, worked out once).
    parts = getattr(url, "_uri_reference", url)
    key = (request.method, parts.scheme, parts.host, parts.port, parts.path, named)
    found = _SHAPES.get(key)
    if found is None:
        found = _make_shape(request)
        if len(_SHAPES) >= _SHAPES_LIMIT:
            _SHAPES.clear()
        _SHAPES[key] = found
    return found


def _make_shape(request: httpx.Request) -> _Shape:
    operation_id, method_name, template = resolve_operation(request)
    method = request.method if request.method in _KNOWN_METHODS else "_OTHER"
    url = request.url
    port = url.port or (443 if url.scheme == "https" else 80)
    attempt_attributes: dict[str, Any] = {
        "http.request.method": method,
        "server.address": url.host,
        "server.port": port,
    }
    if template is not None:
        attempt_attributes["url.template"] = template
    client_span_name = f"{method} {template}" if template else method
    operation_attributes: dict[str, Any] = {"stateset_voice.operation.id": operation_id or "_OTHER"}
    name = method_name or operation_id or method
    return (
        operation_id,
        method_name,
        f"stateset_voice {name}",
        client_span_name,
        attempt_attributes,
        operation_attributes,
    )


class RequestTelemetry:
    """Spans and measurements of one logical request; the transport and ``LogicalRequest``
    call it at each step. Every method is cheap when the tracer and meter are no-ops."""

    # Where each request starts (class attributes: no store per request until one changes).
    attempt_span: Any = None
    attempt_began = 0.0
    attempts = 0
    last_error_type: str | None = None
    last_status: int | None = None
    stop_reason: str | None = None
    _url_full: str | None = None

    def __init__(
        self,
        instruments: Instruments,
        request: httpx.Request,
        client_request_id: str,
        idempotency_key: str | None,
        deadline: float | None,
        clock: Callable[[], float],
        /,
    ) -> None:
        self.instruments = instruments
        self.clock = clock
        shape = _shape_of(request)
        self.operation_id, method_name, span_name, self.client_span_name = shape[:4]
        #: The attributes of every attempt's span and duration measurement (shared by the
        #: requests of one shape: read, never changed).
        self.attempt_attributes: dict[str, Any] = shape[4]
        self.operation_attributes: dict[str, Any] = shape[5]
        # The caller's context, read once: the request's spans and every attempt's propagated
        # headers belong to the context the request was made in.
        caller = self.caller = otel_context.get_current()
        span = self.span = instruments.tracer.start_span(
            span_name, context=caller, kind=SpanKind.INTERNAL
        )
        recording = span.is_recording()
        if recording:
            attributes: dict[str, Any] = {
                "stateset_voice.operation.id": self.operation_id or "_OTHER",
                "stateset_voice.request.client_request_id": _shown_id(client_request_id),
            }
            if method_name:
                attributes["stateset_voice.client.method"] = method_name
            if idempotency_key:
                attributes["stateset_voice.idempotency_key.sha256"] = key_digest(idempotency_key)
            if deadline is not None:
                attributes["stateset_voice.request.deadline"] = deadline
            span.set_attributes(attributes)
        #: A no-op tracer (no SDK configured) hands back the current span itself (the invalid
        #: span when there is none): nothing can record, so the attempts start no spans of
        #: their own and pass the caller's context on as it is (``attempt_started``). Decided
        #: once: a provider set up while the request runs serves the next one.
        self.noop = not recording and span is trace.get_current_span(caller)
        self.parent = None if self.noop else trace.set_span_in_context(span, caller)
        self.started = clock()

    # -- attempts ---------------------------------------------------------------------------

    def attempt_started(self, request: httpx.Request) -> object | None:
        """Start the attempt's CLIENT span; return the token of the context attached for it
        (None when none was)."""
        self.attempts += 1
        if self.noop:
            # What a CLIENT span would be is the caller's span: the context the request was
            # made in goes on the wire as it is, on every attempt (an upstream
            # ``traceparent`` and baggage still reach the server; a context attached during
            # a backoff does not). It is attached only to carry the "suppress HTTP
            # instrumentation" key, when an instrumentation that reads it is loaded.
            self.attempt_span = self.span
            self.attempt_began = self.clock()
            if _SUPPRESS_HTTP is not None and _INSTRUMENTATION_UTILS in sys.modules:
                context = otel_context.set_value(_SUPPRESS_HTTP, True, self.caller)
                propagate.inject(request.headers, context=context)
                return otel_context.attach(context)
            propagate.inject(request.headers, context=self.caller)
            return None
        span = self.instruments.tracer.start_span(
            self.client_span_name, context=self.parent, kind=SpanKind.CLIENT
        )
        # Kept at once: if a propagator fails below, the attempt's end still ends this span.
        self.attempt_span = span
        self.attempt_began = self.clock()
        if span.is_recording():
            if self._url_full is None:
                self._url_full = redact_url(str(request.url))
            span.set_attributes(self.attempt_attributes)
            span.set_attribute("url.full", self._url_full)
            if self.attempts > 1:
                span.set_attribute("http.request.resend_count", self.attempts - 1)
        parent = self.parent
        assert parent is not None  # set whenever the tracer is not a no-op
        # A tracer that hands back the parent's own span: the parent context already holds it.
        context = parent if span is self.span else trace.set_span_in_context(span, parent)
        if _SUPPRESS_HTTP is not None:
            context = otel_context.set_value(_SUPPRESS_HTTP, True, context)
        propagate.inject(request.headers, context=context)
        return otel_context.attach(context)

    @staticmethod
    def attempt_left(token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]

    def attempt_ended(
        self, status: int | None, error_type: str | None, server_request_id: str | None
    ) -> None:
        """End the attempt's span and record its duration."""
        span = self.attempt_span
        if span is None:
            return
        self.attempt_span = None
        self.last_status = status
        self.last_error_type = error_type
        attributes = dict(self.attempt_attributes)
        if status is not None:
            attributes["http.response.status_code"] = status
        if error_type is not None:
            attributes["error.type"] = error_type
        if self.noop:  # nothing to end: the "attempt span" is the current span
            self.instruments.attempt_duration.record(self.clock() - self.attempt_began, attributes)
            return
        if span.is_recording():
            if status is not None:
                span.set_attribute("http.response.status_code", status)
            if error_type is not None:
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR))
            if server_request_id:
                span.set_attribute(
                    f"http.response.header.{HEADER_SERVER_REQUEST_ID}", [redact(server_request_id)]
                )
        span.end()
        self.instruments.attempt_duration.record(self.clock() - self.attempt_began, attributes)

    # -- the logical request ----------------------------------------------------------------

    def retry_scheduled(self, delay: float, retry_after: float | None) -> None:
        reason = self.last_error_type or str(self.last_status)
        event: dict[str, Any] = {
            "stateset_voice.retry.attempt": self.attempts,
            "stateset_voice.retry.delay": delay,
            "stateset_voice.retry.reason": reason,
        }
        if retry_after is not None:
            event["stateset_voice.retry.retry_after"] = retry_after
        self.span.add_event("stateset_voice.retry", event)
        self.instruments.by_name["stateset_voice.client.retries"].add(
            1, {**self.operation_attributes, "stateset_voice.retry.reason": reason}
        )

    def stopped(self, reason: str) -> None:
        """The request ends because of ``reason`` (``deadline_exceeded`` or
        ``retry_budget_exhausted``), not because an answer was final."""
        self.stop_reason = reason
        name = (
            "stateset_voice.client.deadline.exceeded"
            if reason == "deadline_exceeded"
            else "stateset_voice.client.retry_budget.exhausted"
        )
        self.instruments.by_name[name].add(1, dict(self.operation_attributes))

    def finish(self, error: BaseException | None, server_request_id: str | None) -> None:
        """End the INTERNAL span (and an attempt cut short by cancellation)."""
        if self.attempt_span is not None:
            self.attempt_ended(None, error_type_of(error) if error else "cancelled", None)
        error_type = None
        if error is not None:
            error_type = self.stop_reason or self.last_error_type or error_type_of(error)
        if not self.noop:  # a no-op tracer's span: nothing to set, nothing to end
            self._end_span(error, error_type, server_request_id)
        attributes = dict(self.operation_attributes)
        if self.last_status is not None:
            attributes["http.response.status_code"] = self.last_status
        if error_type is not None:
            attributes["error.type"] = error_type
        self.instruments.operation_duration.record(self.clock() - self.started, attributes)

    def _end_span(
        self, error: BaseException | None, error_type: str | None, server_request_id: str | None
    ) -> None:
        span = self.span
        if span.is_recording():
            span.set_attribute("stateset_voice.request.attempts", self.attempts)
            span.set_attribute(
                "stateset_voice.request.outcome",
                "success" if error is None else type(error).__name__,
            )
            if server_request_id:
                span.set_attribute(
                    "stateset_voice.request.server_request_id", redact(server_request_id)
                )
            if error_type is not None:
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR))
        span.end()
