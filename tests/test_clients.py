"""The typed clients against a local HTTP server: credentials, validation, wire format,
every operation of both contracts, pagination, errors, context managers and threads.

Sync and async run as one matrix: the ``flavour`` fixture (tests/flavours.py) builds the client
of either flavour and awaits its results when it is async.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx
import pytest
import stateset_voice_public.models as public_models
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from stateset_voice_wrapper import (
    AdminClient,
    APIResponseValidationError,
    AsyncVoiceClient,
    ConfigurationError,
    InternalServerError,
    InvalidParameterError,
    NotFoundError,
    Page,
    ReliabilityConfig,
    RetryBudget,
    VoiceClient,
    response_info,
)
from stateset_voice_wrapper._clients import operations as _operations

if TYPE_CHECKING:
    from tests.flavours import Flavour, Kind
else:
    from flavours import Flavour, Kind

REPO = Path(__file__).resolve().parent.parent
CONTRACTS = {
    "public": REPO / "api-contracts" / "stateset-voice-public.json",
    "admin": REPO / "api-contracts" / "stateset-voice-admin.json",
}
KEY = "sk_live_SECRET_runtime_1234567890"
ADMIN_KEY = "adm_SECRET_admin_0987654321"
TO, FROM = "+15555555678", "+15555551234"


async def _no_sleep(_: float) -> None:
    return None


def _reliability() -> ReliabilityConfig:
    return ReliabilityConfig(sleep=lambda s: None, async_sleep=_no_sleep, budget=RetryBudget())


def _base(httpserver: HTTPServer) -> str:
    return httpserver.url_for("").rstrip("/")


def _client(flavour: Flavour, httpserver: HTTPServer, kind: Kind = "voice", **kwargs: Any) -> Any:
    """A client of ``flavour`` on the local server, with instant retries; closed at teardown."""
    kwargs.setdefault("base_url", _base(httpserver))
    kwargs.setdefault("reliability", _reliability())
    return flavour.client(kind, KEY if kind == "voice" else ADMIN_KEY, **kwargs)


def _run(
    flavour: Flavour,
    httpserver: HTTPServer,
    fn: Callable[[Any], Any],
    *,
    kind: Kind = "voice",
    **kwargs: Any,
) -> Any:
    """``fn`` on a fresh client of ``flavour``: its result (awaited) or its exception."""
    return flavour.call(_client(flavour, httpserver, kind, **kwargs), fn)


def _run_info(
    flavour: Flavour, httpserver: HTTPServer, fn: Callable[[Any], Any], **kwargs: Any
) -> tuple[Any, Any]:
    """Like ``_run`` but also returns the ``response_info()`` record of the call."""
    with response_info() as info:
        result = _run(flavour, httpserver, fn, **kwargs)
    return result, info


def _contract(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CONTRACTS[name].read_text())
    return data


def _operation(op_id: str) -> tuple[str, str, dict[str, Any]]:
    for name in CONTRACTS:
        for path, methods in _contract(name)["paths"].items():
            for method, op in methods.items():
                if isinstance(op, dict) and op.get("operationId") == op_id:
                    return method.upper(), path, op
    raise KeyError(op_id)


def _example(op_id: str) -> tuple[int, str, Any]:
    """The contract's own success response example: (status, content type, value)."""
    _, _, op = _operation(op_id)
    for code, response in op["responses"].items():
        if code.startswith("2"):
            for content_type, media in (response.get("content") or {}).items():
                return int(code), content_type, media["examples"]["default"]["value"]
            return int(code), "", None
    raise KeyError(op_id)


def _call_example() -> dict[str, Any]:
    value: dict[str, Any] = _example("make_call")[2]
    return value


# -- 1. credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "env"),
    [("voice", "STATESET_VOICE_API_KEY"), ("admin", "STATESET_VOICE_ADMIN_API_KEY")],
)
def test_missing_key_names_env_var(
    flavour: Flavour, kind: Kind, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "STATESET_VOICE_API_KEY",
        "STATESET_VOICE_ADMIN_API_KEY",
        "STATESET_ADMIN_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    cls = flavour.client_class(kind)
    with pytest.raises(ConfigurationError) as info:
        cls(base_url="https://voice.example.com")
    assert isinstance(info.value, ValueError)
    assert env in str(info.value)
    # The other client's variable does not satisfy this one.
    others = (
        ("STATESET_VOICE_ADMIN_API_KEY", "STATESET_ADMIN_API_KEY")
        if kind == "voice"
        else ("STATESET_VOICE_API_KEY",)
    )
    for other in others:
        monkeypatch.setenv(other, "wrong-kind-of-key")
    with pytest.raises(ConfigurationError):
        cls(base_url="https://voice.example.com")


@pytest.mark.parametrize(
    ("current", "legacy", "expected"),
    [
        ("adm_new", None, "adm_new"),
        (None, "adm_old", "adm_old"),
        ("adm_new", "adm_old", "adm_new"),  # the current name wins
    ],
)
def test_admin_key_env_names_current_then_legacy(
    current: str | None, legacy: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (
        ("STATESET_VOICE_ADMIN_API_KEY", current),
        ("STATESET_ADMIN_API_KEY", legacy),
    ):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-admin-key"))
        return httpx.Response(200, json=_example("get_tenant")[2])

    with AdminClient(
        base_url="https://voice.example.com", transport=httpx.MockTransport(handler)
    ) as admin:
        admin.tenants.get("ten_1")
    assert seen == [expected]


def test_env_key_and_base_url_pickup(
    flavour: Flavour, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATESET_VOICE_API_KEY", "sk_from_env")
    monkeypatch.setenv("STATESET_VOICE_ADMIN_API_KEY", "adm_from_env")
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", _base(httpserver))
    httpserver.expect_request("/api/v1/readiness").respond_with_json(_example("get_readiness")[2])
    httpserver.expect_request("/api/v1/admin/tenants/ten_1").respond_with_json(
        _example("get_tenant")[2]
    )
    voice = flavour.client("voice", reliability=_reliability())
    admin = flavour.client("admin", reliability=_reliability())
    assert voice.base_url == _base(httpserver)
    assert admin.base_url == _base(httpserver)
    flavour.call(voice, lambda c: c.readiness())
    flavour.call(admin, lambda a: a.tenants.get("ten_1"))
    (ready_req, _), (tenant_req, _) = httpserver.log
    assert ready_req.headers["Authorization"] == "Bearer sk_from_env"
    assert tenant_req.headers["x-admin-key"] == "adm_from_env"


@pytest.mark.parametrize("kind", ["voice", "admin"])
def test_default_base_url_is_production(
    flavour: Flavour, kind: Kind, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STATESET_VOICE_BASE_URL", raising=False)
    assert flavour.client(kind, KEY).base_url == "https://voice.stateset.app"


@pytest.mark.parametrize("kind", ["voice", "admin"])
@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://example.com", False),
        ("http://10.0.0.5:8080", False),
        ("ftp://example.com", False),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:9", True),
        ("http://[::1]:8080", True),
        ("https://voice.example.com", True),
    ],
)
def test_base_url_transport_safety(flavour: Flavour, kind: Kind, url: str, allowed: bool) -> None:
    if not allowed:
        with pytest.raises(ConfigurationError) as info:
            flavour.client(kind, KEY, base_url=url)
        assert isinstance(info.value, ValueError)
        assert KEY not in str(info.value)
        return
    assert flavour.client(kind, KEY, base_url=url).base_url == url


def test_base_url_env_refused_when_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", "http://voice.example.com")
    with pytest.raises(ConfigurationError):
        VoiceClient(KEY)


@pytest.mark.parametrize("kind", ["voice", "admin"])
def test_repr_never_contains_key(flavour: Flavour, kind: Kind, httpserver: HTTPServer) -> None:
    def reprs(client: Any) -> str:
        return repr(client) + str(client) + repr(vars(client).get("_config"))

    text: str = _run(flavour, httpserver, reprs, kind=kind)
    assert KEY not in text
    assert ADMIN_KEY not in text
    assert "SECRET" not in text


def test_runtime_and_admin_auth_headers_are_separate(
    flavour: Flavour, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/api/v1/readiness").respond_with_json(_example("get_readiness")[2])
    httpserver.expect_request("/api/v1/admin/tenants/ten_1").respond_with_json(
        _example("get_tenant")[2]
    )
    _run(flavour, httpserver, lambda c: c.readiness())
    _run(flavour, httpserver, lambda c: c.tenants.get("ten_1"), kind="admin")
    (voice_req, _), (admin_req, _) = httpserver.log
    assert voice_req.headers["Authorization"] == f"Bearer {KEY}"
    assert "x-admin-key" not in voice_req.headers
    assert admin_req.headers["x-admin-key"] == ADMIN_KEY
    assert "Authorization" not in admin_req.headers
    assert ADMIN_KEY not in str(dict(voice_req.headers))
    assert KEY not in str(dict(admin_req.headers))


def test_caller_headers_not_mutated_or_shared(flavour: Flavour, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/readiness").respond_with_json(_example("get_readiness")[2])
    httpserver.expect_request("/api/v1/admin/tenants/ten_1").respond_with_json(
        _example("get_tenant")[2]
    )
    headers = {"X-Team": "billing"}
    _run(flavour, httpserver, lambda c: c.readiness(), headers=headers)
    _run(flavour, httpserver, lambda c: c.tenants.get("ten_1"), kind="admin", headers=headers)
    assert headers == {"X-Team": "billing"}
    (voice_req, _), (admin_req, _) = httpserver.log
    assert voice_req.headers["X-Team"] == "billing" == admin_req.headers["X-Team"]
    assert "x-admin-key" not in voice_req.headers
    assert "Authorization" not in admin_req.headers


def test_two_clients_from_same_dict_do_not_share_auth(
    flavour: Flavour, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/api/v1/readiness").respond_with_json(_example("get_readiness")[2])
    headers: dict[str, str] = {}
    one = flavour.client("voice", "key_one", base_url=_base(httpserver), headers=headers)
    two = flavour.client("voice", "key_two", base_url=_base(httpserver), headers=headers)
    flavour.call(one, lambda c: c.readiness())
    flavour.call(two, lambda c: c.readiness())
    assert headers == {}
    assert [req.headers["Authorization"] for req, _ in httpserver.log] == [
        "Bearer key_one",
        "Bearer key_two",
    ]


@pytest.mark.parametrize("kind", ["voice", "admin"])
def test_unknown_constructor_argument_rejected(flavour: Flavour, kind: Kind) -> None:
    bogus: dict[str, Any] = {"bogus": 1}
    with pytest.raises(ValueError, match="bogus"):
        flavour.client(kind, KEY, **bogus)


# -- 2. validation before anything is sent ----------------------------------------------------


def _create(**overrides: Any) -> Callable[[Any], Any]:
    params: dict[str, Any] = {"to": TO, "from_": FROM, "agent_key": "front_desk"}
    params.update(overrides)
    return lambda c: c.calls.create(**params)


BAD_INPUTS: list[tuple[str, Callable[[Any], Any]]] = [
    ("to-no-plus", _create(to="19175550142")),
    ("to-letters", _create(to="+1917CALLME9")),
    ("to-too-long", _create(to="+1917555014212345")),
    ("from-spaces", _create(from_="+1 917 555 0142")),
    ("from-not-str", _create(from_=19175550142)),
    ("agent-key-empty", _create(agent_key="")),
    ("metadata-object", _create(metadata={"x": object()})),
    ("metadata-nan", _create(metadata={"x": float("nan")})),
    ("metadata-inf", _create(metadata={"x": math.inf})),
    ("metadata-key-not-str", _create(metadata={1: "x"})),
    ("idempotency-key-blank", _create(idempotency_key="  ")),
    ("create-unknown-kwarg", _create(**{"bogus": 1})),
    ("limit-0", lambda c: c.call_logs.list_page(limit=0)),
    ("limit-201", lambda c: c.call_logs.list_page(limit=201)),
    ("limit-bool", lambda c: c.sessions.list_page(limit=True)),
    ("offset-negative", lambda c: c.call_logs.list_page(offset=-1)),
    ("list-page-size-0", lambda c: c.call_logs.list(page_size=0)),
    ("list-page-size-201", lambda c: c.sessions.list(page_size=201)),
    ("list-page-unknown-kwarg", lambda c: c.call_logs.list_page(**{"bogus": 1})),
    ("list-unknown-kwarg", lambda c: c.evaluations.list(**{"bogus": 1})),
    ("get-unknown-kwarg", lambda c: c.call_logs.get("call_1", **{"bogus": 1})),
    ("get-empty-id", lambda c: c.sessions.get("")),
    ("readiness-unknown-kwarg", lambda c: c.readiness(**{"bogus": 1})),
    ("bad-status-filter", lambda c: c.call_logs.list_page(status="nonsense")),
    ("bad-direction-filter", lambda c: c.call_logs.list_page(direction="sideways")),
    ("bad-session-status", lambda c: c.sessions.list_page(status="asleep")),
]


#: What each rejection message must name, so that it says what was wrong.
BAD_INPUT_MESSAGES: dict[str, str] = {
    "to-no-plus": r"^to must match the pattern \^\\\+\[1-9\]",
    "to-letters": r"^to must match the pattern",
    "to-too-long": r"^to must match the pattern",
    "from-spaces": r"^from_ must match the pattern",
    "from-not-str": r"^from_ must be a string, got an integer$",
    "agent-key-empty": r"^agent_key must be at least 1 character\(s\), got 0$",
    "metadata-object": r"metadata\['x'\] cannot be sent as JSON",
    "metadata-nan": r"metadata\['x'\]",
    "metadata-inf": r"metadata\['x'\]",
    "metadata-key-not-str": r"metadata keys must be strings",
    "idempotency-key-blank": r"idempotency_key",
    "create-unknown-kwarg": r"calls\.create\(\) got unexpected keyword argument\(s\): bogus",
    "limit-0": r"^limit must be at least 1, got 0$",
    "limit-201": r"^limit must be at most 200, got 201$",
    "limit-bool": r"^limit must be an integer, got a boolean$",
    "offset-negative": r"^offset must be at least 0, got -1$",
    "list-page-size-0": r"^page_size must be an integer from 1 to 200, got 0$",
    "list-page-size-201": r"^page_size must be an integer from 1 to 200, got 201$",
    "list-page-unknown-kwarg": r"bogus",
    "list-unknown-kwarg": r"bogus",
    "get-unknown-kwarg": r"bogus",
    "get-empty-id": r"^session_id must be a non-empty string",
    "readiness-unknown-kwarg": r"bogus",
    "bad-status-filter": r"^status must be one of: queued, .*, canceled; got 'nonsense'$",
    "bad-direction-filter": r"^direction must be one of: \w+, \w+; got 'sideways'$",
    "bad-session-status": r"^status must be one of: .*; got 'asleep'$",
    "policy-bad-stage": r"^stage must be one of: .*; got 'everywhere'$",
    "runtime-telephony-list": r"^telephony must be an object, got an array$",
    "route-bad-phone": r"^phone_number must match the pattern",
    "route-empty-agent": r"^agent_key must be at least 1 character",
    "runtime-http-webhook": r"webhook_url must be an https:// URL",
    "policy-percent-101": r"^traffic_percent must be at most 100, got 101$",
    "publish-percent-0": r"^traffic_percent must be at least 1, got 0$",
    "tenants-limit-0": r"^limit must be at least 1, got 0$",
    "tenants-unknown-kwarg": r"bogus",
}


@pytest.mark.parametrize(("name", "fn"), BAD_INPUTS, ids=[name for name, _ in BAD_INPUTS])
def test_bad_input_rejected_before_sending(
    flavour: Flavour, name: str, fn: Callable[[Any], Any], httpserver: HTTPServer
) -> None:
    with pytest.raises(InvalidParameterError, match=BAD_INPUT_MESSAGES[name]) as info:
        _run(flavour, httpserver, fn)
    assert httpserver.log == []
    message = str(info.value)
    assert message
    for number in ("19175550142", "1917CALLME9", "1917555014212345", "917 555 0142"):
        assert number not in message


ADMIN_BAD_INPUTS: list[tuple[str, Callable[[Any], Any]]] = [
    ("route-bad-phone", lambda a: a.phone_routes.create(phone_number="9170142", tenant_id="t", agent_key="k")),
    ("route-empty-agent", lambda a: a.phone_routes.create(phone_number=TO, tenant_id="t", agent_key="")),
    ("runtime-http-webhook", lambda a: a.tenants.update_runtime_config(
        "t", model="m", voice="v", system_prompt_key="p", webhook_url="http://x.example")),
    ("policy-percent-101", lambda a: a.rollout_governance.update_policy("t", stage="canary", traffic_percent=101)),
    ("publish-percent-0", lambda a: a.agent_versions.publish("v", traffic_percent=0)),
    ("tenants-limit-0", lambda a: a.tenants.list_page(limit=0)),
    ("policy-bad-stage", lambda a: a.rollout_governance.update_policy("t", stage="everywhere", traffic_percent=5)),
    ("runtime-telephony-list", lambda a: a.tenants.update_runtime_config(
        "t", model="m", voice="v", system_prompt_key="p", telephony=[1])),
    ("tenants-unknown-kwarg", lambda a: a.tenants.get("t", **{"bogus": 1})),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fn"), ADMIN_BAD_INPUTS, ids=[name for name, _ in ADMIN_BAD_INPUTS]
)
def test_admin_bad_input_rejected_before_sending(
    flavour: Flavour, name: str, fn: Callable[[Any], Any], httpserver: HTTPServer
) -> None:
    with pytest.raises(InvalidParameterError, match=BAD_INPUT_MESSAGES[name]) as info:
        _run(flavour, httpserver, fn, kind="admin")
    assert httpserver.log == []
    assert "9170142" not in str(info.value)


# -- 3. calls.create ----------------------------------------------------------------------------


def test_create_wire_format_and_retry_keeps_business_key(
    flavour: Flavour, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request("/api/v1/make-call", method="POST").respond_with_data(
        "unavailable", status=503
    )
    httpserver.expect_ordered_request("/api/v1/make-call", method="POST").respond_with_json(
        _call_example(),
        status=201,
        headers={"x-request-id": "req_srv_42", "Idempotent-Replayed": "true"},
    )
    call, info = _run_info(
        flavour,
        httpserver,
        _create(
            greeting="Hi, this is Acme calling.",
            metadata={"appointment_id": "A-123"},
            idempotency_key="appt-A-123-confirm",
        ),
    )
    assert isinstance(call, public_models.Call)
    assert call.call_id == _call_example()["call_id"]
    assert len(httpserver.log) == 2
    for request, _ in httpserver.log:
        assert (request.method, request.path) == ("POST", "/api/v1/make-call")
        assert request.headers["Idempotency-Key"] == "appt-A-123-confirm"
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.get_data()) == {
            "to": TO,
            "from": FROM,
            "agent_key": "front_desk",
            "greeting": "Hi, this is Acme calling.",
            "metadata": {"appointment_id": "A-123"},
        }
    assert info.request_id == "req_srv_42"
    assert info.idempotency_key == "appt-A-123-confirm"
    assert info.replayed is True
    assert info.client_request_id
    assert info.client_request_id == httpserver.log[-1][0].headers["X-Request-Id"]


def test_create_generates_one_key_for_all_attempts(
    flavour: Flavour, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request("/api/v1/make-call").respond_with_data("x", status=503)
    httpserver.expect_ordered_request("/api/v1/make-call").respond_with_data("x", status=503)
    httpserver.expect_ordered_request("/api/v1/make-call").respond_with_json(
        _call_example(), status=201
    )
    call, info = _run_info(flavour, httpserver, _create())
    assert isinstance(call, public_models.Call)
    keys = {req.headers.get("Idempotency-Key") for req, _ in httpserver.log}
    assert len(httpserver.log) == 3
    assert len(keys) == 1
    assert None not in keys
    assert info.idempotency_key in keys
    assert info.replayed is False
    body = json.loads(httpserver.log[0][0].get_data())
    assert "from" in body
    assert "from_" not in body
    assert "greeting" not in body


def test_two_creates_without_key_get_different_keys(
    flavour: Flavour, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/api/v1/make-call").respond_with_json(_call_example(), status=201)

    client = _client(flavour, httpserver)
    flavour.call(client, _create())
    flavour.call(client, _create())
    keys = [req.headers["Idempotency-Key"] for req, _ in httpserver.log]
    assert len(keys) == 2
    assert keys[0] != keys[1]


def test_per_call_max_retries_zero(flavour: Flavour, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/make-call").respond_with_data("x", status=503)
    with pytest.raises(InternalServerError) as info:
        _run(flavour, httpserver, _create(max_retries=0, idempotency_key="k"))
    assert getattr(info.value, "status_code", None) == 503
    assert len(httpserver.log) == 1


# -- 4. every operation has a method ---------------------------------------------------------

_TWIML_PARAMS = {
    "CallSid": "CA5f1c0a4e8b2d47f6a3c9e1b7d5f2a8c4",
    "AccountSid": "AC0c8e2f4a6b1d3e5f7a9c2b4d6e8f0a1b",
    "From": "+15555550100",
    "To": "+15555551234",
    "CallStatus": "ringing",
    "Direction": "inbound",
    "ApiVersion": "2010-04-01",
}

P, A = "public", "admin"
# operationId -> (client kind, facade call, path on the wire, (models module, model name) | None)
OPERATIONS: dict[str, tuple[str, Callable[[Any], Any], str, tuple[str, str] | None]] = {
    "make_call": ("voice", _create(), "/api/v1/make-call", (P, "Call")),
    "handle_incoming_call": ("voice", lambda c: c.inbound.handle(_TWIML_PARAMS, signature="sig="), "/api/v1/incoming-call", None),
    "list_voice_sessions": ("voice", lambda c: c.sessions.list_page(), "/api/v1/voice-sessions", (P, "VoiceSession")),
    "get_voice_session": ("voice", lambda c: c.sessions.get("vs_1"), "/api/v1/voice-sessions/vs_1", (P, "VoiceSession")),
    "list_call_logs": ("voice", lambda c: c.call_logs.list_page(), "/api/v1/call-logs", (P, "CallLog")),
    "get_call_log": ("voice", lambda c: c.call_logs.get("call_1"), "/api/v1/call-logs/call_1", (P, "CallLog")),
    "list_evaluations": ("voice", lambda c: c.evaluations.list_page(), "/api/v1/evaluations", (P, "Evaluation")),
    "get_evaluation": ("voice", lambda c: c.evaluations.get("ev_1"), "/api/v1/evaluations/ev_1", (P, "Evaluation")),
    "create_access_request": ("voice", lambda c: c.access_requests.create(company="Acme", contact_name="Ada", email="ada@acme.test", use_case="support"), "/api/v1/access-requests", (P, "AccessRequest")),
    "get_readiness": ("voice", lambda c: c.readiness(), "/api/v1/readiness", (P, "Readiness")),
    "list_tenants": ("admin", lambda a: a.tenants.list_page(), "/api/v1/admin/tenants", (A, "Tenant")),
    "get_tenant": ("admin", lambda a: a.tenants.get("ten_1"), "/api/v1/admin/tenants/ten_1", (A, "Tenant")),
    "get_runtime_config": ("admin", lambda a: a.tenants.get_runtime_config("ten_1"), "/api/v1/admin/tenants/ten_1/runtime-config", (A, "RuntimeConfig")),
    "update_runtime_config": ("admin", lambda a: a.tenants.update_runtime_config("ten_1", model="gpt-realtime", voice="alloy", system_prompt_key="front_desk_v1", webhook_url="https://hooks.example/voice"), "/api/v1/admin/tenants/ten_1/runtime-config", (A, "RuntimeConfig")),
    "get_rollout_policy": ("admin", lambda a: a.rollout_governance.get_policy("ten_1"), "/api/v1/admin/tenants/ten_1/rollout-policy", (A, "RolloutPolicy")),
    "update_rollout_policy": ("admin", lambda a: a.rollout_governance.update_policy("ten_1", stage="canary", traffic_percent=10), "/api/v1/admin/tenants/ten_1/rollout-policy", (A, "RolloutPolicy")),
    "run_rollout_sweep": ("admin", lambda a: a.rollout_governance.sweep(tenant_id="ten_1"), "/api/v1/admin/rollout-governance/sweep", (A, "RolloutSweepResult")),
    "list_agent_versions": ("admin", lambda a: a.agent_versions.list_page(), "/api/v1/admin/agent-versions", (A, "AgentVersion")),
    "get_agent_version": ("admin", lambda a: a.agent_versions.get("av_1"), "/api/v1/admin/agent-versions/av_1", (A, "AgentVersion")),
    "stage_agent_version": ("admin", lambda a: a.agent_versions.stage(agent_key="front_desk", model="gpt-realtime", voice="alloy", system_prompt_key="p1"), "/api/v1/admin/agent-versions", (A, "AgentVersion")),
    "approve_agent_version": ("admin", lambda a: a.agent_versions.approve("av_1", approved_by="ops@acme.test"), "/api/v1/admin/agent-versions/av_1/approve", (A, "AgentVersion")),
    "publish_agent_version": ("admin", lambda a: a.agent_versions.publish("av_1", traffic_percent=50), "/api/v1/admin/agent-versions/av_1/publish", (A, "AgentVersion")),
    "list_phone_routes": ("admin", lambda a: a.phone_routes.list_page(), "/api/v1/admin/phone-routes", (A, "PhoneRoute")),
    "get_phone_route": ("admin", lambda a: a.phone_routes.get("pr_1"), "/api/v1/admin/phone-routes/pr_1", (A, "PhoneRoute")),
    "create_phone_route": ("admin", lambda a: a.phone_routes.create(phone_number=FROM, tenant_id="ten_1", agent_key="front_desk"), "/api/v1/admin/phone-routes", (A, "PhoneRoute")),
    "update_phone_route": ("admin", lambda a: a.phone_routes.update("pr_1", enabled=False), "/api/v1/admin/phone-routes/pr_1", (A, "PhoneRoute")),
    "delete_phone_route": ("admin", lambda a: a.phone_routes.delete("pr_1"), "/api/v1/admin/phone-routes/pr_1", None),
}  # fmt: skip


def _all_operation_ids() -> set[str]:
    ids: set[str] = set()
    for name in CONTRACTS:
        for methods in _contract(name)["paths"].values():
            for op in methods.values():
                if isinstance(op, dict) and "operationId" in op:
                    ids.add(op["operationId"])
    return ids


def test_operation_table_covers_both_contracts() -> None:
    assert set(OPERATIONS) == _all_operation_ids()


@pytest.mark.parametrize("op_id", sorted(OPERATIONS))
def test_every_operation(flavour: Flavour, op_id: str, httpserver: HTTPServer) -> None:
    kind, fn, wire_path, model_ref = OPERATIONS[op_id]
    method, _, _ = _operation(op_id)
    status, content_type, value = _example(op_id)
    if content_type == "application/json":
        response = Response(json.dumps(value), status=status, content_type=content_type)
    elif content_type:
        response = Response(value, status=status, content_type=content_type)
    else:
        response = Response(status=status)
    response.headers["x-request-id"] = f"req_{op_id}"
    httpserver.expect_request(wire_path, method=method).respond_with_response(response)
    result, info = _run_info(flavour, httpserver, fn, kind=kind)
    assert len(httpserver.log) == 1
    request = httpserver.log[0][0]
    assert (request.method, request.path) == (method, wire_path)
    assert info.request_id == f"req_{op_id}"
    if model_ref is None:
        if op_id == "delete_phone_route":
            assert result is None
        else:
            assert result == value
            assert request.headers["X-Twilio-Signature"] == "sig="
            assert parse_qs(request.get_data(as_text=True))["CallSid"] == [_TWIML_PARAMS["CallSid"]]
        return
    module, name = model_ref
    model = getattr(_operations.models(module), name)
    if isinstance(result, Page):
        assert result.items
        assert all(isinstance(item, model) for item in result.items)
        assert (result.total, result.has_more) == (value["total"], value["has_more"])
        assert result.request_id == f"req_{op_id}"
    else:
        assert isinstance(result, model)
        assert result.to_dict() == model.from_dict(value).to_dict()
    if method in ("POST", "PUT"):
        assert request.headers["Content-Type"] == "application/json"
        json.loads(request.get_data())


# -- 5. pagination -------------------------------------------------------------------------------


def _log_item(i: int) -> dict[str, Any]:
    item = dict(_example("get_call_log")[2])
    item["call_id"] = f"call_{i:05d}"
    return item


def _paging_handler(n: int, requests: list[tuple[int, int]]) -> Callable[[Request], Response]:
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        limit = int(request.args["limit"])
        offset = int(request.args["offset"])
        with lock:
            requests.append((limit, offset))
        items = [_log_item(i) for i in range(offset, min(offset + limit, n))]
        body = {
            "items": items,
            "total": n,
            "limit": limit,
            "offset": offset,
            "has_more": offset + len(items) < n,
        }
        return Response(
            json.dumps(body),
            content_type="application/json",
            headers={"x-request-id": f"req_page_{offset}"},
        )

    return handler


@pytest.mark.parametrize(("n", "page_size"), [(0, 10), (1, 10), (10, 10), (25, 10), (57, 7)])
def test_list_yields_everything_in_order(
    flavour: Flavour, n: int, page_size: int, httpserver: HTTPServer
) -> None:
    requests: list[tuple[int, int]] = []
    httpserver.expect_request("/api/v1/call-logs").respond_with_handler(
        _paging_handler(n, requests)
    )
    items = flavour.collect(
        _client(flavour, httpserver).call_logs.list(page_size=page_size, status="completed")
    )
    assert [log.call_id for log in items] == [f"call_{i:05d}" for i in range(n)]
    assert all(isinstance(log, public_models.CallLog) for log in items)
    assert len(requests) == max(1, math.ceil(n / page_size))
    assert sorted(requests) == [(page_size, k * page_size) for k in range(len(requests))]
    assert all(req.args["status"] == "completed" for req, _ in httpserver.log)


def test_list_page_returns_page(flavour: Flavour, httpserver: HTTPServer) -> None:
    requests: list[tuple[int, int]] = []
    httpserver.expect_request("/api/v1/call-logs").respond_with_handler(
        _paging_handler(120, requests)
    )
    page = _run(flavour, httpserver, lambda c: c.call_logs.list_page(limit=50, offset=100))
    assert isinstance(page, Page)
    assert [log.call_id for log in page.items] == [f"call_{i:05d}" for i in range(100, 120)]
    assert (page.total, page.limit, page.offset, page.has_more) == (120, 50, 100, False)
    assert page.request_id == "req_page_100"
    assert page.next_offset is None
    assert requests == [(50, 100)]


def test_empty_page_with_has_more_is_an_inconsistent_envelope(
    flavour: Flavour, httpserver: HTTPServer
) -> None:
    calls: list[int] = []

    def handler(request: Request) -> Response:
        offset = int(request.args["offset"])
        calls.append(offset)
        items = [_log_item(0), _log_item(1)] if offset == 0 else []
        body = {"items": items, "total": 1000, "limit": 2, "offset": offset, "has_more": True}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/api/v1/call-logs").respond_with_handler(handler)
    with pytest.raises(APIResponseValidationError, match="has_more is true but the page is empty"):
        flavour.collect(_client(flavour, httpserver).call_logs.list(page_size=2))
    assert calls == [0, 2]


def test_has_more_past_the_total_is_an_inconsistent_envelope(
    flavour: Flavour, httpserver: HTTPServer
) -> None:
    def handler(request: Request) -> Response:
        offset = int(request.args["offset"])
        body = {
            "items": [_log_item(offset), _log_item(offset + 1)],
            "total": 4,
            "limit": 2,
            "offset": offset,
            "has_more": True,
        }
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/api/v1/call-logs").respond_with_handler(handler)
    with pytest.raises(APIResponseValidationError, match="has_more is true but items end at 4"):
        flavour.collect(_client(flavour, httpserver).call_logs.list(page_size=2))
    assert len(httpserver.log) == 2


def test_list_inside_the_clients_block(flavour: Flavour, httpserver: HTTPServer) -> None:
    requests: list[tuple[int, int]] = []
    httpserver.expect_request("/api/v1/call-logs").respond_with_handler(
        _paging_handler(30, requests)
    )
    voice = _client(flavour, httpserver)
    logs = flavour.within(voice, lambda c: flavour.drain(c.call_logs.list(page_size=10)))
    assert [log.call_id for log in logs] == [f"call_{i:05d}" for i in range(30)]
    assert len(requests) == 3


def test_list_is_lazy(flavour: Flavour, httpserver: HTTPServer) -> None:
    requests: list[tuple[int, int]] = []
    httpserver.expect_request("/api/v1/call-logs").respond_with_handler(
        _paging_handler(100, requests)
    )
    iterator = _client(flavour, httpserver).call_logs.list(page_size=10)
    assert requests == []
    (first,) = flavour.take(iterator, 1)
    assert first.call_id == "call_00000"
    assert len(requests) == 1


# -- 6. errors -----------------------------------------------------------------------------------


def test_404_is_not_found_error(flavour: Flavour, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/call-logs/call_missing").respond_with_json(
        {"code": "not_found", "message": "no such call", "request_id": "req_404"},
        status=404,
        headers={"x-request-id": "req_404"},
    )
    with pytest.raises(NotFoundError) as info:
        _run(flavour, httpserver, lambda c: c.call_logs.get("call_missing"))
    assert info.value.status_code == 404
    assert info.value.code == "not_found"
    assert info.value.request_id == "req_404"
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"unexpected": 1}', "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("<html>gateway</html>", "text/html"),
        ("not json at all", "application/json"),
    ],
)
def test_wrong_shape_2xx_is_validation_error(
    flavour: Flavour, body: str, content_type: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/api/v1/call-logs/call_1").respond_with_data(
        body, content_type=content_type, headers={"x-request-id": "req_bad"}
    )
    with pytest.raises(APIResponseValidationError) as info:
        _run(flavour, httpserver, lambda c: c.call_logs.get("call_1"))
    assert not isinstance(info.value, KeyError)
    assert info.value.request_id == "req_bad"


def test_wrong_shape_list_page_is_validation_error(
    flavour: Flavour, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/api/v1/call-logs").respond_with_json({"items": "nope"})
    with pytest.raises(APIResponseValidationError):
        _run(flavour, httpserver, lambda c: c.call_logs.list_page())


def test_wrong_shape_create_is_validation_error(flavour: Flavour, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/make-call").respond_with_json({"id": 1}, status=201)
    with pytest.raises(APIResponseValidationError) as info:
        _run(flavour, httpserver, _create(idempotency_key="k-shape"))
    assert info.value.idempotency_key == "k-shape"


# -- 8. context managers and threads --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["voice", "admin"])
def test_context_manager_closes_pool(flavour: Flavour, kind: Kind, httpserver: HTTPServer) -> None:
    pool_class = httpx.AsyncClient if flavour.is_async else httpx.Client

    def inside(client: Any) -> Any:
        assert isinstance(client._http, pool_class)
        assert not client._http.is_closed
        return client._http

    pool = flavour.within(_client(flavour, httpserver, kind), inside)
    assert pool.is_closed


def test_one_pool_per_client(flavour: Flavour, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/readiness").respond_with_json(_example("get_readiness")[2])
    voice = _client(flavour, httpserver)
    pool = voice._http
    flavour.call(voice, lambda c: c.readiness())
    flavour.call(voice, lambda c: c.readiness())
    assert voice._http is pool
    assert len(httpserver.log) == 2


def test_sync_client_shared_by_20_threads(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/call-logs/call_1").respond_with_json(
        _example("get_call_log")[2]
    )
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)
    with VoiceClient(KEY, base_url=_base(httpserver), reliability=_reliability()) as voice:

        def work() -> None:
            barrier.wait()
            try:
                for _ in range(3):
                    log = voice.call_logs.get("call_1")
                    with lock:
                        results.append(log)
            except BaseException as exc:
                with lock:
                    errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(results) == 60
    assert all(isinstance(r, public_models.CallLog) for r in results)
    assert len(httpserver.log) == 60


def test_async_client_shared_by_20_tasks(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/call-logs/call_1").respond_with_json(
        _example("get_call_log")[2]
    )

    async def main() -> list[Any]:
        async with AsyncVoiceClient(
            KEY, base_url=_base(httpserver), reliability=_reliability()
        ) as voice:
            return list(await asyncio.gather(*(voice.call_logs.get("call_1") for _ in range(20))))

    results = asyncio.run(main())
    assert len(results) == 20
    assert all(isinstance(r, public_models.CallLog) for r in results)
