"""The sandbox: auth, validation, contract conformance, state, idempotency, rate limits, CLI.

Every test talks HTTP to a real sandbox on loopback. Every response that comes back through the
``client`` fixture is validated against the pinned contract with openapi-core (an httpx event
hook), so each test here is also a conformance test. Calls move only through
``sandbox.advance(...)``: nothing sleeps.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stateset_voice_wrapper.sandbox import (
    ContractsNotFoundError,
    FaultRule,
    Sandbox,
    main,
    outcome_for_number,
)
from stateset_voice_wrapper.sandbox._constants import TEST_DEFAULTS
from stateset_voice_wrapper.sandbox._spec import load_contracts
from stateset_voice_wrapper.sandbox.conformance import ContractChecker
from stateset_voice_wrapper.webhooks import compute_twilio_signature

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

REPO = Path(__file__).resolve().parents[1]
CONTRACTS_DIR = REPO / "api-contracts"
OPERATIONS = load_contracts(CONTRACTS_DIR).operations
CALL = {"to": "+15555550100", "from": "+15555551234", "agent_key": "front_desk"}


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker(CONTRACTS_DIR)


@pytest.fixture
def client(sandbox: Sandbox, checker: ContractChecker) -> Iterator[httpx.Client]:
    """An httpx client on the sandbox that checks every response against the contract."""
    with httpx.Client(
        base_url=sandbox.base_url, event_hooks={"response": [checker.httpx_hook]}
    ) as http:
        yield http


def runtime(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.runtime_key}", **extra}


def admin(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    return {"x-admin-key": sandbox.admin_key, **extra}


def make_call(
    client: httpx.Client, sandbox: Sandbox, key: str | None = None, **body: Any
) -> httpx.Response:
    headers = runtime(sandbox) if key is None else runtime(sandbox, **{"Idempotency-Key": key})
    return client.post("/api/v1/make-call", json={**CALL, **body}, headers=headers)


# -- auth ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[Sandbox]:
    """One sandbox for the read-only table tests (starting one per row adds up)."""
    with Sandbox(**{**TEST_DEFAULTS, "rate_limit": 10_000}) as instance:
        yield instance


@pytest.fixture
def shared_client(shared_sandbox: Sandbox, checker: ContractChecker) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=shared_sandbox.base_url, event_hooks={"response": [checker.httpx_hook]}
    ) as http:
        yield http


def _send(client: httpx.Client, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    url = path.replace("{", "").replace("}", "")  # /calls/{call_id} -> /calls/call_id
    body: dict[str, Any] | None = {} if method in ("POST", "PUT") else None
    return client.request(method, url, json=body, headers=headers)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_operation_without_credential_is_refused_as_the_contract_says(
    shared_client: httpx.Client, op: Any
) -> None:
    response = _send(shared_client, op.method, op.path, {})
    assert response.headers["x-request-id"].startswith("req_")
    if "bearerAuth" in op.security or "adminKey" in op.security:
        assert response.status_code == 401
        body = response.json()
        assert body["code"] == "unauthorized"
        assert body["request_id"] == response.headers["x-request-id"]
    elif "twilioSignature" in op.security:
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/xml")
        assert "<Reject" in response.text
    else:
        assert op.operation_id == "create_access_request"
        assert response.status_code == 422  # past auth, stopped by validation of "{}"


@pytest.mark.parametrize(
    "op",
    [op for op in OPERATIONS if "bearerAuth" in op.security or "adminKey" in op.security],
    ids=lambda op: op.operation_id,
)
def test_the_other_key_or_a_wrong_key_is_refused(
    shared_client: httpx.Client, shared_sandbox: Sandbox, op: Any
) -> None:
    if "bearerAuth" in op.security:
        wrong = [admin(shared_sandbox), {"Authorization": "Bearer sk_test_wrong"}]
        wrong.append({"Authorization": shared_sandbox.runtime_key})  # no "Bearer "
    else:
        wrong = [runtime(shared_sandbox), {"x-admin-key": "ak_test_wrong"}]
    for headers in wrong:
        assert _send(shared_client, op.method, op.path, headers).status_code == 401


def test_control_endpoints_need_the_admin_key(sandbox: Sandbox) -> None:
    for headers in ({}, runtime(sandbox), {"x-admin-key": "nope"}):
        response = httpx.get(sandbox.base_url + "/_sandbox/info", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
    info = httpx.get(sandbox.base_url + "/_sandbox/info", headers=admin(sandbox)).json()
    assert info["runtime_key"] == sandbox.runtime_key
    assert info["base_url"] == sandbox.base_url


def test_keys_have_their_documented_shapes(sandbox: Sandbox) -> None:
    assert sandbox.runtime_key.startswith("sk_test_")
    assert sandbox.admin_key.startswith("ak_test_")
    assert sandbox.webhook_secret.startswith("whsec_")
    assert len(sandbox.twilio_auth_token) == 32


def test_the_same_seed_gives_the_same_keys_and_ids(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    first, second = sandbox_factory(seed=42), sandbox_factory(seed=42)
    assert first.runtime_key == second.runtime_key
    assert first.admin_key == second.admin_key
    ids = []
    for instance in (first, second):
        with httpx.Client(base_url=instance.base_url) as http:
            ids.append(make_call(http, instance, "k").json()["call_id"])
    assert ids[0] == ids[1]
    assert sandbox_factory(seed=43).runtime_key != first.runtime_key


# -- contracts and validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "file_name"),
    [
        ("/api-docs/public.json", "stateset-voice-public.json"),
        ("/api-docs/admin.json", "stateset-voice-admin.json"),
    ],
)
def test_contracts_are_served_byte_for_byte_without_auth(
    sandbox: Sandbox, path: str, file_name: str
) -> None:
    response = httpx.get(sandbox.base_url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.content == (CONTRACTS_DIR / file_name).read_bytes()


def test_invalid_body_is_422_with_a_detail_per_field(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    response = client.post(
        "/api/v1/make-call",
        json={"to": "555", "from": "+15555551234", "metadata": "nope", "greeting": "x" * 1001},
        headers=runtime(sandbox),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["request_id"] == response.headers["x-request-id"]
    fields = {d["field"]: d for d in body["details"]}
    assert set(fields) == {"to", "agent_key", "metadata", "greeting"}
    assert fields["to"] == {
        "field": "to",
        "message": "must be an E.164 phone number",
        "code": "invalid_format",
    }
    assert fields["agent_key"]["code"] == "required"
    assert "555" not in json.dumps(body)  # values (phone numbers) are never echoed


def test_nested_field_paths_are_dotted(client: httpx.Client, sandbox: Sandbox) -> None:
    response = client.put(
        "/api/v1/admin/tenants/ten_sandbox/runtime-config",
        json={
            "model": "m",
            "voice": "v",
            "system_prompt_key": "p",
            "telephony": {"max_call_duration_seconds": 5},
        },
        headers=admin(sandbox),
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "telephony.max_call_duration_seconds"


def test_unparseable_json_is_400(client: httpx.Client, sandbox: Sandbox) -> None:
    response = client.post(
        "/api/v1/make-call",
        content=b"{not json",
        headers=runtime(sandbox, **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert response.json()["details"][0]["code"] == "invalid_json"


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "offset=-1", "status=x"])
def test_bad_list_parameters_are_400_with_details(
    client: httpx.Client, sandbox: Sandbox, query: str
) -> None:
    response = client.get(f"/api/v1/call-logs?{query}", headers=runtime(sandbox))
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == query.split("=")[0]


def test_unknown_paths_are_404_api_errors(sandbox: Sandbox) -> None:
    response = httpx.get(sandbox.base_url + "/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_contracts_dir_can_be_passed_and_a_wrong_one_is_explained(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    copy = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, copy)
    instance = sandbox_factory(contracts_dir=copy)
    assert instance.info()["contracts_dir"] == str(copy.resolve())
    with pytest.raises(ContractsNotFoundError, match="does not contain"):
        Sandbox(contracts_dir=tmp_path / "empty").start()


# -- headers and request log ---------------------------------------------------------------


def test_every_response_carries_request_id_and_rate_limit_headers(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    responses = [
        make_call(client, sandbox),
        client.get("/api/v1/call-logs", headers=runtime(sandbox)),
        client.get("/api/v1/call-logs", headers={}),
        client.get("/api/v1/admin/tenants", headers=admin(sandbox)),
        client.get("/api-docs/public.json"),
    ]
    seen = set()
    for response in responses:
        request_id = response.headers["x-request-id"]
        assert request_id.startswith("req_")
        seen.add(request_id)
        for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
            assert int(response.headers[name]) >= 0
    assert len(seen) == len(responses)


def test_the_client_request_id_is_recorded(client: httpx.Client, sandbox: Sandbox) -> None:
    response = client.get(
        "/api/v1/readiness", headers=runtime(sandbox, **{"X-Request-Id": "client-abc"})
    )
    record = sandbox.requests()[-1]
    assert record["client_request_id"] == "client-abc"
    assert record["request_id"] == response.headers["x-request-id"]
    assert record["operation_id"] == "get_readiness"
    assert record["status"] == 200
    over_http = httpx.get(sandbox.base_url + "/_sandbox/requests", headers=admin(sandbox))
    assert over_http.json()["items"][-1]["client_request_id"] == "client-abc"


# -- calls, sessions, evaluations ----------------------------------------------------------


def test_a_call_moves_through_its_lifecycle_on_advance(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    created = make_call(client, sandbox, greeting="Hi, Acme here.", metadata={"appt": "A-1"})
    assert created.status_code == 201
    call = created.json()
    assert call["call_id"].startswith("call_")
    assert (call["status"], call["session_id"]) == ("queued", None)
    call_id = call["call_id"]

    def log() -> dict[str, Any]:
        response = client.get(f"/api/v1/call-logs/{call_id}", headers=runtime(sandbox))
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result

    assert log()["status"] == "queued"
    assert sandbox.advance() == [{"call_id": call_id, "from": "queued", "to": "ringing"}]
    assert log()["status"] == "ringing"
    sandbox.advance()
    answered = log()
    assert answered["status"] == "in-progress"
    assert answered["started_at"] is not None
    session_id = answered["session_id"]
    live = client.get(f"/api/v1/voice-sessions/{session_id}", headers=runtime(sandbox)).json()
    assert live["status"] == "active"
    assert live["transcript"][0] == {
        "speaker": "agent",
        "text": "Hi, Acme here.",
        "start_ms": 0,
        "end_ms": 3000,
        "confidence": None,
    }
    sandbox.advance()
    ended = log()
    assert ended["status"] == "completed"
    assert ended["duration_seconds"] > 0
    assert ended["ended_at"] is not None
    assert ended["metadata"] == {"appt": "A-1"}
    session = client.get(f"/api/v1/voice-sessions/{session_id}", headers=runtime(sandbox)).json()
    assert session["status"] == "completed"
    assert len(session["transcript"]) >= 4
    assert session["function_calls"][0]["arguments"] == {"appt": "A-1"}
    assert session["qa_state"] in ("passed", "failed")
    evaluations = client.get(
        "/api/v1/evaluations", params={"call_id": call_id}, headers=runtime(sandbox)
    ).json()
    assert evaluations["total"] == 1
    evaluation = evaluations["items"][0]
    assert evaluation["score"] == session["evaluation_score"]
    same = client.get(
        f"/api/v1/evaluations/{evaluation['evaluation_id']}", headers=runtime(sandbox)
    ).json()
    assert same == evaluation
    assert sandbox.advance(steps=5) == []  # nothing left to do


def test_advance_over_http_and_settle(client: httpx.Client, sandbox: Sandbox) -> None:
    make_call(client, sandbox)
    control = sandbox.base_url + "/_sandbox/advance"
    one = httpx.post(control, json={"steps": 1}, headers=admin(sandbox)).json()
    assert [t["to"] for t in one["transitions"]] == ["ringing"]
    rest = httpx.post(control, json={"settle": True}, headers=admin(sandbox)).json()
    assert [t["to"] for t in rest["transitions"]] == ["in-progress", "completed"]


def test_conversations_are_deterministic(sandbox_factory: Callable[..., Sandbox]) -> None:
    transcripts = []
    for _ in range(2):
        instance = sandbox_factory()
        with httpx.Client(base_url=instance.base_url) as http:
            session_id = None
            make_call(http, instance, greeting="Hello there")
            instance.advance(settle=True)
            sessions = http.get("/api/v1/voice-sessions", headers=runtime(instance)).json()
            session_id = sessions["items"][0]["session_id"]
            session = http.get(
                f"/api/v1/voice-sessions/{session_id}", headers=runtime(instance)
            ).json()
            transcripts.append((session["transcript"], session["tags"], session["summary"]))
    assert transcripts[0] == transcripts[1]


@pytest.mark.parametrize(
    ("to", "status", "escalated"),
    [
        ("+15555550100", "completed", False),
        ("+15555550106", "completed", True),
        ("+15555550107", "no-answer", False),
        ("+15555550108", "failed", False),
        ("+15555550109", "busy", False),
    ],
)
def test_outcome_rule(
    client: httpx.Client, sandbox: Sandbox, to: str, status: str, escalated: bool
) -> None:
    assert outcome_for_number(to) == (status, escalated)
    call_id = make_call(client, sandbox, to=to).json()["call_id"]
    sandbox.advance(settle=True)
    log = client.get(f"/api/v1/call-logs/{call_id}", headers=runtime(sandbox)).json()
    assert (log["status"], log["escalated"]) == (status, escalated)
    if status != "completed":
        assert log["session_id"] is None
        assert log["duration_seconds"] == 0
        return
    session = client.get(
        f"/api/v1/voice-sessions/{log['session_id']}", headers=runtime(sandbox)
    ).json()
    assert session["escalated"] is escalated
    assert session["status"] == ("escalated" if escalated else "completed")
    if escalated:
        assert "escalated" in session["tags"]
        assert session["escalation_reason"]
        assert any(turn["speaker"] == "operator" for turn in session["transcript"])


def test_lists_paginate_newest_first_and_filter(client: httpx.Client, sandbox: Sandbox) -> None:
    ids = []
    for i in range(5):
        ids.append(make_call(client, sandbox, to=f"+1555555010{i}").json()["call_id"])
        sandbox.advance(seconds=1)  # a distinct created_at for each call
    sandbox.advance(settle=True)
    seen: list[str] = []
    offset = 0
    while True:
        page = client.get(
            "/api/v1/call-logs",
            params={"limit": 2, "offset": offset},
            headers=runtime(sandbox),
        ).json()
        assert page["total"] == 5
        assert (page["limit"], page["offset"]) == (2, offset)
        seen += [item["call_id"] for item in page["items"]]
        assert page["has_more"] == (offset + len(page["items"]) < 5)
        if not page["has_more"]:
            break
        offset += 2
    assert seen == ids[::-1]

    def call_ids(**params: Any) -> list[str]:
        response = client.get("/api/v1/call-logs", params=params, headers=runtime(sandbox))
        return [item["call_id"] for item in response.json()["items"]]

    assert call_ids(status="completed") == ids[::-1]
    assert call_ids(direction="inbound") == []
    assert call_ids(agent_key="someone_else") == []
    created = client.get(f"/api/v1/call-logs/{ids[2]}", headers=runtime(sandbox)).json()
    assert call_ids(created_after=created["created_at"]) == [ids[4], ids[3]]
    assert call_ids(created_before=created["created_at"]) == [ids[1], ids[0]]
    assert call_ids(created_before="2000-01-01T00:00:00Z") == []
    sessions = client.get(
        "/api/v1/voice-sessions", params={"call_id": ids[0]}, headers=runtime(sandbox)
    ).json()
    assert [s["call_id"] for s in sessions["items"]] == [ids[0]]
    tag = sessions["items"][0]["tags"][0]
    tagged = client.get("/api/v1/voice-sessions", params={"tag": tag}, headers=runtime(sandbox))
    assert all(tag in s["tags"] for s in tagged.json()["items"])
    passed = client.get("/api/v1/evaluations", params={"passed": "true"}, headers=runtime(sandbox))
    failed = client.get("/api/v1/evaluations", params={"passed": "false"}, headers=runtime(sandbox))
    assert passed.json()["total"] + failed.json()["total"] == 5


def test_unknown_ids_are_404(client: httpx.Client, sandbox: Sandbox) -> None:
    for path in ("/call-logs/call_x", "/voice-sessions/vs_x", "/evaluations/ev_x"):
        response = client.get("/api/v1" + path, headers=runtime(sandbox))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


# -- idempotency ---------------------------------------------------------------------------


def test_same_key_same_body_replays_the_first_response(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    first = make_call(client, sandbox, "appt-A-123-confirm")
    sandbox.advance(settle=True)  # the call moved on; the replay is still the first answer
    again = make_call(client, sandbox, "appt-A-123-confirm")
    assert again.status_code == first.status_code == 201
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    reordered = client.post(
        "/api/v1/make-call",
        content=json.dumps(dict(reversed(list(CALL.items())))),
        headers=runtime(
            sandbox, **{"Idempotency-Key": "appt-A-123-confirm", "Content-Type": "application/json"}
        ),
    )
    assert reordered.headers["Idempotent-Replayed"] == "true"  # same JSON value, other order
    assert sandbox.creations_per_key() == {"appt-A-123-confirm": 1}
    logs = client.get("/api/v1/call-logs", headers=runtime(sandbox)).json()
    assert logs["total"] == 1


def test_same_key_other_body_is_a_conflict(client: httpx.Client, sandbox: Sandbox) -> None:
    make_call(client, sandbox, "k-1")
    conflict = make_call(client, sandbox, "k-1", to="+15555550199")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"
    assert sandbox.creations_per_key() == {"k-1": 1}


def test_a_key_still_in_progress_is_a_conflict(
    sandbox_factory: Callable[..., Sandbox], checker: ContractChecker
) -> None:
    # The first request to arrive is held for 300 ms after it reserved its key.
    instance = sandbox_factory(
        faults=[FaultRule(kind="latency", latency_ms=300, when="during", times=1)]
    )
    results: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=instance.base_url) as http:
            results.append(make_call(http, instance, "slow-key"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409]
    busy = next(r for r in results if r.status_code == 409)
    assert busy.json()["code"] == "idempotency_in_progress"
    for response in results:
        checker.check_response(response)
    assert instance.creations_per_key() == {"slow-key": 1}


def test_refused_requests_do_not_burn_the_key(client: httpx.Client, sandbox: Sandbox) -> None:
    invalid = make_call(client, sandbox, "k-2", to="nope")
    assert invalid.status_code == 422
    assert make_call(client, sandbox, "k-2").status_code == 201
    assert "Idempotent-Replayed" not in make_call(client, sandbox, "k-3").headers


def test_creations_per_key_over_http(client: httpx.Client, sandbox: Sandbox) -> None:
    make_call(client, sandbox, "a")
    make_call(client, sandbox, "a")
    make_call(client, sandbox, "b")
    make_call(client, sandbox)  # no key: not counted
    url = sandbox.base_url + "/_sandbox/idempotency"
    one = httpx.get(url, params={"operation": "make_call"}, headers=admin(sandbox)).json()
    assert one["creations_per_key"] == {"a": 1, "b": 1}
    everything = httpx.get(url, headers=admin(sandbox)).json()
    assert everything["creations_per_key"] == {"make_call": {"a": 1, "b": 1}}


def test_every_operation_with_the_key_parameter_replays(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    staged = client.post(
        "/api/v1/admin/agent-versions",
        json={"agent_key": "front_desk", "model": "m", "voice": "v", "system_prompt_key": "p"},
        headers=admin(sandbox, **{"Idempotency-Key": "stage-1"}),
    )
    version_id = staged.json()["version_id"]
    requests: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/access-requests", ACCESS_REQUEST),
        ("/api/v1/admin/agent-versions/" + version_id + "/approve", {"approved_by": "a"}),
        ("/api/v1/admin/agent-versions/" + version_id + "/publish", {}),
        ("/api/v1/admin/rollout-governance/sweep", {"dry_run": True}),
        ("/api/v1/admin/phone-routes", ROUTE),
    ]
    for path, body in requests:
        headers = admin(sandbox, **{"Idempotency-Key": "key-" + path})
        first = client.post(path, json=body, headers=headers)
        assert first.status_code in (200, 201), first.text
        again = client.post(path, json=body, headers=headers)
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert again.headers["Idempotent-Replayed"] == "true"
    replay = client.post(
        "/api/v1/admin/agent-versions",
        json={"agent_key": "front_desk", "model": "m", "voice": "v", "system_prompt_key": "p"},
        headers=admin(sandbox, **{"Idempotency-Key": "stage-1"}),
    )
    assert replay.json()["version_id"] == version_id
    assert sandbox.creations_per_key("stage_agent_version") == {"stage-1": 1}


# -- rate limits ---------------------------------------------------------------------------


def test_rate_limit_is_429_with_retry_after(
    sandbox_factory: Callable[..., Sandbox], checker: ContractChecker
) -> None:
    instance = sandbox_factory(rate_limit=2, rate_limit_refill_per_second=0.01)
    with httpx.Client(
        base_url=instance.base_url, event_hooks={"response": [checker.httpx_hook]}
    ) as http:
        statuses = [
            http.get("/api/v1/readiness", headers=runtime(instance)).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        limited = http.get("/api/v1/readiness", headers=runtime(instance))
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "100"
        body = limited.json()
        assert (body["code"], body["retry_after"]) == ("rate_limited", 100)
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert limited.headers["X-RateLimit-Limit"] == "2"
        # buckets are per credential
        assert http.get("/api/v1/admin/tenants", headers=admin(instance)).status_code == 200
        limited_call = make_call(http, instance, "rl-key")
        assert limited_call.status_code == 429
    assert instance.creations_per_key() == {}
    instance.set_rate_limit(limit=100, refill_per_second=1)
    assert httpx.get(instance.base_url + "/api/v1/readiness", headers=runtime(instance)).is_success


def test_rate_limit_can_be_changed_over_http(sandbox: Sandbox) -> None:
    response = httpx.post(
        sandbox.base_url + "/_sandbox/rate-limit",
        json={"limit": 1, "refill_per_second": 0.5},
        headers=admin(sandbox),
    )
    assert response.json() == {"limit": 1, "refill_per_second": 0.5}
    url = sandbox.base_url + "/api/v1/readiness"
    assert httpx.get(url, headers=runtime(sandbox)).status_code == 200
    second = httpx.get(url, headers=runtime(sandbox))
    assert (second.status_code, second.headers["Retry-After"]) == (429, "2")


# -- admin ---------------------------------------------------------------------------------

ACCESS_REQUEST = {
    "company": "Acme",
    "contact_name": "Ada",
    "email": "ada@acme.example",
    "use_case": "appointment reminders",
}
ROUTE = {"phone_number": "+15555559876", "tenant_id": "ten_acme", "agent_key": "support"}


def test_tenants_list_and_get(client: httpx.Client, sandbox: Sandbox) -> None:
    tenants = client.get("/api/v1/admin/tenants", headers=admin(sandbox)).json()
    assert tenants["total"] == 3
    ids = [t["tenant_id"] for t in tenants["items"]]
    assert sandbox.tenant_id in ids
    page = client.get(
        "/api/v1/admin/tenants", params={"limit": 1, "offset": 2}, headers=admin(sandbox)
    )
    assert [t["tenant_id"] for t in page.json()["items"]] == ids[2:]
    assert client.get("/api/v1/admin/tenants/ten_acme", headers=admin(sandbox)).status_code == 200
    assert client.get("/api/v1/admin/tenants/ten_no", headers=admin(sandbox)).status_code == 404


def test_runtime_config_revision_moves_on_change_only(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    url = "/api/v1/admin/tenants/ten_sandbox/runtime-config"
    before = client.get(url, headers=admin(sandbox)).json()
    update = {
        "model": "gpt-realtime",
        "voice": "verse",
        "system_prompt_key": "front_desk_v2",
        "webhook_url": "https://example.test/hooks",
        "telephony": {"default_from_number": "+15555551234", "recording_enabled": True},
    }
    stored = client.put(url, json=update, headers=admin(sandbox)).json()
    assert stored["revision"] == before["revision"] + 1
    assert (stored["voice"], stored["webhook_url"]) == ("verse", "https://example.test/hooks")
    assert (
        client.put(url, json=update, headers=admin(sandbox)).json()["revision"]
        == (stored["revision"])
    )
    changed = client.put(url, json={**update, "voice": "alloy"}, headers=admin(sandbox)).json()
    assert changed["revision"] == stored["revision"] + 1
    assert client.get(url, headers=admin(sandbox)).json() == changed
    missing = client.put(
        "/api/v1/admin/tenants/ten_no/runtime-config", json=update, headers=admin(sandbox)
    )
    assert missing.status_code == 404


def test_agent_version_state_machine(client: httpx.Client, sandbox: Sandbox) -> None:
    def stage() -> dict[str, Any]:
        body = {"agent_key": "front_desk", "model": "m", "voice": "v", "system_prompt_key": "p"}
        response = client.post("/api/v1/admin/agent-versions", json=body, headers=admin(sandbox))
        assert response.status_code == 201
        result: dict[str, Any] = response.json()
        return result

    def act(version_id: str, action: str, body: dict[str, Any]) -> httpx.Response:
        return client.post(
            f"/api/v1/admin/agent-versions/{version_id}/{action}", json=body, headers=admin(sandbox)
        )

    first = stage()
    assert (first["status"], first["version"], first["tenant_id"]) == ("staged", 1, "ten_sandbox")
    early = act(first["version_id"], "publish", {})
    assert (early.status_code, early.json()["code"]) == (409, "invalid_state_transition")
    approved = act(first["version_id"], "approve", {"approved_by": "ops@acme.example"}).json()
    assert (approved["status"], approved["approved_by"]) == ("approved", "ops@acme.example")
    assert act(first["version_id"], "approve", {"approved_by": "x"}).status_code == 409
    published = act(first["version_id"], "publish", {"traffic_percent": 40}).json()
    assert (published["status"], published["traffic_percent"]) == ("published", 40)
    assert act(first["version_id"], "publish", {}).status_code == 409

    second = stage()
    assert second["version"] == 2
    act(second["version_id"], "approve", {"approved_by": "ops"})
    act(second["version_id"], "publish", {})
    old = client.get(
        f"/api/v1/admin/agent-versions/{first['version_id']}", headers=admin(sandbox)
    ).json()
    assert (old["status"], old["traffic_percent"]) == ("retired", 0)
    listed = client.get(
        "/api/v1/admin/agent-versions", params={"status": "published"}, headers=admin(sandbox)
    ).json()
    assert [v["version_id"] for v in listed["items"]] == [second["version_id"]]
    everything = client.get("/api/v1/admin/agent-versions", headers=admin(sandbox)).json()
    assert [v["version"] for v in everything["items"]] == [2, 1]
    assert act("av_nope", "approve", {"approved_by": "x"}).status_code == 404
    unknown_tenant = client.post(
        "/api/v1/admin/agent-versions",
        json={
            "tenant_id": "ten_no",
            "agent_key": "a",
            "model": "m",
            "voice": "v",
            "system_prompt_key": "p",
        },
        headers=admin(sandbox),
    )
    assert unknown_tenant.status_code == 422


def test_phone_routes_crud(client: httpx.Client, sandbox: Sandbox) -> None:
    created = client.post("/api/v1/admin/phone-routes", json=ROUTE, headers=admin(sandbox))
    assert created.status_code == 201
    route = created.json()
    assert route["route_id"].startswith("pr_")
    assert route["enabled"] is True
    taken = client.post("/api/v1/admin/phone-routes", json=ROUTE, headers=admin(sandbox))
    assert (taken.status_code, taken.json()["code"]) == (409, "phone_number_taken")
    url = f"/api/v1/admin/phone-routes/{route['route_id']}"
    updated = client.put(
        url, json={"enabled": False, "fallback_number": "+15555550000"}, headers=admin(sandbox)
    ).json()
    assert (updated["enabled"], updated["fallback_number"]) == (False, "+15555550000")
    assert updated["agent_key"] == "support"
    assert client.get(url, headers=admin(sandbox)).json() == updated
    acme = client.get(
        "/api/v1/admin/phone-routes", params={"tenant_id": "ten_acme"}, headers=admin(sandbox)
    ).json()
    assert [r["route_id"] for r in acme["items"]] == [route["route_id"]]
    deleted = client.delete(url, headers=admin(sandbox))
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert client.delete(url, headers=admin(sandbox)).status_code == 404
    assert client.get(url, headers=admin(sandbox)).status_code == 404


def test_rollout_policy_and_sweep_gates(client: httpx.Client, sandbox: Sandbox) -> None:
    policy_url = "/api/v1/admin/tenants/ten_sandbox/rollout-policy"
    policy = client.put(
        policy_url,
        json={"stage": "shadow", "traffic_percent": 0, "min_synthetic_calls": 2},
        headers=admin(sandbox),
    ).json()
    assert (policy["min_synthetic_calls"], policy["max_error_rate"]) == (2, 0.02)
    assert client.get(policy_url, headers=admin(sandbox)).json() == policy

    def sweep(**body: Any) -> dict[str, Any]:
        response = client.post(
            "/api/v1/admin/rollout-governance/sweep",
            json={"tenant_id": "ten_sandbox", **body},
            headers=admin(sandbox),
        )
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result

    def gates(result: dict[str, Any]) -> dict[str, tuple[str, float]]:
        return {g["gate"]: (g["status"], g["observed"]) for g in result["gates"]}

    held = sweep()
    assert held["decision"] == "hold"
    assert held["dry_run"] is True
    assert gates(held)["synthetic_calls"] == ("failed", 0)
    assert gates(held)["approval"] == ("failed", 0)
    assert gates(held)["duplicate_outbound_calls"] == ("passed", 0)

    make_call(client, sandbox, "s-1")
    make_call(client, sandbox, "s-2", to="+15555550101")
    make_call(client, sandbox, "s-1")  # a replay is not a duplicate
    sandbox.advance(settle=True)
    version = client.post(
        "/api/v1/admin/agent-versions",
        json={"agent_key": "front_desk", "model": "m", "voice": "v", "system_prompt_key": "p"},
        headers=admin(sandbox),
    ).json()
    client.post(
        f"/api/v1/admin/agent-versions/{version['version_id']}/approve",
        json={"approved_by": "ops"},
        headers=admin(sandbox),
    )
    ready = sweep()
    assert ready["decision"] == "promote"
    assert gates(ready)["synthetic_calls"] == ("passed", 2)
    assert client.get(policy_url, headers=admin(sandbox)).json()["stage"] == "shadow"
    applied = sweep(dry_run=False)
    assert applied["decision"] == "promote"
    promoted = client.get(policy_url, headers=admin(sandbox)).json()
    assert (promoted["stage"], promoted["traffic_percent"]) == ("canary", 10)
    everyone = client.post(
        "/api/v1/admin/rollout-governance/sweep", json={}, headers=admin(sandbox)
    ).json()
    assert everyone["tenant_id"] is None
    assert len(everyone["gates"]) == 10  # five gates for each of the two active tenants
    unknown = client.post(
        "/api/v1/admin/rollout-governance/sweep",
        json={"tenant_id": "ten_no"},
        headers=admin(sandbox),
    )
    assert unknown.status_code == 422


# -- public odds and ends ------------------------------------------------------------------


def test_access_requests_need_no_credential(client: httpx.Client, sandbox: Sandbox) -> None:
    response = client.post("/api/v1/access-requests", json=ACCESS_REQUEST)
    assert response.status_code == 201
    assert response.json()["access_request_id"].startswith("ar_")
    assert response.json()["status"] == "received"
    bad_email = client.post("/api/v1/access-requests", json={**ACCESS_REQUEST, "email": "x"})
    assert bad_email.json()["details"][0]["field"] == "email"


def test_readiness(client: httpx.Client, sandbox: Sandbox) -> None:
    readiness = client.get("/api/v1/readiness", headers=runtime(sandbox)).json()
    assert (readiness["status"], readiness["tenant_id"]) == ("ready", "ten_sandbox")
    checks = {c["name"]: c["status"] for c in readiness["checks"]}
    assert checks["credential"] == "pass"
    assert checks["webhooks"] == "warn"


def _twilio_post(
    client: httpx.Client, sandbox: Sandbox, params: dict[str, str], token: str
) -> httpx.Response:
    url = sandbox.base_url + "/api/v1/incoming-call"
    signature = compute_twilio_signature(auth_token=token, url=url, params=params)
    return client.post(url, data=params, headers={"X-Twilio-Signature": signature})


TWILIO_PARAMS = {
    "CallSid": "CA" + "1" * 32,
    "AccountSid": "AC" + "2" * 32,
    "From": "+15555550111",
    "To": "+15555551234",
    "CallStatus": "ringing",
    "Direction": "inbound",
}


def test_signed_inbound_call_connects_and_creates_one_inbound_call(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    answer = _twilio_post(client, sandbox, TWILIO_PARAMS, sandbox.twilio_auth_token)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    assert "<Connect><Stream" in answer.text
    again = _twilio_post(client, sandbox, TWILIO_PARAMS, sandbox.twilio_auth_token)
    assert again.text == answer.text  # Twilio retried the same CallSid: same call
    sandbox.advance(settle=True)
    logs = client.get(
        "/api/v1/call-logs", params={"direction": "inbound"}, headers=runtime(sandbox)
    ).json()
    assert logs["total"] == 1
    inbound = logs["items"][0]
    assert (inbound["status"], inbound["agent_key"]) == ("completed", "front_desk")
    assert inbound["call_id"] in answer.text


def test_inbound_call_with_a_bad_signature_is_rejected(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    forged = _twilio_post(client, sandbox, TWILIO_PARAMS, "not-the-token")
    assert forged.status_code == 403
    assert "<Reject" in forged.text
    tampered_params = {**TWILIO_PARAMS, "From": "+15555550999"}
    url = sandbox.base_url + "/api/v1/incoming-call"
    good_signature = compute_twilio_signature(
        auth_token=sandbox.twilio_auth_token, url=url, params=TWILIO_PARAMS
    )
    tampered = client.post(
        url, data=tampered_params, headers={"X-Twilio-Signature": good_signature}
    )
    assert tampered.status_code == 403
    logs = client.get("/api/v1/call-logs", headers=runtime(sandbox)).json()
    assert logs["total"] == 0


def test_inbound_call_to_an_unrouted_number_is_told_so(
    client: httpx.Client, sandbox: Sandbox
) -> None:
    answer = _twilio_post(
        client, sandbox, {**TWILIO_PARAMS, "To": "+15555550000"}, sandbox.twilio_auth_token
    )
    assert answer.status_code == 200
    assert "not in service" in answer.text


# -- running it ----------------------------------------------------------------------------


def test_stop_leaves_nothing_running(sandbox_factory: Callable[..., Sandbox]) -> None:
    before = {t.name for t in threading.enumerate()}
    instance = Sandbox(**TEST_DEFAULTS).start()
    url = instance.base_url
    assert httpx.get(url + "/api-docs/public.json").status_code == 200
    instance.stop()
    assert {t.name for t in threading.enumerate()} == before
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api-docs/public.json")
    with pytest.raises(RuntimeError, match="not running"):
        instance.advance()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])  # noqa: S104
def test_non_loopback_hosts_are_refused_unless_allowed(host: str) -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        Sandbox(host=host)
    assert main(["--host", host, "--port", "0"]) == 2


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_command_prints_keys_and_stops_cleanly_on_signal(stop_signal: int) -> None:
    code = "import sys; from stateset_voice_wrapper.sandbox import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--seed", "5", "--json", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["base_url"].startswith("http://127.0.0.1:")
        assert info["runtime_key"].startswith("sk_test_")
        assert info["seed"] == 5
        readiness = httpx.get(
            info["base_url"] + "/api/v1/readiness",
            headers={"Authorization": f"Bearer {info['runtime_key']}"},
        )
        assert readiness.status_code == 200
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()


def test_banner_names_the_keys() -> None:
    from stateset_voice_wrapper.sandbox._cli import banner

    info = {
        "base_url": "http://127.0.0.1:4010",
        "runtime_key": "sk_test_1",
        "admin_key": "ak_test_1",
        "webhook_secret": "whsec_1",
        "twilio_auth_token": "t",
        "tenant_id": "ten_sandbox",
        "seed": 1,
        "contracts_dir": "/x",
    }
    text = banner(info)
    for value in ("http://127.0.0.1:4010", "sk_test_1", "ak_test_1", "whsec_1"):
        assert value in text


def test_the_core_package_imports_without_the_sandbox_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['aiohttp'] = None\n"
        "import stateset_voice_wrapper, stateset_voice_wrapper.webhooks\n"
        "try:\n"
        "    import stateset_voice_wrapper.sandbox\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert "stateset-voice[sandbox]" in result.stdout


def test_fetch_contracts_against_the_sandbox_finds_them_in_sync(sandbox: Sandbox) -> None:
    from contract_pipeline import check_contracts

    assert check_contracts(base_url=sandbox.base_url, out_dir=CONTRACTS_DIR) == []
