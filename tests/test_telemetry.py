"""OpenTelemetry spans and metrics of the clients, read back from the SDK's in-memory exporters.

Every test talks to a real server on loopback (pytest-httpserver) and never sleeps for real:
the retries use a no-op sleep and a fixed jitter. The leak test drives the retry, deadline
and budget paths, sync and async, and reads every attribute, event and metric label exported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from stateset_voice_wrapper import (
    InternalServerError,
    RateLimitError,
    ReliabilityConfig,
    ReliableTransport,
    RetryBudget,
    configure_telemetry,
)
from stateset_voice_wrapper._reliability.telemetry import key_digest
from stateset_voice_wrapper._shared import telemetry as switch

if TYPE_CHECKING:
    from tests.flavours import Flavour
else:
    from flavours import Flavour

KEY = "sk_test_telemetry_secret_0123456789"
TO, FROM = "+15555550101", "+15555551234"
BUSINESS_KEY = "appt-A-123-confirm"
CALL = {
    "call_id": "call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M",
    "status": "queued",
    "to": TO,
    "from": FROM,
    "agent_key": "front_desk",
    "created_at": "2026-11-20T15:04:05Z",
}


class Exported:
    """What the SDK exported: finished spans and the metric points."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.reader = InMemoryMetricReader()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found

    def every_value(self) -> list[str]:
        """Every span name, attribute value, event and metric label, as text."""
        texts: list[str] = []
        for span in self.finished():
            texts.append(span.name)
            texts.extend(f"{k}={v!s}" for k, v in (span.attributes or {}).items())
            for event in span.events:
                texts.append(event.name)
                texts.extend(f"{k}={v!s}" for k, v in (event.attributes or {}).items())
        for name, points in self.points().items():
            for point in points:
                texts.extend(f"{name}:{k}={v}" for k, v in point.attributes.items())
        return texts


@pytest.fixture
def exported() -> Iterator[Exported]:
    found = Exported()
    configure_telemetry(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    yield found
    configure_telemetry(enabled=False)
    switch._State.enabled = None  # back to "read the environment", as before the test


def quiet(**options: Any) -> ReliabilityConfig:
    settings: dict[str, Any] = {"budget": RetryBudget(), **options}
    return ReliabilityConfig(sleep=lambda _: None, random=lambda: 0.5, **settings)


async def _no_sleep(_: float) -> None:
    return None


def flaky_make_call(server: HTTPServer, failures: int, status: int = 503) -> list[Request]:
    """make-call answers ``status`` ``failures`` times, then 201; returns the requests seen."""
    seen: list[Request] = []

    def answer(request: Request) -> Response:
        seen.append(request)
        if len(seen) <= failures:
            body = {"code": "unavailable", "message": f"cannot call {TO}", "request_id": "req_x"}
            headers = {"x-request-id": f"req_{len(seen)}", "retry-after": "0"}
            return Response(json.dumps(body), status, headers, content_type="application/json")
        return Response(
            json.dumps(CALL), 201, {"x-request-id": "req_ok"}, content_type="application/json"
        )

    server.expect_request("/api/v1/make-call", method="POST").respond_with_handler(answer)
    return seen


def create(flavour: Flavour, server: HTTPServer, **options: Any) -> Any:
    """``calls.create`` with the business key on a client of ``flavour``."""
    reliability = quiet(async_sleep=_no_sleep, **options)
    voice = flavour.client("voice", KEY, base_url=server.url_for(""), reliability=reliability)
    return flavour.within(
        voice,
        lambda c: c.calls.create(
            to=TO, from_=FROM, agent_key="front_desk", idempotency_key=BUSINESS_KEY
        ),
    )


def test_a_retried_create_is_one_internal_span_over_two_client_spans(
    exported: Exported, httpserver: HTTPServer, flavour: Flavour
) -> None:
    seen = flaky_make_call(httpserver, failures=1)
    call = create(flavour, httpserver)
    assert call.call_id == CALL["call_id"]
    spans = exported.finished()
    internal = [s for s in spans if s.kind is SpanKind.INTERNAL]
    clients = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert [s.name for s in internal] == ["stateset_voice calls.create"]
    assert [s.name for s in clients] == ["POST /api/v1/make-call"] * 2
    root = internal[0]
    attributes = dict(root.attributes or {})
    assert attributes["stateset_voice.operation.id"] == "make_call"
    assert attributes["stateset_voice.client.method"] == "calls.create"
    assert attributes["stateset_voice.request.attempts"] == 2
    assert attributes["stateset_voice.request.outcome"] == "success"
    assert attributes["stateset_voice.request.deadline"] == 60.0
    assert attributes["stateset_voice.idempotency_key.sha256"] == key_digest(BUSINESS_KEY)
    assert attributes["stateset_voice.request.client_request_id"] == seen[0].headers["X-Request-Id"]
    [retry] = root.events
    assert retry.name == "stateset_voice.retry"
    assert dict(retry.attributes or {}) == {
        "stateset_voice.retry.attempt": 1,
        "stateset_voice.retry.delay": 0.0,
        "stateset_voice.retry.reason": "503",
        "stateset_voice.retry.retry_after": 0.0,
    }
    first, second = (dict(s.attributes or {}) for s in clients)
    assert all(s.parent is not None and s.parent.span_id == root.context.span_id for s in clients)
    assert first["http.response.status_code"] == 503
    assert first["error.type"] == "503"
    assert "http.request.resend_count" not in first
    assert second["http.request.resend_count"] == 1
    assert second["http.response.status_code"] == 201
    assert "error.type" not in second
    assert first["url.template"] == "/api/v1/make-call"
    assert first["http.request.method"] == "POST"
    assert first["server.address"] == "localhost"
    assert first["server.port"] == httpserver.port
    assert first["url.full"] == httpserver.url_for("/api/v1/make-call")
    assert first["http.response.header.x-request-id"] == ("req_1",)
    # W3C trace context: each attempt carries its own CLIENT span as the parent.
    for request, span in zip(seen, clients, strict=True):
        trace_id, span_id = re.fullmatch(
            r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}", request.headers["traceparent"]
        ).groups()  # type: ignore[union-attr]
        assert int(trace_id, 16) == span.context.trace_id
        assert int(span_id, 16) == span.context.span_id


def test_attempt_durations_follow_the_http_semantic_conventions(
    exported: Exported, httpserver: HTTPServer, flavour: Flavour
) -> None:
    flaky_make_call(httpserver, failures=1)
    create(flavour, httpserver)
    points = exported.points()
    durations = points["http.client.request.duration"]
    labels = sorted(
        (p.attributes.get("http.response.status_code"), p.attributes.get("error.type"))
        for p in durations
    )
    assert labels == [(201, None), (503, "503")]
    assert all(p.attributes["url.template"] == "/api/v1/make-call" for p in durations)
    assert sum(p.count for p in durations) == 2
    [retries] = points["stateset_voice.client.retries"]
    assert retries.value == 1
    assert retries.attributes["stateset_voice.retry.reason"] == "503"
    [operation] = points["stateset_voice.client.operation.duration"]
    assert operation.attributes["stateset_voice.operation.id"] == "make_call"


def test_generated_clients_get_the_contract_template_not_the_raw_path(
    exported: Exported, httpserver: HTTPServer
) -> None:
    from stateset_voice_wrapper import ReliableTransport

    httpserver.expect_request("/proxy/api/v1/call-logs/call_15555550101").respond_with_json(
        {"items": []}
    )
    with httpx.Client(transport=ReliableTransport(config=quiet())) as client:
        client.get(httpserver.url_for("/proxy/api/v1/call-logs/call_15555550101?to=" + TO[1:]))
    [client_span] = [s for s in exported.finished() if s.kind is SpanKind.CLIENT]
    attributes = dict(client_span.attributes or {})
    assert client_span.name == "GET /proxy/api/v1/call-logs/{call_id}"
    assert attributes["url.template"] == "/proxy/api/v1/call-logs/{call_id}"
    # No query string, and the phone-number-like run in the path is masked.
    assert attributes["url.full"] == httpserver.url_for("/proxy/api/v1/call-logs/call_15555550101")
    [internal] = [s for s in exported.finished() if s.kind is SpanKind.INTERNAL]
    assert internal.name == "stateset_voice get_call_log"


def test_no_phone_number_key_or_secret_in_any_exported_value(
    exported: Exported, httpserver: HTTPServer, flavour: Flavour
) -> None:
    flaky_make_call(httpserver, failures=1)
    create(flavour, httpserver)  # the retry path
    httpserver.clear()
    flaky_make_call(httpserver, failures=5)
    with pytest.raises(InternalServerError):  # the budget path: the second retry is unpaid
        create(flavour, httpserver, budget=RetryBudget(capacity=5))
    httpserver.clear()

    def limited(request: Request) -> Response:
        body = json.dumps({"code": "rate_limited", "message": f"slow down {TO}", "request_id": "r"})
        return Response(body, 429, {"retry-after": "30"}, content_type="application/json")

    httpserver.expect_request("/api/v1/make-call").respond_with_handler(limited)
    with pytest.raises(RateLimitError):  # the deadline path: 30 s wanted, 5 s left
        create(flavour, httpserver, deadline=5.0)
    texts = exported.every_value()
    joined = "\n".join(texts)
    for secret in (KEY, BUSINESS_KEY, TO, FROM, TO[1:], FROM[1:], "5555550101", "5555551234"):
        assert secret not in joined, secret
    errors = [t for t in texts if t.startswith("error.type=")]
    assert "error.type=retry_budget_exhausted" in errors
    assert "error.type=deadline_exceeded" in errors
    points = exported.points()
    assert sum(p.value for p in points["stateset_voice.client.retry_budget.exhausted"]) == 1
    assert sum(p.value for p in points["stateset_voice.client.deadline.exceeded"]) == 1


def test_the_httpx_instrumentation_adds_no_second_client_span(
    exported: Exported, httpserver: HTTPServer, flavour: Flavour
) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument(tracer_provider=exported.tracer_provider)
    try:
        seen = flaky_make_call(httpserver, failures=1)
        create(flavour, httpserver)
        httpserver.expect_request("/plain").respond_with_data("ok")
        with httpx.Client() as plain:  # not the SDK: the instrumentation's own span
            plain.get(httpserver.url_for("/plain"))
    finally:
        instrumentor.uninstrument()
    clients = [s for s in exported.finished() if s.kind is SpanKind.CLIENT]
    names = sorted(s.name for s in clients)
    assert names == ["GET", "POST /api/v1/make-call", "POST /api/v1/make-call"]
    sdk = [s for s in clients if s.name.startswith("POST")]
    assert all(getattr(s.instrumentation_scope, "name", None) == "stateset_voice" for s in sdk)
    # The traceparent the server saw is the SDK's span, not the instrumentation's.
    assert [r.headers["traceparent"][36:52] for r in seen] == [
        f"{s.context.span_id:016x}" for s in sdk
    ]


def test_telemetry_off_for_one_client_records_nothing(
    exported: Exported, httpserver: HTTPServer, flavour: Flavour
) -> None:
    flaky_make_call(httpserver, failures=0)
    create(flavour, httpserver, telemetry=False)
    assert exported.finished() == []
    assert "traceparent" not in httpserver.log[0][0].headers


def test_with_no_sdk_the_callers_trace_context_still_reaches_the_server(
    httpserver: HTTPServer, flavour: Flavour
) -> None:
    """A no-op tracer (no SDK configured) hands back the caller's own non-recording span for
    every span the client starts; each attempt still carries the caller's trace context (a
    trace continued from an upstream ``traceparent``), and no other."""
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    upstream = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    configure_telemetry(tracer_provider=trace.NoOpTracerProvider())
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(upstream)))
    try:
        seen = flaky_make_call(httpserver, failures=1)
        create(flavour, httpserver)
    finally:
        otel_context.detach(token)
        configure_telemetry(enabled=False)
        switch._State.enabled = None
    assert [r.headers["traceparent"] for r in seen] == [
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    ] * 2


def test_with_no_sdk_every_attempt_carries_the_context_the_request_was_made_in(
    httpserver: HTTPServer, flavour: Flavour
) -> None:
    """The caller's context is read once, as the request starts: a context attached between
    attempts (here by ``on_retry``, left attached) does not reach the retry, which carries the
    caller's upstream trace and no baggage of the other context, as with an SDK."""
    from opentelemetry import baggage, trace
    from opentelemetry import context as otel_context
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    def remote(trace_id: int, span_id: int) -> NonRecordingSpan:
        flags = TraceFlags(TraceFlags.SAMPLED)
        return NonRecordingSpan(SpanContext(trace_id, span_id, is_remote=True, trace_flags=flags))

    upstream = trace.set_span_in_context(remote(0x1111, 0x2222))
    elsewhere = baggage.set_baggage("k", "v", trace.set_span_in_context(remote(0x3333, 0x4444)))
    tokens = []
    configure_telemetry(tracer_provider=trace.NoOpTracerProvider())
    token = otel_context.attach(upstream)
    try:
        seen = flaky_make_call(httpserver, failures=1)
        create(
            flavour, httpserver, on_retry=lambda _: tokens.append(otel_context.attach(elsewhere))
        )
    finally:
        for attached in reversed(tokens):
            otel_context.detach(attached)
        otel_context.detach(token)
        configure_telemetry(enabled=False)
        switch._State.enabled = None
    assert len(tokens) == 1
    expected = f"00-{0x1111:032x}-{0x2222:016x}-01"
    assert [(r.headers["traceparent"], r.headers.get("baggage")) for r in seen] == [
        (expected, None)
    ] * 2


class _BrokenPropagator:
    """A text-map propagator whose inject fails, as a buggy custom one might."""

    fields: frozenset[str] = frozenset({"x-broken"})

    def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
        raise UnicodeEncodeError("ascii", "é", 0, 1, "a header value it cannot encode")

    def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
        return context


def test_a_failing_propagator_is_a_typed_error_and_leaves_nothing_behind(
    exported: Exported, httpserver: HTTPServer, flavour: Flavour
) -> None:
    """A propagator that raises while the attempt's trace context is injected ends the call
    with a StateSetVoiceError carrying the key, not the propagator's own exception; nothing is
    sent, the attempt's span is ended with its error, and neither the deadline guard nor an
    OpenTelemetry context is left attached."""
    from opentelemetry import context as otel_context
    from opentelemetry import propagate

    from stateset_voice_wrapper import StateSetVoiceError
    from stateset_voice_wrapper._reliability import guard

    flaky_make_call(httpserver, failures=0)
    before = otel_context.get_current()
    saved = propagate.get_global_textmap()
    propagate.set_global_textmap(_BrokenPropagator())  # type: ignore[arg-type]
    try:
        with pytest.raises(StateSetVoiceError) as caught:
            create(flavour, httpserver)
    finally:
        propagate.set_global_textmap(saved)
    assert type(caught.value).__name__ == "APIConnectionError"
    assert caught.value.idempotency_key == BUSINESS_KEY
    assert httpserver.log == []
    assert guard.current_guard() is None
    assert otel_context.get_current() == before
    clients = [s for s in exported.finished() if s.kind is SpanKind.CLIENT]
    assert [s.attributes["error.type"] for s in clients] == ["UnicodeEncodeError"]  # type: ignore[index]


class _TenantPropagator:
    """A propagator writing a header that is not ASCII (as some custom ones do)."""

    fields: frozenset[str] = frozenset({"x-tenant"})

    def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
        carrier["x-tenant"] = "Zürich"

    def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
        return context


def test_a_header_a_propagator_writes_is_encoded_as_httpx_encodes_it(exported: Exported) -> None:
    """The transport leaves the request's header encoding to httpx, so a propagator's header
    written after the identity is stamped goes out as httpx would encode it (UTF-8 here)."""
    from opentelemetry import propagate

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    saved = propagate.get_global_textmap()
    propagate.set_global_textmap(_TenantPropagator())  # type: ignore[arg-type]
    try:
        transport = ReliableTransport(
            config=quiet(telemetry=True), transport=httpx.MockTransport(handler)
        )
        with httpx.Client(base_url="http://bench.local", transport=transport) as client:
            assert client.get("/api/v1/call-logs").status_code == 200
    finally:
        propagate.set_global_textmap(saved)
    assert (b"x-tenant", "Zürich".encode()) in seen[0].headers.raw


# -- with no SDK: a no-op tracer ----------------------------------------------------------------


class _Spy(httpx.BaseTransport):
    """The inner transport, to a real server: what the OpenTelemetry context held while each
    attempt was sent."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.suppressed: list[object] = []
        self.contexts: list[object] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        from opentelemetry import context as otel_context

        key = otel_context._SUPPRESS_HTTP_INSTRUMENTATION_KEY
        self.suppressed.append(otel_context.get_value(key))
        self.contexts.append(otel_context.get_current())
        return self.inner.handle_request(request)


UPSTREAM = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _no_sdk_get(httpserver: HTTPServer, spy: _Spy) -> object:
    """A GET with telemetry on and no SDK, in a trace continued from ``UPSTREAM`` (the
    context returned)."""
    from opentelemetry import context as otel_context
    from opentelemetry import propagate

    httpserver.expect_request("/api/v1/call-logs").respond_with_json({}, status=200)
    transport = ReliableTransport(config=quiet(telemetry=True), transport=spy)
    upstream = propagate.extract({"traceparent": UPSTREAM})
    token = otel_context.attach(upstream)
    try:
        with httpx.Client(base_url=httpserver.url_for(""), transport=transport) as client:
            assert client.get("/api/v1/call-logs").status_code == 200
    finally:
        otel_context.detach(token)
    return upstream


@pytest.mark.parametrize("instrumentation_loaded", [True, False])
def test_with_no_sdk_an_attempt_suppresses_http_instrumentation_only_where_one_reads_it(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, instrumentation_loaded: bool
) -> None:
    """With no SDK, an attempt starts no span of its own. The context it is sent in is the
    caller's, plus OpenTelemetry's "suppress HTTP instrumentation" key while the module every
    instrumentation reads that key through is loaded; after the call, the caller's context
    is the current one again."""
    import sys

    import opentelemetry.instrumentation.utils
    from opentelemetry import context as otel_context

    if not instrumentation_loaded:
        monkeypatch.delitem(sys.modules, opentelemetry.instrumentation.utils.__name__)
    before = otel_context.get_current()
    spy = _Spy()
    upstream = _no_sdk_get(httpserver, spy)
    assert spy.suppressed == ([True] if instrumentation_loaded else [None])
    assert httpserver.log[0][0].headers["traceparent"] == UPSTREAM
    if not instrumentation_loaded:  # sent in the caller's own context, as it is
        assert spy.contexts == [upstream]
        assert spy.contexts[0] is upstream
    assert otel_context.get_current() == before


def test_with_no_sdk_a_custom_propagator_still_writes_every_attempt(
    httpserver: HTTPServer, flavour: Flavour
) -> None:
    """A propagator that writes its own header (not from the context) still runs once per
    attempt when no SDK is configured."""
    from opentelemetry import propagate

    class Tenant(_TenantPropagator):
        def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
            carrier["x-tenant"] = "zurich"

    seen = flaky_make_call(httpserver, failures=1)
    saved = propagate.get_global_textmap()
    propagate.set_global_textmap(Tenant())  # type: ignore[arg-type]
    configure_telemetry()  # the global providers: no SDK
    try:
        create(flavour, httpserver)
    finally:
        propagate.set_global_textmap(saved)
        configure_telemetry(enabled=False)
        switch._State.enabled = None
    assert [r.headers.get("x-tenant") for r in seen] == ["zurich", "zurich"]


def test_a_sampled_out_trace_is_not_taken_for_a_no_op_tracer(
    httpserver: HTTPServer, flavour: Flavour
) -> None:
    """An SDK that samples a trace out hands back spans that do not record, but each is a new
    span: every attempt still starts its own, so each carries its own span ID (not sampled)
    in one trace. Only a tracer that hands back the current span itself is a no-op."""
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    seen = flaky_make_call(httpserver, failures=1)
    configure_telemetry(tracer_provider=TracerProvider(sampler=ALWAYS_OFF))
    try:
        create(flavour, httpserver)
    finally:
        configure_telemetry(enabled=False)
        switch._State.enabled = None
    parents = [r.headers["traceparent"].split("-") for r in seen]
    assert len(parents) == 2
    assert parents[0][1] == parents[1][1] != "0" * 32  # one trace
    assert parents[0][2] != parents[1][2]  # a span per attempt
    assert [int(p[3], 16) & 1 for p in parents] == [0, 0]  # not sampled


def test_a_tracer_that_hands_back_the_invalid_span_under_a_live_parent_is_not_a_no_op(
    httpserver: HTTPServer,
) -> None:
    """Only a tracer that hands back the current span itself is taken for a no-op. One that
    answers every span with the invalid span while the caller's own span is current is
    obeyed as before: its (invalid) spans are the attempts', so no ``traceparent`` goes out."""
    from opentelemetry import trace

    class InvalidTracer(trace.NoOpTracer):
        def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
            return trace.INVALID_SPAN

    class InvalidProvider(trace.NoOpTracerProvider):
        def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
            return InvalidTracer()

    httpserver.expect_request("/api/v1/call-logs").respond_with_json({}, status=200)
    configure_telemetry(tracer_provider=InvalidProvider())
    transport = ReliableTransport(config=quiet(telemetry=True))
    try:
        with (
            TracerProvider().get_tracer("app").start_as_current_span("caller"),
            httpx.Client(base_url=httpserver.url_for(""), transport=transport) as client,
        ):
            assert client.get("/api/v1/call-logs").status_code == 200
    finally:
        configure_telemetry(enabled=False)
        switch._State.enabled = None
    assert "traceparent" not in httpserver.log[0][0].headers
