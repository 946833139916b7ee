"""The pinned contracts and the clients generated from them.

Checks the two OpenAPI documents in ``api-contracts/`` against the issue's requirements (validity,
endpoints, security, paging, headers, examples, webhook catalog), keeps ``generated/STAMP.json``
in step with them, checks the generated facts' names against the generated models, round-trips every
contract example through the generated models, and makes real calls with both generated clients
to a loopback server (pytest-httpserver).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import importlib
import inspect
import json
import pkgutil
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
import stateset_voice_admin
import stateset_voice_admin.models
import stateset_voice_facts
import stateset_voice_public
import stateset_voice_public.models
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from pytest_httpserver import HTTPServer
from stateset_voice_admin.api.tenants import update_runtime_config
from stateset_voice_admin.models import RuntimeConfig, RuntimeConfigUpdate, TelephonyDefaults
from stateset_voice_public.api.calls import make_call
from stateset_voice_public.models import Call, CallMetadata, CallStatus, MakeCallRequest

JSON = dict[str, Any]

REPO = Path(__file__).resolve().parents[1]
CONTRACT_FILES: dict[str, Path] = {
    "public": REPO / "api-contracts" / "stateset-voice-public.json",
    "admin": REPO / "api-contracts" / "stateset-voice-admin.json",
}
STAMP_FILE = REPO / "generated" / "STAMP.json"
CODEGEN_PINS = REPO / "requirements" / "codegen.txt"

CONTRACTS: dict[str, JSON] = {
    name: json.loads(path.read_text(encoding="utf-8")) for name, path in CONTRACT_FILES.items()
}
MODELS: dict[str, ModuleType] = {
    "public": stateset_voice_public.models,
    "admin": stateset_voice_admin.models,
}
PACKAGES: dict[str, ModuleType] = {
    "public": stateset_voice_public,
    "admin": stateset_voice_admin,
}

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ENVELOPE_FIELDS = frozenset({"items", "total", "limit", "offset", "has_more"})
EVENT_FIELDS = frozenset({"id", "type", "occurred_at", "call_id", "session_id", "data"})
DELIVERY_HEADERS = frozenset(
    {"StateSet-Event-Id", "StateSet-Event-Type", "StateSet-Delivery-Attempt", "StateSet-Signature"}
)
API_ERROR_REF = "#/components/schemas/ApiError"


# --------------------------------------------------------------------------------------------
# Contract helpers
# --------------------------------------------------------------------------------------------


def _pointer(doc: JSON, ref: str) -> Any:
    """The node a local ``$ref`` (``#/a/b``) points to."""
    assert ref.startswith("#/"), f"only local $refs are expected, got {ref!r}"
    node: Any = doc
    for raw in ref[2:].split("/"):
        node = node[raw.replace("~1", "/").replace("~0", "~")]
    return node


def _resolve(doc: JSON, node: Any) -> Any:
    """Follow ``$ref`` chains until a node without ``$ref``."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref not in seen, f"$ref cycle at {ref}"
        seen.add(ref)
        node = _pointer(doc, ref)
    return node


@dataclass(frozen=True)
class Operation:
    contract: str
    kind: str  # "path" or "webhook"
    path: str  # URL template, or the webhook name
    method: str  # upper case
    op: JSON
    path_item: JSON

    @property
    def label(self) -> str:
        return f"{self.contract} {self.method} {self.path}"

    @property
    def doc(self) -> JSON:
        return CONTRACTS[self.contract]

    def parameters(self) -> list[JSON]:
        """Path-item and operation parameters, resolved; the operation's win."""
        merged: dict[tuple[str, str], JSON] = {}
        for raw in [*self.path_item.get("parameters", []), *self.op.get("parameters", [])]:
            param = _resolve(self.doc, raw)
            merged[(param["name"].lower(), param["in"])] = param
        return list(merged.values())

    def security(self) -> list[JSON]:
        """Effective security requirements (the operation's, else the document's)."""
        if "security" in self.op:
            return list(self.op["security"])
        return list(self.doc.get("security", []))

    def responses(self) -> Iterator[tuple[str, JSON]]:
        for status, raw in self.op["responses"].items():
            yield status, _resolve(self.doc, raw)


def _operations(*, webhooks: bool) -> list[Operation]:
    ops: list[Operation] = []
    for contract, doc in CONTRACTS.items():
        sections: list[tuple[str, JSON]] = [("path", doc.get("paths", {}))]
        if webhooks:
            sections.append(("webhook", doc.get("webhooks", {})))
        for kind, section in sections:
            for path, raw_item in section.items():
                item = _resolve(doc, raw_item)
                for method in HTTP_METHODS:
                    if method in item:
                        ops.append(
                            Operation(contract, kind, path, method.upper(), item[method], item)
                        )
    return ops


PATH_OPERATIONS = _operations(webhooks=False)
ALL_OPERATIONS = _operations(webhooks=True)


def _op(contract: str, method: str, path: str) -> Operation:
    for operation in PATH_OPERATIONS:
        if (operation.contract, operation.method, operation.path) == (contract, method, path):
            return operation
    pytest.fail(f"{contract} contract has no {method} {path}")


def _has_example(media: JSON) -> bool:
    return "example" in media or bool(media.get("examples"))


def _media_examples(doc: JSON, media: JSON) -> list[Any]:
    values: list[Any] = []
    if "example" in media:
        values.append(media["example"])
    for raw in media.get("examples", {}).values():
        example = _resolve(doc, raw)
        assert "value" in example, f"example without an inline value: {example}"
        values.append(example["value"])
    return values


def _is_json(content_type: str) -> bool:
    base = content_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def _header_names(response: JSON) -> set[str]:
    return {name.lower() for name in response.get("headers", {})}


# --------------------------------------------------------------------------------------------
# 1. Validity
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_contract_is_valid_openapi_3_1(contract: str) -> None:
    doc = CONTRACTS[contract]
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # picks the validator from the `openapi` field
    validate(doc, cls=OpenAPIV31SpecValidator)


# --------------------------------------------------------------------------------------------
# 2. Endpoint table (written out from the issue, not derived from the contracts)
# --------------------------------------------------------------------------------------------

# (contract, method, path, security scheme or None, is a list operation)
ENDPOINTS: list[tuple[str, str, str, str | None, bool]] = [
    ("public", "POST", "/api/v1/make-call", "bearerAuth", False),
    ("public", "POST", "/api/v1/incoming-call", "twilioSignature", False),
    ("public", "GET", "/api/v1/voice-sessions", "bearerAuth", True),
    ("public", "GET", "/api/v1/voice-sessions/{session_id}", "bearerAuth", False),
    ("public", "GET", "/api/v1/call-logs", "bearerAuth", True),
    ("public", "GET", "/api/v1/call-logs/{call_id}", "bearerAuth", False),
    ("public", "GET", "/api/v1/evaluations", "bearerAuth", True),
    ("public", "GET", "/api/v1/evaluations/{evaluation_id}", "bearerAuth", False),
    ("public", "POST", "/api/v1/access-requests", None, False),
    ("public", "GET", "/api/v1/readiness", "bearerAuth", False),
    ("admin", "GET", "/api/v1/admin/tenants/{tenant_id}/runtime-config", "adminKey", False),
    ("admin", "PUT", "/api/v1/admin/tenants/{tenant_id}/runtime-config", "adminKey", False),
    ("admin", "POST", "/api/v1/admin/rollout-governance/sweep", "adminKey", False),
    ("admin", "GET", "/api/v1/admin/agent-versions", "adminKey", True),
    ("admin", "POST", "/api/v1/admin/agent-versions", "adminKey", False),
    ("admin", "GET", "/api/v1/admin/agent-versions/{version_id}", "adminKey", False),
    ("admin", "POST", "/api/v1/admin/agent-versions/{version_id}/approve", "adminKey", False),
    ("admin", "POST", "/api/v1/admin/agent-versions/{version_id}/publish", "adminKey", False),
    ("admin", "GET", "/api/v1/admin/phone-routes", "adminKey", True),
    ("admin", "POST", "/api/v1/admin/phone-routes", "adminKey", False),
    ("admin", "GET", "/api/v1/admin/phone-routes/{route_id}", "adminKey", False),
    ("admin", "PUT", "/api/v1/admin/phone-routes/{route_id}", "adminKey", False),
    ("admin", "DELETE", "/api/v1/admin/phone-routes/{route_id}", "adminKey", False),
    ("admin", "GET", "/api/v1/admin/tenants/{tenant_id}/rollout-policy", "adminKey", False),
    ("admin", "PUT", "/api/v1/admin/tenants/{tenant_id}/rollout-policy", "adminKey", False),
    ("admin", "GET", "/api/v1/admin/tenants", "adminKey", True),
    ("admin", "GET", "/api/v1/admin/tenants/{tenant_id}", "adminKey", False),
]


@pytest.mark.parametrize(
    ("contract", "method", "path", "scheme", "is_list"),
    ENDPOINTS,
    ids=[f"{c}-{m}-{p}" for c, m, p, _, _ in ENDPOINTS],
)
def test_endpoint_table(
    contract: str, method: str, path: str, scheme: str | None, is_list: bool
) -> None:
    operation = _op(contract, method, path)
    doc = operation.doc

    if scheme is None:
        assert operation.security() == [], f"{operation.label} must need no credential"
    else:
        assert scheme in doc["components"]["securitySchemes"]
        assert operation.security() == [{scheme: []}], operation.label

    for name in re.findall(r"\{([^}/]+)\}", path):
        params = {(p["name"], p["in"]): p for p in operation.parameters()}
        assert (name, "path") in params, f"{operation.label}: path parameter {name} undeclared"
        assert params[(name, "path")].get("required") is True

    query = {p["name"]: p for p in operation.parameters() if p["in"] == "query"}
    if not is_list:
        assert not {"limit", "offset"} & query.keys(), f"{operation.label} is not a list"
        return

    for name in ("limit", "offset"):
        assert name in query, f"{operation.label}: no `{name}` query parameter"
        assert _resolve(doc, query[name]["schema"])["type"] == "integer"
    assert query["limit"]["schema"].get("minimum", 0) >= 1

    ok = _resolve(doc, operation.op["responses"]["200"])
    schema = _resolve(doc, ok["content"]["application/json"]["schema"])
    assert schema["type"] == "object"
    assert set(schema["properties"]) >= ENVELOPE_FIELDS, operation.label
    assert set(schema["required"]) >= ENVELOPE_FIELDS, operation.label
    assert _resolve(doc, schema["properties"]["items"])["type"] == "array"
    assert _resolve(doc, schema["properties"]["has_more"])["type"] == "boolean"


def test_endpoint_table_covers_every_operation() -> None:
    """A new operation in a contract must be added to the table (and so reviewed) too."""
    listed = {(c, m, p) for c, m, p, _, _ in ENDPOINTS}
    assert len(listed) == len(ENDPOINTS), "duplicate rows in ENDPOINTS"
    in_contracts = {(o.contract, o.method, o.path) for o in PATH_OPERATIONS}
    assert in_contracts == listed


# --------------------------------------------------------------------------------------------
# 3. Cross-cutting conventions, over every operation of both contracts
# --------------------------------------------------------------------------------------------


def test_operation_ids_are_unique_across_both_contracts() -> None:
    raw = [o.op.get("operationId") for o in ALL_OPERATIONS]
    ids = [i for i in raw if isinstance(i, str) and i]
    assert len(ids) == len(raw), "an operation lacks an operationId"
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert duplicates == []
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids)


@pytest.mark.parametrize("operation", ALL_OPERATIONS, ids=lambda o: o.label)
def test_operation_has_tags(operation: Operation) -> None:
    tags = operation.op.get("tags")
    assert isinstance(tags, list)
    assert tags
    assert all(isinstance(t, str) and t for t in tags)


@pytest.mark.parametrize("operation", PATH_OPERATIONS, ids=lambda o: o.label)
def test_every_response_declares_request_id(operation: Operation) -> None:
    missing = [s for s, r in operation.responses() if "x-request-id" not in _header_names(r)]
    assert missing == [], f"{operation.label}: responses without x-request-id: {missing}"


@pytest.mark.parametrize("operation", PATH_OPERATIONS, ids=lambda o: o.label)
def test_429_and_503_declare_retry_after(operation: Operation) -> None:
    missing = [
        status
        for status, response in operation.responses()
        if status in {"429", "503"} and "retry-after" not in _header_names(response)
    ]
    assert missing == [], f"{operation.label}: no Retry-After on {missing}"


@pytest.mark.parametrize("operation", ALL_OPERATIONS, ids=lambda o: o.label)
def test_non_2xx_json_responses_use_api_error(operation: Operation) -> None:
    wrong: list[str] = []
    for status, response in operation.responses():
        if status.startswith("2"):
            continue
        for content_type, media in response.get("content", {}).items():
            if _is_json(content_type) and media.get("schema", {}).get("$ref") != API_ERROR_REF:
                wrong.append(f"{status} {content_type}")
    assert wrong == [], f"{operation.label}: error bodies not ApiError: {wrong}"


@pytest.mark.parametrize("operation", ALL_OPERATIONS, ids=lambda o: o.label)
def test_request_body_has_example(operation: Operation) -> None:
    if "requestBody" not in operation.op:
        return
    body = _resolve(operation.doc, operation.op["requestBody"])
    assert body.get("content"), f"{operation.label}: requestBody without content"
    missing = [ct for ct, media in body["content"].items() if not _has_example(media)]
    assert missing == [], f"{operation.label}: request bodies without example: {missing}"


@pytest.mark.parametrize("operation", ALL_OPERATIONS, ids=lambda o: o.label)
def test_every_response_with_content_has_example(operation: Operation) -> None:
    missing = [
        f"{status} {content_type}"
        for status, response in operation.responses()
        for content_type, media in response.get("content", {}).items()
        if not _has_example(media)
    ]
    assert missing == [], f"{operation.label}: responses without example: {missing}"


def test_make_call_takes_idempotency_key_header() -> None:
    operation = _op("public", "POST", "/api/v1/make-call")
    headers = {p["name"]: p for p in operation.parameters() if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    assert headers["Idempotency-Key"]["schema"]["type"] == "string"


# --------------------------------------------------------------------------------------------
# 5. Webhook catalog
# --------------------------------------------------------------------------------------------

PUBLIC = CONTRACTS["public"]
EVENT_TYPES: list[str] = list(PUBLIC["components"]["schemas"]["WebhookEventType"]["enum"])


def test_webhooks_match_event_type_enum() -> None:
    assert EVENT_TYPES
    assert len(set(EVENT_TYPES)) == len(EVENT_TYPES)
    assert sorted(PUBLIC.get("webhooks", {})) == sorted(EVENT_TYPES)


def test_webhook_signature_scheme_exists() -> None:
    scheme = PUBLIC["components"]["securitySchemes"]["webhookSignature"]
    assert scheme["type"] == "apiKey"
    assert scheme["in"] == "header"
    assert scheme["name"] == "StateSet-Signature"


def test_event_envelope_schema() -> None:
    envelope = PUBLIC["components"]["schemas"]["WebhookEventEnvelope"]
    assert set(envelope["properties"]) >= EVENT_FIELDS


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_webhook_event(event_type: str) -> None:
    item = _resolve(PUBLIC, PUBLIC["webhooks"][event_type])
    assert list(item) == ["post"], f"{event_type}: deliveries are POSTs"
    post = item["post"]

    assert post.get("security") == [{"webhookSignature": []}]
    headers = {
        p["name"]
        for p in (_resolve(PUBLIC, raw) for raw in post["parameters"])
        if p["in"] == "header"
    }
    assert headers >= DELIVERY_HEADERS, f"{event_type}: missing {DELIVERY_HEADERS - headers}"

    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = _resolve(PUBLIC, {"$ref": ref})
    assert set(schema["properties"]) >= EVENT_FIELDS, f"{ref}: missing fields"
    assert set(schema["required"]) >= {"id", "type", "occurred_at", "data"}
    assert schema["properties"]["type"].get("const") == event_type
    assert schema["properties"]["occurred_at"].get("format") == "date-time"
    assert schema.get("examples"), f"{ref}: no examples"
    assert all(e["type"] == event_type for e in schema["examples"])


# --------------------------------------------------------------------------------------------
# 6. Both generated packages in one process
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_generated_package_imports_every_module(package: str) -> None:
    root = PACKAGES[package]
    names = [info.name for info in pkgutil.walk_packages(root.__path__, prefix=f"{root.__name__}.")]
    assert f"{root.__name__}.models" in names
    assert f"{root.__name__}.client" in names
    for name in names:
        module = importlib.import_module(name)
        assert module.__file__ is not None
        assert Path(module.__file__).is_relative_to(REPO / "generated" / root.__name__)


def test_generated_packages_are_distinct() -> None:
    # Compared as plain objects: mypy knows the classes differ, the test checks the runtime.
    pairs: list[tuple[object, object]] = [
        (stateset_voice_public.Client, stateset_voice_admin.Client),
        (stateset_voice_public.AuthenticatedClient, stateset_voice_admin.AuthenticatedClient),
        (stateset_voice_public.models.ApiError, stateset_voice_admin.models.ApiError),
    ]
    for public_cls, admin_cls in pairs:
        assert public_cls is not admin_cls
    assert stateset_voice_public.Client.__module__ == "stateset_voice_public.client"
    assert stateset_voice_admin.Client.__module__ == "stateset_voice_admin.client"


# --------------------------------------------------------------------------------------------
# 7. Every contract example round-trips through the generated models
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    contract: str
    where: str
    content_type: str
    schema: JSON
    value: Any

    @property
    def label(self) -> str:
        return f"{self.contract}:{self.where}"


def _collect_examples() -> list[Example]:
    found: list[Example] = []

    def walk(contract: str, doc: JSON, node: Any, where: str) -> None:
        if isinstance(node, dict):
            content = node.get("content")
            if isinstance(content, dict) and where.rsplit("/", 1)[-1] != "properties":
                for content_type, media in content.items():
                    for i, value in enumerate(_media_examples(doc, media)):
                        found.append(
                            Example(
                                contract,
                                f"{where} {content_type} #{i}",
                                content_type,
                                media.get("schema", {}),
                                value,
                            )
                        )
            for key, child in node.items():
                if key not in {"example", "examples"}:  # values are data, not contract
                    walk(contract, doc, child, f"{where}/{key}")
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(contract, doc, child, f"{where}/{i}")

    for contract, doc in CONTRACTS.items():
        for section in ("paths", "webhooks"):
            walk(contract, doc, doc.get(section, {}), section)
        for kind in ("responses", "requestBodies"):
            walk(contract, doc, doc["components"].get(kind, {}), f"components/{kind}")
        for name, schema in doc["components"].get("schemas", {}).items():
            for i, value in enumerate(schema.get("examples", [])):
                found.append(
                    Example(
                        contract,
                        f"components/schemas/{name}/examples #{i}",
                        "application/json",
                        {"$ref": f"#/components/schemas/{name}"},
                        value,
                    )
                )
    return found


EXAMPLES = _collect_examples()

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _normalise(value: Any) -> Any:
    """JSON value with every RFC 3339 date-time rewritten to one canonical UTC form."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str) and _DATE_TIME.fullmatch(value):
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC).isoformat()
    return value


def _undeclared_keys(doc: JSON, obj: Any, where: str = "$") -> list[str]:
    """Keys that landed in `additional_properties` of a model whose schema has declared fields.

    A field lost from (or renamed in) a generated model still round-trips through
    ``additional_properties``; this makes such a loss visible.
    """
    found: list[str] = []
    if attrs.has(type(obj)):
        declared = [f.name for f in attrs.fields(type(obj)) if f.name != "additional_properties"]
        schema = doc["components"]["schemas"].get(type(obj).__name__, {})
        extras = getattr(obj, "additional_properties", {})
        if declared and extras and schema.get("additionalProperties") is not True:
            found.extend(f"{where}.{key}" for key in extras)
        for name in declared:
            found.extend(_undeclared_keys(doc, getattr(obj, name), f"{where}.{name}"))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            found.extend(_undeclared_keys(doc, item, f"{where}[{i}]"))
    return found


def test_examples_were_found() -> None:
    """Sanity: the walker sees examples in both contracts, of every kind."""
    wheres = [e.label for e in EXAMPLES]
    assert any(w.startswith("public:paths") for w in wheres)
    assert any(w.startswith("admin:paths") for w in wheres)
    assert any("/requestBody " in w for w in wheres)
    assert any("/responses/" in w for w in wheres)
    assert any(w.startswith("public:webhooks") for w in wheres)
    assert sum("/examples #" in w for w in wheres) >= len(EVENT_TYPES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.label)
def test_example_round_trips(example: Example) -> None:
    doc = CONTRACTS[example.contract]
    base_type = example.content_type.split(";")[0].strip().lower()

    if base_type in {"text/xml", "application/xml"}:
        assert _resolve(doc, example.schema).get("type") == "string"
        assert isinstance(example.value, str)
        # The document is our own pinned contract, not untrusted input.
        root = ET.fromstring(example.value)  # noqa: S314
        assert root.tag == "Response"
        return

    ref = example.schema.get("$ref")
    assert isinstance(ref, str), f"{example.label}: inline schema, no generated model to check"
    assert ref.startswith("#/components/schemas/"), ref
    name = ref.rsplit("/", 1)[-1]
    models = MODELS[example.contract]
    assert name in models.__all__, f"{models.__name__} does not export {name}"
    model_cls: Any = getattr(models, name)

    assert isinstance(example.value, dict), f"{example.label}: object example expected"
    original = copy.deepcopy(example.value)
    model = model_cls.from_dict(example.value)
    assert example.value == original, "from_dict mutated its input"
    out = model.to_dict()

    assert _normalise(out) == _normalise(original)
    # Type-exact too: 1 vs 1.0 vs True, and key sets at every level.
    assert json.dumps(_normalise(out), sort_keys=True) == json.dumps(
        _normalise(original), sort_keys=True
    )
    assert _undeclared_keys(doc, model) == []
    assert model_cls.from_dict(out) == model


# --------------------------------------------------------------------------------------------
# 8. Real calls with the generated clients to a loopback server
# --------------------------------------------------------------------------------------------


def _example_value(contract: str, media: JSON) -> Any:
    values = _media_examples(CONTRACTS[contract], media)
    assert values
    return values[0]


MAKE_CALL = _op("public", "POST", "/api/v1/make-call").op
MAKE_CALL_REQUEST: JSON = _example_value(
    "public", MAKE_CALL["requestBody"]["content"]["application/json"]
)
MAKE_CALL_RESPONSE: JSON = _example_value(
    "public", MAKE_CALL["responses"]["201"]["content"]["application/json"]
)
UPDATE_CONFIG = _op("admin", "PUT", "/api/v1/admin/tenants/{tenant_id}/runtime-config").op
UPDATE_CONFIG_REQUEST: JSON = _example_value(
    "admin", UPDATE_CONFIG["requestBody"]["content"]["application/json"]
)
UPDATE_CONFIG_RESPONSE: JSON = _example_value(
    "admin", UPDATE_CONFIG["responses"]["200"]["content"]["application/json"]
)

EXPECTED_MAKE_CALL_WIRE: JSON = {
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "front_desk",
    "greeting": "Hi, this is Acme calling to confirm your appointment.",
    "metadata": {"appointment_id": "A-123"},
}
EXPECTED_CONFIG_WIRE: JSON = {
    "model": "gpt-realtime",
    "voice": "alloy",
    "system_prompt_key": "front_desk_v1",
    "webhook_url": "https://api.example.com/webhooks/stateset-voice",
    "telephony": {
        "default_from_number": "+15555551234",
        "recording_enabled": True,
        "max_call_duration_seconds": 900,
        "answering_machine_detection": True,
    },
}


def _make_call_body() -> MakeCallRequest:
    return MakeCallRequest(
        to="+15555555678",
        from_="+15555551234",
        agent_key="front_desk",
        greeting="Hi, this is Acme calling to confirm your appointment.",
        metadata=CallMetadata.from_dict({"appointment_id": "A-123"}),
    )


def _config_body() -> RuntimeConfigUpdate:
    return RuntimeConfigUpdate(
        model="gpt-realtime",
        voice="alloy",
        system_prompt_key="front_desk_v1",
        webhook_url="https://api.example.com/webhooks/stateset-voice",
        telephony=TelephonyDefaults(
            default_from_number="+15555551234",
            recording_enabled=True,
            max_call_duration_seconds=900,
            answering_machine_detection=True,
        ),
    )


def test_wire_bodies_are_the_contract_examples() -> None:
    assert EXPECTED_MAKE_CALL_WIRE == MAKE_CALL_REQUEST
    assert EXPECTED_CONFIG_WIRE == UPDATE_CONFIG_REQUEST


def _expect_make_call(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/api/v1/make-call", method="POST").respond_with_json(
        MAKE_CALL_RESPONSE, status=201, headers={"x-request-id": "req_test"}
    )


def _check_make_call_exchange(httpserver: HTTPServer, parsed: Any, status: int) -> None:
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    request, _ = httpserver.log[0]
    assert request.method == "POST"
    assert request.path == "/api/v1/make-call"
    assert request.headers.get("Authorization") == "Bearer sk_test_x"
    assert request.headers.get("Idempotency-Key") == "k1"
    assert request.headers.get("Content-Type") == "application/json"
    wire = json.loads(request.get_data())
    assert wire == EXPECTED_MAKE_CALL_WIRE
    assert "from_" not in wire

    assert status == 201
    assert isinstance(parsed, Call)
    assert parsed.call_id == "call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M"
    assert parsed.status is CallStatus.QUEUED
    assert parsed.from_ == "+15555551234"
    assert parsed.to == "+15555555678"
    assert parsed.session_id is None
    assert parsed.created_at == dt.datetime(2026, 11, 20, 15, 4, 5, tzinfo=dt.UTC)
    assert parsed.to_dict()["from"] == "+15555551234"


def _expect_update_config(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(
        "/api/v1/admin/tenants/ten_acme/runtime-config", method="PUT"
    ).respond_with_json(UPDATE_CONFIG_RESPONSE, status=200, headers={"x-request-id": "req_a"})


def _check_update_config_exchange(httpserver: HTTPServer, parsed: Any, status: int) -> None:
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    request, _ = httpserver.log[0]
    assert request.method == "PUT"
    assert request.path == "/api/v1/admin/tenants/ten_acme/runtime-config"
    assert request.headers.get("x-admin-key") == "ak_test"
    assert "Authorization" not in request.headers
    assert request.headers.get("Content-Type") == "application/json"
    assert json.loads(request.get_data()) == EXPECTED_CONFIG_WIRE

    assert status == 200
    assert isinstance(parsed, RuntimeConfig)
    assert parsed.tenant_id == "ten_acme"
    assert parsed.revision == 7
    assert parsed.updated_at == dt.datetime(2026, 11, 20, 14, 58, tzinfo=dt.UTC)
    assert isinstance(parsed.telephony, TelephonyDefaults)
    assert parsed.telephony.max_call_duration_seconds == 900


def test_public_client_make_call_sync(httpserver: HTTPServer) -> None:
    _expect_make_call(httpserver)
    with stateset_voice_public.AuthenticatedClient(
        base_url=httpserver.url_for("/"), token="sk_test_x"
    ) as client:
        response = make_call.sync_detailed(
            client=client, body=_make_call_body(), idempotency_key="k1"
        )
    _check_make_call_exchange(httpserver, response.parsed, response.status_code)
    assert response.headers["x-request-id"] == "req_test"


async def test_public_client_make_call_async(httpserver: HTTPServer) -> None:
    _expect_make_call(httpserver)
    async with stateset_voice_public.AuthenticatedClient(
        base_url=httpserver.url_for("/"), token="sk_test_x"
    ) as client:
        response = await make_call.asyncio_detailed(
            client=client, body=_make_call_body(), idempotency_key="k1"
        )
    _check_make_call_exchange(httpserver, response.parsed, response.status_code)


def test_admin_client_update_runtime_config_sync(httpserver: HTTPServer) -> None:
    _expect_update_config(httpserver)
    with stateset_voice_admin.AuthenticatedClient(
        base_url=httpserver.url_for("/"), token="ak_test", prefix="", auth_header_name="x-admin-key"
    ) as client:
        response = update_runtime_config.sync_detailed(
            "ten_acme", client=client, body=_config_body()
        )
    _check_update_config_exchange(httpserver, response.parsed, response.status_code)
    assert response.headers["x-request-id"] == "req_a"


async def test_admin_client_update_runtime_config_async(httpserver: HTTPServer) -> None:
    _expect_update_config(httpserver)
    async with stateset_voice_admin.AuthenticatedClient(
        base_url=httpserver.url_for("/"), token="ak_test", prefix="", auth_header_name="x-admin-key"
    ) as client:
        response = await update_runtime_config.asyncio_detailed(
            "ten_acme", client=client, body=_config_body()
        )
    _check_update_config_exchange(httpserver, response.parsed, response.status_code)


# --------------------------------------------------------------------------------------------
# 9. generated/STAMP.json
# --------------------------------------------------------------------------------------------


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in CODEGEN_PINS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"unpinned requirement in {CODEGEN_PINS.name}: {line!r}"
            pins[name.strip().lower()] = version.strip()
    return pins


def test_stamp_records_contract_hashes_and_pinned_versions() -> None:
    stamp = json.loads(STAMP_FILE.read_text(encoding="utf-8"))
    assert set(stamp["contracts"]) == set(CONTRACT_FILES)
    for name, path in CONTRACT_FILES.items():
        entry = stamp["contracts"][name]
        assert entry["file"] == path.relative_to(REPO).as_posix()
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), name

    pins = _pins()
    assert stamp["generator"]["name"] == "openapi-python-client"
    assert stamp["generator"]["version"] == pins["openapi-python-client"] == "0.29.1"
    assert stamp["ruff"] == pins["ruff"]


# --------------------------------------------------------------------------------------------
# The generated facts name things exactly as the generated code does
# --------------------------------------------------------------------------------------------


def _snake(tag: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_")


@pytest.mark.parametrize("operation_id", sorted(stateset_voice_facts.OPERATIONS))
def test_fact_python_names_match_the_generated_code(operation_id: str) -> None:
    """scripts/regenerate computes each Python name itself; here every one is checked against
    the generated endpoint's keyword arguments and the generated body model's attributes."""
    op = stateset_voice_facts.OPERATIONS[operation_id]
    package = PACKAGES[op["api"]].__name__
    endpoint = importlib.import_module(f"{package}.api.{_snake(op['tag'])}.{operation_id}")
    keywords = set(inspect.signature(endpoint.sync_detailed).parameters)
    for param in op["parameters"]:
        assert param["python_name"] in keywords, (operation_id, param["name"])
    body = op["body"]
    if body is not None and body["model"] is not None:
        model = getattr(MODELS[op["api"]], body["model"])
        attributes = {field.name for field in attrs.fields(model)}
        for field in body["fields"]:
            assert field["python_name"] in attributes, (operation_id, field["name"])
