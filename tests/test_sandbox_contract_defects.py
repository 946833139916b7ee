"""Conformance defects that schemathesis and a Prism validation proxy found, one test each.

- a 405 carries ``Allow`` (RFC 9110 section 15.5.6), on every path;
- an empty query value is judged by its parameter's schema (openapi-core refuses them all);
- ``incoming-call`` answers only the statuses its contract declares, as Twilio needs;
- every ``format`` the contracts use is validated, so what is stored conforms when served.

Every response through the ``client`` fixture is also checked against the contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from stateset_voice_wrapper.sandbox import Sandbox
from stateset_voice_wrapper.sandbox._constants import TEST_DEFAULTS
from stateset_voice_wrapper.sandbox._formats import (
    FORMAT_VALIDATORS,
    UnsupportedFormatError,
    check_formats_supported,
    formats_used,
)
from stateset_voice_wrapper.sandbox._spec import load_contracts
from stateset_voice_wrapper.sandbox.conformance import ContractChecker
from stateset_voice_wrapper.webhooks import compute_twilio_signature

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "api-contracts"
CONTRACTS = load_contracts(CONTRACTS_DIR)
DOCUMENTS = CONTRACTS.documents
ACCESS_REQUEST = {
    "company": "Acme",
    "contact_name": "Ada",
    "email": "ada@acme.example",
    "use_case": "appointment reminders",
}


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker(CONTRACTS_DIR)


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    with Sandbox(**{**TEST_DEFAULTS, "rate_limit": 100_000}) as instance:
        yield instance


@pytest.fixture
def client(shared: Sandbox, checker: ContractChecker) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=shared.base_url, event_hooks={"response": [checker.httpx_hook]}
    ) as http:
        yield http


def runtime(sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.runtime_key}"}


def admin(sandbox: Sandbox) -> dict[str, str]:
    return {"x-admin-key": sandbox.admin_key}


def credentials(sandbox: Sandbox, path: str) -> dict[str, str]:
    return admin(sandbox) if path.startswith("/api/v1/admin/") else runtime(sandbox)


# -- 405 and Allow -------------------------------------------------------------------------

PATHS = [(api, path, item) for api, doc in DOCUMENTS.items() for path, item in doc["paths"].items()]


@pytest.mark.parametrize(("api", "path", "item"), PATHS, ids=[p for _, p, _ in PATHS])
def test_a_405_names_the_methods_the_path_allows(
    shared: Sandbox, api: str, path: str, item: dict[str, Any]
) -> None:
    url = shared.base_url + path.replace("{", "x").replace("}", "")
    declared = {m.upper() for m in item if m in ("get", "put", "post", "delete", "patch")}
    for method in ("TRACE", "PATCH", "OPTIONS"):
        if method in declared:
            continue
        response = httpx.request(method, url, headers=credentials(shared, path))
        assert response.status_code == 405, method
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed == declared, method
        assert response.json()["code"] == "method_not_allowed"
        assert response.headers["x-request-id"] == response.json()["request_id"]


def test_control_and_docs_paths_say_what_they_allow_too(shared: Sandbox) -> None:
    faults = httpx.request("PUT", shared.base_url + "/_sandbox/faults", headers=admin(shared))
    assert faults.status_code == 405
    assert set(faults.headers["Allow"].split(",")) == {"GET", "POST", "DELETE"}
    docs = httpx.post(shared.base_url + "/api-docs/public.json")
    assert (docs.status_code, docs.headers["Allow"]) == (405, "GET")


# -- empty query values --------------------------------------------------------------------


def _string_filters() -> list[tuple[str, str, str]]:
    """(path, parameter, schema kind) of every query parameter of a list operation."""
    found = []
    for op in CONTRACTS.operations:
        for param in op.query_parameters:
            schema = param.schema()
            if "enum" in schema:
                kind = "enum"
            elif "format" in schema:
                kind = "format"
            elif schema.get("type") == "string":
                kind = "free"
            else:
                kind = str(schema.get("type"))
            found.append((op.path, param.name, kind))
    return found


FILTERS = _string_filters()


def test_the_brief_s_five_lists_are_among_the_free_text_filters() -> None:
    free = {(path, name) for path, name, kind in FILTERS if kind == "free"}
    for path in (
        "/api/v1/call-logs",
        "/api/v1/voice-sessions",
        "/api/v1/admin/agent-versions",
        "/api/v1/admin/phone-routes",
    ):
        assert (path, "agent_key") in free
    assert ("/api/v1/evaluations", "call_id") in free


@pytest.mark.parametrize(
    ("path", "name", "kind"), FILTERS, ids=[f"{p}?{n}=" for p, n, _ in FILTERS]
)
def test_an_empty_filter_is_judged_by_its_schema(
    client: httpx.Client, shared: Sandbox, path: str, name: str, kind: str
) -> None:
    response = client.get(path, params={name: ""}, headers=credentials(shared, path))
    if kind == "free":
        # "" is a string: the filter applies (no item has an empty key) instead of a 400.
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
        return
    assert response.status_code == 400, response.text
    [detail] = response.json()["details"]
    assert detail["field"] == name
    assert detail["code"] != "required", detail  # the old, wrong answer
    expected = {"enum": "invalid_choice", "format": "invalid_format"}.get(kind, "invalid_type")
    assert detail["code"] == expected


def test_an_empty_free_filter_matches_exactly_the_empty_value(
    client: httpx.Client, shared: Sandbox
) -> None:
    body = {"to": "+15555550100", "from": "+15555551234", "agent_key": "front_desk"}
    assert client.post("/api/v1/make-call", json=body, headers=runtime(shared)).status_code == 201
    everything = client.get("/api/v1/call-logs", headers=runtime(shared)).json()
    assert everything["total"] >= 1
    empty = client.get("/api/v1/call-logs?agent_key=", headers=runtime(shared)).json()
    assert empty["total"] == 0  # not "no filter": no call has an empty agent key
    both = client.get("/api/v1/call-logs?agent_key=&status=", headers=runtime(shared))
    assert [d["field"] for d in both.json()["details"]] == ["status"]


# -- incoming-call answers only what its contract declares ---------------------------------

INCOMING = "/api/v1/incoming-call"
TWILIO_FORM = {
    "CallSid": "CA" + "7" * 32,
    "AccountSid": "AC" + "2" * 32,
    "From": "+15555550111",
    "To": "+15555551234",
    "CallStatus": "ringing",
    "Direction": "inbound",
}


def _signed_post(http: httpx.Client, sandbox: Sandbox, form: dict[str, str]) -> httpx.Response:
    url = sandbox.base_url + INCOMING
    signature = compute_twilio_signature(auth_token=sandbox.twilio_auth_token, url=url, params=form)
    return http.post(url, data=form, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize("missing", ["CallSid", "To", "Direction"])
def test_a_signed_form_twilio_could_not_send_is_rejected_with_twiml_200(
    client: httpx.Client, shared: Sandbox, missing: str
) -> None:
    form = {k: v for k, v in TWILIO_FORM.items() if k != missing}
    answer = _signed_post(client, shared, form)
    assert answer.status_code == 200  # was a 400 the contract does not declare
    assert answer.headers["content-type"].startswith("text/xml")
    assert '<Reject reason="rejected"/>' in answer.text
    assert shared.requests()[-1]["refused"] == "invalid_request"


def test_a_signed_json_body_is_rejected_with_twiml_200(
    client: httpx.Client, shared: Sandbox
) -> None:
    url = shared.base_url + INCOMING
    body = json.dumps(TWILIO_FORM)
    # Signed over what the body holds as form fields, the way the sandbox reads any body.
    pairs = parse_qsl(body, keep_blank_values=True)
    signature = compute_twilio_signature(auth_token=shared.twilio_auth_token, url=url, params=pairs)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/json"}
    answer = client.post(url, content=body, headers=headers)
    assert (answer.status_code, "<Reject" in answer.text) == (200, True)


def test_over_the_rate_limit_a_signed_post_hears_busy_and_an_unsigned_one_is_refused(
    sandbox_factory: Callable[..., Sandbox], checker: ContractChecker
) -> None:
    instance = sandbox_factory(rate_limit=1, rate_limit_refill_per_second=0.001)
    with httpx.Client(event_hooks={"response": [checker.httpx_hook]}) as http:
        first = _signed_post(http, instance, TWILIO_FORM)
        assert (first.status_code, "<Connect>" in first.text) == (200, True)
        limited = _signed_post(http, instance, {**TWILIO_FORM, "CallSid": "CA" + "8" * 32})
        assert limited.status_code == 200  # was a 429 the contract does not declare
        assert '<Reject reason="busy"/>' in limited.text
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        url = instance.base_url + INCOMING
        unsigned = [http.post(url, data=TWILIO_FORM).status_code for _ in range(3)]
        assert unsigned == [403, 403, 403]  # the peer's bucket ran out too: still 403
    refused = [r["refused"] for r in instance.requests() if r.get("refused")]
    assert refused[0] == "rate_limited"


def test_incoming_call_statuses_are_the_declared_ones(shared: Sandbox) -> None:
    declared = CONTRACTS.operation("handle_incoming_call").statuses
    assert declared == {200, 403}
    url = shared.base_url + INCOMING
    with httpx.Client() as http:
        statuses = {
            _signed_post(http, shared, TWILIO_FORM).status_code,
            _signed_post(http, shared, {}).status_code,
            http.post(url, data=TWILIO_FORM).status_code,
            http.post(url, content=b"\xff\xfe", headers={"X-Twilio-Signature": "x"}).status_code,
        }
    assert statuses <= declared


# -- format validation -----------------------------------------------------------------------

INVALID_VALUES: dict[str, list[str]] = {
    "date-time": ["nope", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-01-01"],
    "email": ["x", "x@", "@acme.example", "a@@b.example", "a b@c.example"],
    "uri": ["not a uri", "/relative/path", "//no-scheme.example", "http://exa mple.com"],
}
VALID_VALUES: dict[str, list[str]] = {
    "date-time": ["2026-01-01T00:00:00Z", "2026-01-01t00:00:00.5z", "2026-01-01T01:00:00+01:00"],
    "email": ["ada@acme.example", "a.b+c@x.io", '"a b"@x.io'],
    "uri": ["https://hooks.acme.example/voice", "http://127.0.0.1:9/x?y=1", "urn:isbn:1"],
}
FORMATS_IN_CONTRACTS = sorted({f for doc in DOCUMENTS.values() for f in formats_used(doc)})


def test_every_format_the_contracts_use_has_a_validator_and_test_values() -> None:
    assert FORMATS_IN_CONTRACTS == ["date-time", "email", "uri"]
    for name in FORMATS_IN_CONTRACTS:
        assert name in FORMAT_VALIDATORS
        assert INVALID_VALUES[name], name
        assert VALID_VALUES[name], name


@pytest.mark.parametrize("name", FORMATS_IN_CONTRACTS)
def test_each_validator_refuses_the_invalid_and_takes_the_valid(name: str) -> None:
    check = FORMAT_VALIDATORS[name]
    assert [v for v in INVALID_VALUES[name] if check(v)] == []
    assert [v for v in VALID_VALUES[name] if not check(v)] == []
    assert check(12)  # another type is the `type` keyword's business


def test_a_contract_with_a_format_nobody_validates_is_refused() -> None:
    doc = {"components": {"schemas": {"X": {"type": "string", "format": "hostname"}}}}
    with pytest.raises(UnsupportedFormatError, match="hostname"):
        check_formats_supported("test", doc)
    examples = {"examples": {"default": {"value": {"format": "not a keyword"}}}}
    check_formats_supported("test", examples)  # instance data, not a schema keyword


@pytest.mark.parametrize("value", INVALID_VALUES["date-time"])
def test_an_invalid_date_time_filter_is_refused(
    client: httpx.Client, shared: Sandbox, value: str
) -> None:
    for name in ("created_after", "created_before"):
        response = client.get("/api/v1/call-logs", params={name: value}, headers=runtime(shared))
        assert response.status_code == 400
        assert response.json()["details"] == [
            {"field": name, "message": "must be a valid date-time", "code": "invalid_format"}
        ]


@pytest.mark.parametrize("value", VALID_VALUES["date-time"])
def test_a_valid_date_time_filter_is_applied(
    client: httpx.Client, shared: Sandbox, value: str
) -> None:
    response = client.get(
        "/api/v1/call-logs", params={"created_before": value}, headers=runtime(shared)
    )
    assert response.status_code == 200


@pytest.mark.parametrize("value", INVALID_VALUES["email"])
def test_an_invalid_email_is_refused(client: httpx.Client, value: str) -> None:
    response = client.post("/api/v1/access-requests", json={**ACCESS_REQUEST, "email": value})
    assert response.status_code == 422
    assert response.json()["details"][0] == {
        "field": "email",
        "message": "must be a valid email",
        "code": "invalid_format",
    }


@pytest.mark.parametrize("value", INVALID_VALUES["uri"])
def test_an_invalid_webhook_url_is_refused_and_the_config_stays_valid(
    client: httpx.Client, shared: Sandbox, value: str
) -> None:
    url = "/api/v1/admin/tenants/ten_acme/runtime-config"
    before = client.get(url, headers=admin(shared)).json()
    body = {"model": "m", "voice": "v", "system_prompt_key": "k", "webhook_url": value}
    response = client.put(url, json=body, headers=admin(shared))
    assert response.status_code == 422  # was 200, and the GET then broke the schema
    assert response.json()["details"][0]["field"] == "webhook_url"
    after = client.get(url, headers=admin(shared))  # the hook validates the body
    assert after.json() == before


def test_a_valid_webhook_url_is_stored_and_served(client: httpx.Client, shared: Sandbox) -> None:
    url = "/api/v1/admin/tenants/ten_dormant/runtime-config"
    hook = "https://hooks.acme.example/voice?x=1"
    body = {"model": "m", "voice": "v", "system_prompt_key": "k", "webhook_url": hook}
    assert client.put(url, json=body, headers=admin(shared)).json()["webhook_url"] == hook
    assert client.get(url, headers=admin(shared)).json()["webhook_url"] == hook


def test_the_checker_now_catches_a_served_body_that_breaks_a_format(
    checker: ContractChecker,
) -> None:
    request = httpx.Request(
        "GET",
        "http://sandbox/api/v1/admin/tenants/ten_acme/runtime-config",
        headers={"x-admin-key": "k"},
    )
    body = {
        "tenant_id": "ten_acme",
        "model": "m",
        "voice": "v",
        "system_prompt_key": "k",
        "webhook_url": "not a uri",
        "revision": 2,
        "updated_at": "2026-12-01T00:00:00.000Z",
    }
    served = httpx.Response(200, json=body, request=request, headers={"x-request-id": "req_1"})
    with pytest.raises(AssertionError, match=r"webhook_url|uri"):
        checker.check_response(served)
    body["webhook_url"] = "https://ok.example/"
    checker.check_response(httpx.Response(200, json=body, request=request))


def test_the_brief_s_repro_answers_as_the_contract_says(shared: Sandbox) -> None:
    response = httpx.request(
        "TRACE", shared.base_url + "/api/v1/readiness", headers=runtime(shared)
    )
    assert (response.status_code, response.headers["Allow"]) == (405, "GET")
    assert json.loads(response.content)["code"] == "method_not_allowed"
