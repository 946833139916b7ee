"""The sandbox's injected faults do what they say, seen from a real httpx client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stateset_voice_wrapper.sandbox import ERROR_KINDS, FaultRule, Sandbox
from stateset_voice_wrapper.sandbox.conformance import ContractChecker

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "api-contracts"
CALL = {"to": "+15555550100", "from": "+15555551234", "agent_key": "front_desk"}


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker(CONTRACTS_DIR)


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url) as client:
        yield client


def create(http: httpx.Client, sandbox: Sandbox, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {sandbox.runtime_key}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return http.post("/api/v1/make-call", json=CALL, headers=headers)


def call_count(http: httpx.Client, sandbox: Sandbox) -> int:
    headers = {"Authorization": f"Bearer {sandbox.runtime_key}"}
    total: int = http.get("/api/v1/call-logs", headers=headers).json()["total"]
    return total


@pytest.mark.parametrize(
    ("kind", "retry_after"),
    [("429", "3"), ("500", None), ("503", "3"), ("502", None), ("504", None)],
)
def test_status_faults_answer_with_an_api_error(
    http: httpx.Client,
    sandbox: Sandbox,
    checker: ContractChecker,
    kind: str,
    retry_after: str | None,
) -> None:
    sandbox.set_faults(FaultRule(kind=kind, retry_after=3, path="/api/v1/make-call"))
    response = create(http, sandbox, "k")
    assert response.status_code == int(kind)
    body = response.json()
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers.get("Retry-After") == retry_after
    assert body.get("retry_after") == (None if retry_after is None else 3)
    if kind in ("429", "500", "503"):  # the statuses the contract documents
        checker.check_response(response)
    assert call_count(http, sandbox) == 0  # "before" faults: nothing happened
    assert sandbox.requests()[-2]["fault"] == f"{kind}@before"


def test_html_fault_is_a_proxy_page(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultRule(kind="html"), FaultRule(kind="html", status=503, path="/x"))
    response = create(http, sandbox)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>")
    with pytest.raises(ValueError):  # noqa: PT011 - json's own error, whatever its message
        response.json()


def test_drop_closes_the_connection_before_any_byte(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultRule(kind="drop", times=1))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        create(http, sandbox, "k")
    assert call_count(http, sandbox) == 0
    assert create(http, sandbox, "k").status_code == 201  # the key was not burnt


def test_reset_cuts_the_body_short(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultRule(kind="reset", times=1))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as caught:
        create(http, sandbox)
    assert "complete message body" in str(caught.value) or isinstance(caught.value, httpx.ReadError)
    assert call_count(http, sandbox) == 0


def test_reset_sends_status_headers_and_part_of_the_body(sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultRule(kind="reset", times=1, when="after"))
    headers = {"Authorization": f"Bearer {sandbox.runtime_key}"}
    with (
        httpx.Client(base_url=sandbox.base_url) as http,
        http.stream("POST", "/api/v1/make-call", json=CALL, headers=headers) as response,
    ):
        assert response.status_code == 201
        assert response.headers["x-request-id"].startswith("req_")
        expected = int(response.headers["content-length"])
        received = bytearray()

        def read_all() -> None:
            for chunk in response.iter_raw():
                received.extend(chunk)

        with pytest.raises(httpx.RemoteProtocolError):
            read_all()
        assert 0 < len(received) < expected
        assert received.startswith(b'{"call_id":"call_')


@pytest.mark.parametrize("kind", ["drop", "reset", "503", "html"])
def test_a_fault_after_processing_makes_the_key_matter(
    http: httpx.Client, sandbox: Sandbox, kind: str
) -> None:
    sandbox.set_faults(FaultRule(kind=kind, when="after", times=1, path="/api/v1/make-call"))
    try:
        lost = create(http, sandbox, "appt-1")
        assert lost.status_code >= 500
    except httpx.TransportError:
        pass
    assert call_count(http, sandbox) == 1  # the call exists though the answer was lost
    retried = create(http, sandbox, "appt-1")
    assert retried.status_code == 201
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert call_count(http, sandbox) == 1
    assert sandbox.creations_per_key() == {"appt-1": 1}
    without_key = create(http, sandbox)
    assert without_key.status_code == 201
    assert call_count(http, sandbox) == 2


def test_faults_target_a_path_and_a_method(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultRule(kind="500", path="/api/v1/call-logs*", method="GET"))
    headers = {"Authorization": f"Bearer {sandbox.runtime_key}"}
    assert http.get("/api/v1/call-logs", headers=headers).status_code == 500
    assert http.get("/api/v1/call-logs/call_x", headers=headers).status_code == 500
    assert http.get("/api/v1/voice-sessions", headers=headers).status_code == 200
    assert create(http, sandbox).status_code == 201
    assert http.get("/api-docs/public.json").status_code == 200  # never faulted


def test_times_limits_how_often_a_rule_fires(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultRule(kind="503", times=2))
    assert [create(http, sandbox).status_code for _ in range(4)] == [503, 503, 201, 201]


def test_latency_delays_the_answer(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultRule(kind="latency", latency_ms=150, times=1))
    started = time.monotonic()
    assert create(http, sandbox).status_code == 201
    assert time.monotonic() - started >= 0.15  # a lower bound: cannot flake on a busy machine
    assert create(http, sandbox).status_code == 201
    # The second request got no delay: read from the request log, not from a stopwatch.
    delays = [r["latency_ms"] for r in sandbox.requests() if r["path"] == "/api/v1/make-call"]
    assert delays == [{"before": 150}, None]


def _pattern(instance: Sandbox) -> list[int]:
    with httpx.Client(base_url=instance.base_url) as client:
        return [create(client, instance).status_code for _ in range(30)]


def test_rates_are_deterministic_under_a_seed(sandbox_factory: Callable[..., Sandbox]) -> None:
    rule = FaultRule(kind="500", rate=0.3)
    first = _pattern(sandbox_factory(seed=11, faults=[rule]))
    second = _pattern(sandbox_factory(seed=11, faults=[rule]))
    other = _pattern(sandbox_factory(seed=12, faults=[rule]))
    assert first == second
    assert first != other
    assert 0 < first.count(500) < 30


def test_mixed_faults_cover_every_class(sandbox_factory: Callable[..., Sandbox]) -> None:
    instance = sandbox_factory(seed=3, faults=[{"kind": "mixed", "rate": 1.0, "when": "any"}])
    outcomes: set[str] = set()
    with httpx.Client(base_url=instance.base_url) as client:
        for _ in range(60):
            try:
                response = create(client, instance)
                html = response.headers["content-type"].startswith("text/html")
                outcomes.add("html" if html else str(response.status_code))
            except httpx.TransportError as exc:
                outcomes.add("reset" if "complete message body" in str(exc) else "drop")
    assert outcomes == set(ERROR_KINDS)
    fired = httpx.get(
        instance.base_url + "/_sandbox/faults", headers={"x-admin-key": instance.admin_key}
    ).json()["fired"]
    assert sum(fired.values()) == 60


def test_faults_are_set_over_http(http: httpx.Client, sandbox: Sandbox) -> None:
    url = sandbox.base_url + "/_sandbox/faults"
    admin = {"x-admin-key": sandbox.admin_key}
    body: dict[str, Any] = {"rules": [{"kind": "502", "path": "/api/v1/make-call", "times": 1}]}
    described = httpx.post(url, json=body, headers=admin).json()
    assert described["rules"][0]["kind"] == "502"
    assert described["rules"][0]["times_left"] == 1
    assert create(http, sandbox).status_code == 502
    appended = httpx.post(
        url, json={"rules": [{"kind": "504"}], "append": True}, headers=admin
    ).json()
    assert [r["kind"] for r in appended["rules"]] == ["502", "504"]
    assert create(http, sandbox).status_code == 504
    assert httpx.delete(url, headers=admin).json()["rules"] == []
    assert create(http, sandbox).status_code == 201
    bad = httpx.post(url, json={"rules": [{"kind": "418"}]}, headers=admin)
    assert bad.status_code == 422
    assert "unknown fault kind" in bad.json()["message"]
    typo = httpx.post(url, json=[{"kind": "500", "rat": 1}], headers=admin)
    assert typo.status_code == 422


def test_faults_can_be_given_at_start(sandbox_factory: Callable[..., Sandbox]) -> None:
    instance = sandbox_factory(faults=[FaultRule(kind="504", times=1)])
    with httpx.Client(base_url=instance.base_url) as client:
        assert create(client, instance).status_code == 504
        assert create(client, instance).status_code == 201


def test_faulted_requests_count_in_the_error_rate_gate(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.set_faults(FaultRule(kind="500", times=1), FaultRule(kind="drop", times=1))
    assert create(http, sandbox).status_code == 500
    with pytest.raises(httpx.RemoteProtocolError):
        create(http, sandbox)
    sandbox.clear_faults()
    create(http, sandbox)
    sweep = http.post(
        "/api/v1/admin/rollout-governance/sweep",
        json={"tenant_id": "ten_sandbox"},
        headers={"x-admin-key": sandbox.admin_key},
    ).json()
    error_rate = next(g for g in sweep["gates"] if g["gate"] == "error_rate")
    assert error_rate["status"] == "failed"
    assert error_rate["observed"] == pytest.approx(2 / 3, abs=0.01)
