"""The sandbox stays up, small and honest in its logs under a hostile client on loopback.

Each test names the hole it closes: unbounded anonymous storage, rate-limit buckets keyed by
what a request claims, idempotency records that never go, NaN through the control endpoints,
connections held open by half-sent requests, and log lines that a path can forge or that leak
phone numbers. Time moves only through ``advance`` (sandbox clock) or, for the read timeouts,
by waiting on a socket that the server is expected to close.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stateset_voice_wrapper.sandbox import FaultRule, Sandbox, SandboxLimits, _app
from stateset_voice_wrapper.sandbox._idempotency import IdempotencyStore, Reply
from stateset_voice_wrapper.sandbox._logsafe import CONTINUATION, loggable
from stateset_voice_wrapper.sandbox._ratelimit import TokenBucketLimiter
from stateset_voice_wrapper.sandbox._util import dumps
from stateset_voice_wrapper.sandbox._webhooks import is_loopback_url
from stateset_voice_wrapper.sandbox.conformance import ContractChecker

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "api-contracts"
ACCESS_REQUEST = {
    "company": "Acme",
    "contact_name": "Ada",
    "email": "ada@acme.example",
    "use_case": "appointment reminders",
}
CALL = {"to": "+15555550100", "from": "+15555551234", "agent_key": "front_desk"}
SANDBOX_LOGGER = "stateset_voice_wrapper.sandbox"


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker(CONTRACTS_DIR)


def runtime(sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.runtime_key}"}


def admin(sandbox: Sandbox) -> dict[str, str]:
    return {"x-admin-key": sandbox.admin_key}


def strict_json(text: str) -> Any:
    """Parse as RFC 8259 JSON: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} in a response body")

    return json.loads(text, parse_constant=refuse)


# -- access requests: anyone may send them, so they are bounded ----------------------------


@pytest.mark.parametrize(
    ("field", "length"),
    [
        ("company", 201),
        ("contact_name", 201),
        ("email", 255),
        ("use_case", 2001),
        ("launch_timeline", 101),
    ],
)
def test_access_request_fields_have_a_maximum_length(
    sandbox: Sandbox, checker: ContractChecker, field: str, length: int
) -> None:
    value = ("a" * (length - 12) + "@acme.example") if field == "email" else "a" * length
    with httpx.Client(
        base_url=sandbox.base_url, event_hooks={"response": [checker.httpx_hook]}
    ) as http:
        response = http.post("/api/v1/access-requests", json={**ACCESS_REQUEST, field: value})
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["details"]} == {field}
    assert sandbox.table_sizes()["access_requests"] == 0


def test_an_anonymous_body_over_64_kib_is_refused_before_it_is_read(sandbox: Sandbox) -> None:
    body = json.dumps({**ACCESS_REQUEST, "padding": "x" * (64 * 1024)}).encode()
    url = sandbox.base_url + "/api/v1/access-requests"
    declared = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large"
    assert declared.json()["request_id"] == declared.headers["x-request-id"]
    assert declared.headers["Connection"] == "close"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is found while reading
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    chunked = httpx.post(url, content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert sandbox.table_sizes()["access_requests"] == 0


def test_an_authenticated_body_has_the_larger_bound(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    instance = sandbox_factory(
        limits=SandboxLimits(max_body_bytes=2048, max_anonymous_body_bytes=512)
    )
    padded = {**CALL, "metadata": {"note": "x" * 1000}}
    accepted = httpx.post(
        instance.base_url + "/api/v1/make-call", json=padded, headers=runtime(instance)
    )
    assert accepted.status_code == 201
    padded["metadata"] = {"note": "x" * 3000}
    refused = httpx.post(
        instance.base_url + "/api/v1/make-call", json=padded, headers=runtime(instance)
    )
    assert refused.status_code == 413
    anonymous = httpx.post(
        instance.base_url + "/api/v1/access-requests", json={**ACCESS_REQUEST, "x": "y" * 600}
    )
    assert anonymous.status_code == 413


def test_stored_access_requests_are_bounded_expire_and_keep_declared_fields_only(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    limits = SandboxLimits(max_access_requests=5, access_request_ttl_seconds=60.0)
    instance = sandbox_factory(limits=limits)
    url = instance.base_url + "/api/v1/access-requests"
    for i in range(12):
        body = {**ACCESS_REQUEST, "company": f"Acme {i}", "undeclared": "z" * 30_000}
        assert httpx.post(url, json=body).status_code == 201
    assert instance.table_sizes()["access_requests"] == 5
    kept = list(instance._core().store.access_requests)
    assert [r["request"]["company"] for r in kept] == [f"Acme {i}" for i in range(7, 12)]
    assert all("undeclared" not in r["request"] for r in kept)
    instance.advance(seconds=61)
    assert httpx.post(url, json=ACCESS_REQUEST).status_code == 201
    assert instance.table_sizes()["access_requests"] == 1  # the five older ones expired


# -- rate limits: keyed by what a request proved ------------------------------------------


def test_junk_credentials_share_the_peer_bucket_and_are_limited(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    instance = sandbox_factory(rate_limit=20, rate_limit_refill_per_second=0.001)
    statuses = []
    with httpx.Client(base_url=instance.base_url) as http:
        for i in range(300):
            headers = {"Authorization": f"Bearer junk-{i}"}
            statuses.append(http.get("/api/v1/readiness", headers=headers).status_code)
        # A junk admin key, no key and an unknown path draw from the same bucket.
        assert http.get("/api/v1/admin/tenants", headers={"x-admin-key": "junk"}).status_code == 429
        assert http.get("/api/v1/nothing-here").status_code == 429
        # The real key has its own bucket: the junk did not use it up.
        assert http.get("/api/v1/readiness", headers=runtime(instance)).status_code == 200
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}  # was never limited: one fresh bucket per junk value
    assert instance.table_sizes()["rate_limit_buckets"] == 2  # this peer, and the tenant


def test_one_tenant_has_one_bucket_however_its_key_is_written(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    instance = sandbox_factory(rate_limit=3, rate_limit_refill_per_second=0.001)
    key = instance.runtime_key
    spellings = [f"Bearer {key}", f"bearer {key}", f"BEARER {key}", f"Bearer  {key}"]
    with httpx.Client(base_url=instance.base_url) as http:
        answers = [
            http.get("/api/v1/readiness", headers={"Authorization": a}).status_code
            for a in spellings
        ]
    assert answers == [200, 200, 200, 429]
    assert instance.table_sizes()["rate_limit_buckets"] == 1


def test_a_full_bucket_is_forgotten_and_a_full_table_overflows_into_one_shared_bucket() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(
        capacity=2, refill_per_second=1.0, clock=lambda: now[0], max_buckets=3
    )
    for caller in ("a", "b", "c"):
        assert limiter.take(caller).allowed
    assert limiter.size == 3
    # The table is full and no bucket is full again: newcomers share the overflow bucket.
    assert [limiter.take(f"new-{i}").allowed for i in range(3)] == [True, True, False]
    assert (limiter.size, limiter.overflowed) == (3, 3)
    now[0] = 1.0  # one second refills every bucket: full buckets are the same as none
    assert limiter.take("d").allowed
    assert limiter.size == 1
    for i in range(10_000):
        limiter.take(f"peer-{i}")
    assert limiter.size <= 3


@pytest.mark.parametrize(
    ("limit", "refill"),
    [(1, math.nan), (1, math.inf), (1, -1.0), (1, 0), (0, 1.0), (True, 1.0), ("5", 1.0), (1, "2")],
)
def test_the_limiter_refuses_what_would_break_it(limit: Any, refill: Any) -> None:
    limiter = TokenBucketLimiter(capacity=1, refill_per_second=1.0)
    with pytest.raises((ValueError, TypeError)):
        limiter.configure(capacity=limit, refill_per_second=refill)
    assert limiter.take("k").allowed  # unchanged


# -- idempotency records: the 24-hour window, in bounded memory ---------------------------


def test_records_expire_after_the_window_and_each_scope_is_bounded() -> None:
    now = [0.0]
    store = IdempotencyStore(
        clock=lambda: now[0], ttl_seconds=100, max_keys=3, max_anonymous_keys=2
    )
    reply = Reply(status=201, body=b"{}")
    assert store.begin("runtime:t", "k1", "fp").outcome == "new"
    store.finish("runtime:t", "k1", reply)
    now[0] = 100.0
    assert store.begin("runtime:t", "k1", "fp").outcome == "replay"  # inside the window
    now[0] = 100.5
    assert store.begin("runtime:t", "k1", "fp").outcome == "new"  # the window is over
    for i in range(10):
        store.begin("runtime:t", f"x{i}", "fp")
        store.begin("anonymous", f"x{i}", "fp")
    assert store.size == 3 + 2
    assert store.forgotten == 7 + 8 + 1
    now[0] = 1_000.0
    store.begin("runtime:t", "late", "fp")
    assert store.size == 1 + 2  # expired records go when their scope is next used


def test_creation_counts_are_bounded_per_operation() -> None:
    store = IdempotencyStore(
        max_keys=4, max_anonymous_keys=2, anonymous_operations=frozenset({"anon"})
    )
    for i in range(10):
        store.count_creation("make_call", f"k{i}")
        store.count_creation("anon", f"k{i}")
    assert store.creations_per_key("make_call") == {f"k{i}": 1 for i in range(6, 10)}
    assert len(store.creations_per_key("anon")) == 2


def test_anonymous_keys_cannot_grow_the_table(sandbox_factory: Callable[..., Sandbox]) -> None:
    instance = sandbox_factory(limits=SandboxLimits(max_anonymous_idempotency_keys=5))
    url = instance.base_url + "/api/v1/access-requests"
    with httpx.Client() as http:
        for i in range(40):
            response = http.post(url, json=ACCESS_REQUEST, headers={"Idempotency-Key": f"key-{i}"})
            assert response.status_code == 201
    sizes = instance.table_sizes()
    assert (sizes["idempotency_records"], sizes["idempotency_creations"]) == (5, 5)


def test_a_key_is_replayed_for_24_hours_of_sandbox_time_then_runs_afresh(
    sandbox: Sandbox,
) -> None:
    headers = {**runtime(sandbox), "Idempotency-Key": "appt-1"}
    url = sandbox.base_url + "/api/v1/make-call"
    first = httpx.post(url, json=CALL, headers=headers)
    sandbox.advance(seconds=24 * 3600)
    again = httpx.post(url, json=CALL, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["call_id"] == first.json()["call_id"]
    sandbox.advance(seconds=1)
    later = httpx.post(url, json=CALL, headers=headers)
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers
    assert later.json()["call_id"] != first.json()["call_id"]
    assert sandbox.creations_per_key() == {"appt-1": 2}


# -- numbers on the control endpoints: finite or refused -----------------------------------

NON_FINITE = ['"nan"', "NaN", "Infinity", "-Infinity", "1e400", '"inf"']
CONTROL_BODIES = [
    ("/rate-limit", '{{"limit": 5, "refill_per_second": {}}}'),
    ("/rate-limit", '{{"limit": {}, "refill_per_second": 1}}'),
    ("/advance", '{{"steps": {}}}'),
    ("/advance", '{{"seconds": {}}}'),
    ("/webhooks", '{{"backoff_seconds": {}}}'),
    ("/webhooks", '{{"timeout_seconds": {}}}'),
    ("/webhooks", '{{"duplicate_probability": {}}}'),
    ("/webhooks", '{{"max_attempts": {}}}'),
    ("/webhooks/flush", '{{"timeout": {}}}'),
    ("/faults", '{{"rules": [{{"kind": "latency", "latency_ms": {}}}]}}'),
    ("/faults", '{{"rules": [{{"kind": "503", "rate": {}}}]}}'),
    ("/faults", '{{"rules": [{{"kind": "503", "retry_after": {}}}]}}'),
    ("/faults", '{{"rules": [{{"kind": "503", "times": {}}}]}}'),
]


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    from stateset_voice_wrapper.sandbox._constants import TEST_DEFAULTS

    with Sandbox(**{**TEST_DEFAULTS, "rate_limit": 100_000}) as instance:
        yield instance


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize(
    ("path", "template"), CONTROL_BODIES, ids=[f"{p}:{t[:30]}" for p, t in CONTROL_BODIES]
)
def test_control_endpoints_refuse_non_finite_numbers_with_422(
    shared: Sandbox, path: str, template: str, value: str
) -> None:
    response = httpx.post(
        shared.base_url + "/_sandbox" + path,
        content=template.format(value),
        headers={**admin(shared), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert strict_json(response.text)["code"] == "invalid_control"
    # Nothing changed: the API answers, and every number it shows is finite.
    assert (
        httpx.get(shared.base_url + "/api/v1/readiness", headers=runtime(shared)).status_code == 200
    )
    info = strict_json(httpx.get(shared.base_url + "/_sandbox/info", headers=admin(shared)).text)
    assert math.isfinite(info["clock"])
    assert math.isfinite(info["rate_limit"]["refill_per_second"])
    faults = strict_json(
        httpx.get(shared.base_url + "/_sandbox/faults", headers=admin(shared)).text
    )
    assert faults["rules"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/advance", {"seconds": -1}),
        ("/advance", {"seconds": 1e12}),  # beyond the clock's century
        ("/advance", {"settle": "yes"}),
        ("/advance", [1]),
        ("/rate-limit", {"limit": 1.5}),
        ("/webhooks/flush", [1]),
        ("/webhooks/flush", {"timeout": 1e9}),
        ("/twilio/inbound", {"url": "http://127.0.0.1:9/", "params": [1]}),
        ("/twilio/inbound", {"url": "http://127.0.0.1:9/", "params": {"A": {"b": 1}}}),
        ("/twilio/inbound", {"url": "https://example.com/voice"}),  # off this machine
        ("/faults", {"rules": ["503"]}),
        ("/faults", {"rules": [{"kind": "503"}], "append": "no"}),
    ],
)
def test_control_bodies_of_the_wrong_shape_are_422_not_500(
    shared: Sandbox, path: str, body: Any
) -> None:
    response = httpx.post(shared.base_url + "/_sandbox" + path, json=body, headers=admin(shared))
    assert response.status_code == 422, response.text


def test_the_python_api_refuses_the_same_numbers(sandbox: Sandbox) -> None:
    for bad in (math.nan, math.inf, -1.0):
        with pytest.raises(ValueError, match=r"finite|at least"):
            sandbox.advance(seconds=bad)
        with pytest.raises(ValueError, match="refill"):
            sandbox.set_rate_limit(limit=5, refill_per_second=bad)
    with pytest.raises(ValueError, match="finite"):
        sandbox.configure_webhooks(backoff_seconds=math.nan)
    with pytest.raises(ValueError, match="finite"):
        FaultRule(kind="503", rate=math.nan)
    assert sandbox.advance() == []  # the clock still works


def test_the_sandbox_never_writes_nan_into_json() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        dumps({"now": math.nan})
    assert dumps({"s": "\ud800"}) == b'{"s":"\\ud800"}'  # still valid JSON text


@pytest.mark.parametrize(
    "body",
    [
        b'{"to": "+15555550100", "from": "+15555551234", "agent_key": "a", "metadata": {"x": NaN}}',
        b'{"to": "+15555550100", "from": "+15555551234", "agent_key": "a", "metadata": {"x": 1e400}}',
        b'{"to": "+15555550100", "from": "+15555551234", "agent_key": "a", "greeting": "\\ud800"}',
        b'{"to": "+15555550100", "from": "+15555551234", "agent_key": "a", "metadata": {"x": '
        + b"[" * 200
        + b"]" * 200
        + b"}}",
        b"[" * 100_000,
    ],
    ids=["nan", "huge-number", "lone-surrogate", "deep-nesting", "recursion"],
)
def test_an_operation_body_the_sandbox_could_not_serve_back_is_400(
    sandbox: Sandbox, checker: ContractChecker, body: bytes
) -> None:
    headers = {**runtime(sandbox), "Content-Type": "application/json"}
    with httpx.Client(
        base_url=sandbox.base_url, event_hooks={"response": [checker.httpx_hook]}
    ) as http:
        response = http.post("/api/v1/make-call", content=body, headers=headers)
        assert response.status_code == 400
        assert response.json()["details"][0]["code"] == "invalid_json"
        logs = http.get("/api/v1/call-logs", headers=runtime(sandbox))
    assert logs.status_code == 200
    assert logs.json()["total"] == 0


# -- half-sent requests ----------------------------------------------------------------------


def _connect(sandbox: Sandbox) -> socket.socket:
    host, port = sandbox.base_url.removeprefix("http://").rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=5.0)
    return conn


def _read_until_closed(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes; socket.timeout if it never does."""
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


@pytest.fixture
def impatient(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    limits = SandboxLimits(header_timeout_seconds=0.3, body_timeout_seconds=0.3)
    return sandbox_factory(limits=limits)


def test_a_connection_that_never_finishes_its_headers_is_closed(impatient: Sandbox) -> None:
    with _connect(impatient) as conn:
        started = time.monotonic()
        conn.sendall(b"GET /api/v1/readiness HTTP/1.1\r\nHost: sandbox\r\nX-Slow: ")
        assert _read_until_closed(conn) == b""  # closed, not held (socket.timeout = held)
        assert time.monotonic() - started < 4.0
    with _connect(impatient) as idle:  # a connection that sends nothing at all
        assert _read_until_closed(idle) == b""


def test_a_body_that_never_arrives_in_full_is_408_and_closed(impatient: Sandbox) -> None:
    with _connect(impatient) as conn:
        conn.sendall(
            b"POST /api/v1/access-requests HTTP/1.1\r\nHost: sandbox\r\n"
            b'Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{"company": '
        )
        answer = _read_until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"Connection: close" in answer
    assert b'"code":"request_timeout"' in answer
    assert impatient.requests()[-1]["status"] == 408


def test_a_keep_alive_client_still_gets_its_next_answer(impatient: Sandbox) -> None:
    with httpx.Client(base_url=impatient.base_url) as http:
        for _ in range(3):  # back to back, well inside the header timeout
            assert http.get("/api/v1/readiness", headers=runtime(impatient)).status_code == 200


# -- the request log -------------------------------------------------------------------------


@pytest.fixture
def sandbox_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger=SANDBOX_LOGGER):
        yield caplog


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith(SANDBOX_LOGGER)]


def _raw_get(sandbox: Sandbox, target: bytes, extra: bytes = b"") -> bytes:
    with _connect(sandbox) as conn:
        conn.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: s\r\nConnection: close\r\n" + extra + b"\r\n"
        )
        return _read_until_closed(conn)


def test_encoded_newlines_and_escapes_in_a_path_cannot_forge_log_lines(
    sandbox: Sandbox, sandbox_log: pytest.LogCaptureFixture
) -> None:
    target = b"/api/v1/call-logs/x%0aGET%20/api/v1/readiness%20-%3E%20200%1b%5b2K%e2%80%ae"
    assert _raw_get(sandbox, target).startswith(b"HTTP/1.1 404")  # %2F-free "/" inside
    [line] = [m for m in _messages(sandbox_log) if "call-logs" in m]
    assert "\n" not in line
    assert "\x1b" not in line
    assert "\u202e" not in line
    assert target.decode() in line  # the raw target, as sent
    record = sandbox.requests()[-1]
    assert record["path"] == target.decode()
    assert "\n" not in json.dumps(record)


def test_decoded_control_characters_anywhere_in_a_record_are_escaped(
    sandbox: Sandbox, sandbox_log: pytest.LogCaptureFixture
) -> None:
    extra = b"X-Request-Id: a\x85b\xc2\x9bc\r\nIdempotency-Key: k\xe2\x80\xaek\r\n"
    _raw_get(sandbox, b"/api/v1/readiness?tag=%0d%0aFORGED&x=%E2%80%8F", extra)
    record = sandbox.requests()[-1]
    for value in (
        record["client_request_id"],
        record["idempotency_key"],
        *record["query"].values(),
    ):
        assert value is not None
        assert value.isprintable(), value
    assert record["query"]["tag"] == "\\r\\nFORGED"
    [line] = [m for m in _messages(sandbox_log) if "readiness" in m]
    assert line.isprintable()


@pytest.mark.parametrize(
    "target",
    [
        b"/api/v1/call-logs/+15555550199",
        b"/api/v1/call-logs/%2B15555550199",
        b"/api/v1/call-logs/15555550199",
        b"/api/v1/call-logs/(555)%20555-0199",
        b"/api/v1/call-logs?to=%2B1%20555%20555%200199",
    ],
)
def test_phone_numbers_are_masked_in_every_log_line(
    sandbox: Sandbox, sandbox_log: pytest.LogCaptureFixture, target: bytes
) -> None:
    _raw_get(sandbox, target, b"Authorization: Bearer " + sandbox.runtime_key.encode() + b"\r\n")
    lines = [m for m in _messages(sandbox_log) if "call-logs" in m]
    assert lines
    record = json.dumps(sandbox.requests()[-1])
    for text in (*lines, record):
        for shown in ("5550199", "555 0199", "555-0199"):
            assert shown not in text, text
        assert "***99" in text  # masked by the package's one masking function


def test_an_unhandled_error_is_logged_on_prefixed_lines_without_the_number(
    sandbox: Sandbox, sandbox_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(ctx: Any) -> Any:
        raise RuntimeError("lookup failed for +15555550199\nGET /forged -> 200")

    monkeypatch.setitem(_app.HANDLERS, "get_readiness", boom)
    response = httpx.get(sandbox.base_url + "/api/v1/readiness", headers=runtime(sandbox))
    assert response.status_code == 500
    [message] = [m for m in _messages(sandbox_log) if "unhandled error" in m]
    first, *rest = message.split("\n")
    assert first == "sandbox: unhandled error in GET /api/v1/readiness"
    assert rest
    assert all(line.startswith(CONTINUATION) for line in rest)
    assert "+15555550199" not in message
    assert "+***99" in message


def test_loggable_bounds_what_it_copies() -> None:
    assert loggable("x" * 10_000, 100) == "x" * 100 + "...(+300 chars)"  # read up to 4x
    assert loggable(None) is None
    assert loggable("call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M") == "call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M"
    assert loggable("2026-12-01T08:13:23Z") == "2026-12-01T08:13:23Z"  # a date is not a number


# -- outbound requests stay on this machine --------------------------------------------------


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/hook", True),
        ("http://127.9.9.9/hook", True),
        ("http://[::1]:9/hook", True),
        ("http://localhost:1/x", True),
        ("http://api.localhost/x", True),
        ("https://hooks.acme.example/voice", False),
        ("http://10.0.0.1/hook", False),
        ("a:b", False),
        ("not a url", False),
    ],
)
def test_only_loopback_destinations_are_loopback(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_a_webhook_to_another_host_is_recorded_as_refused_not_sent(sandbox: Sandbox) -> None:
    sandbox.configure_webhooks(url="https://hooks.acme.example/voice", max_attempts=1)
    assert httpx.post(
        sandbox.base_url + "/api/v1/make-call", json=CALL, headers=runtime(sandbox)
    ).is_success
    assert sandbox.flush_webhooks(timeout=5)
    [delivery] = sandbox.webhook_deliveries()
    assert delivery["status"] is None
    assert delivery["error"].startswith("RemoteDestinationError")
