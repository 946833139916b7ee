"""The one-pass check-and-build makes exactly what the check plus ``from_dict`` makes.

``fastbuild`` replaces, on the typed path, the response check followed by the generated
model's ``from_dict``. These tests search for a body where the two differ: bodies generated
from every object schema of both contracts, valid ones and ones with a single node replaced or
dropped, each compared with the long way field by field and type by type (an enum against an
enum, ``3.0`` against ``3.0``, a date-time's offset, the order of kept unknown keys). A
builder that refuses what the long way builds is a failure too: the shortcut must be taken.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import json
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pytest
import stateset_voice_facts as facts
from hypothesis import given, settings
from hypothesis import strategies as st

from stateset_voice_wrapper import APIResponseValidationError, VoiceClient
from stateset_voice_wrapper._shared.fastbuild import fast_builder
from stateset_voice_wrapper._shared.schema import response_checker

if TYPE_CHECKING:
    from tests.profiles import examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import examples

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from([3.0, 2.5, -0.0])
    | st.sampled_from(["", "x", "completed", "2026-11-20T15:04:05Z", "+15555550101"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "id", "items", "status"]), children, max_size=3)
    ),
    max_leaves=8,
)

DATE_TIMES = st.sampled_from(
    [
        "2026-11-20T15:04:05Z",
        "2026-11-20T15:04:05.123456+05:30",
        "2026-11-20T15:04:05",
        "2026-11-20",
        "2026-11-20T15:04:05-00:00",
        "not a date",
        "2026-13-01T00:00:00Z",
        "",
    ]
)

KEYS = st.sampled_from(["extra", "new_field", "items", "z"])


def _models(api: str) -> ModuleType:
    return importlib.import_module(f"stateset_voice_{api}.models")


def _scalar(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    kind = schema.get("type")
    if "const" in schema:
        return st.sampled_from([schema["const"], schema["const"] + ".v2"])
    if "enum" in schema:
        return st.sampled_from([*schema["enum"], "a-value-the-contract-does-not-list"])
    if kind == "string":
        if schema.get("format") == "date-time":
            return DATE_TIMES
        return st.sampled_from(["", "call_1", "+15555550101", "café"]) | st.text(max_size=4)
    if kind == "integer":
        return st.integers(-3, 2**40) | st.sampled_from([3.0, 0.0])
    if kind == "number":
        return st.integers(-3, 3) | st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JSON


def documents(api: str, schema: Mapping[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Bodies of ``schema`` as a server might send them: mostly valid, with every optional
    key present or not, unknown keys sometimes, enum values the contract does not list."""
    if "$ref" in schema:
        return st.deferred(lambda: documents(api, facts.SCHEMAS[api][schema["$ref"]], depth))
    options = schema.get("anyOf", schema.get("oneOf"))
    if options is not None:
        return st.one_of([documents(api, option, depth) for option in options])
    kind = schema.get("type")
    if kind == "array":
        if depth > 3:
            return st.just([])
        return st.lists(documents(api, schema.get("items", {}), depth + 1), max_size=3)
    if kind == "object":
        properties = schema.get("properties", {})
        if not properties:
            return st.dictionaries(KEYS, JSON, max_size=3)
        required = set(schema.get("required", ()))
        child = {key: documents(api, sub, depth + 1) for key, sub in properties.items()}
        known = st.fixed_dictionaries(
            {k: s for k, s in child.items() if k in required},
            optional={k: s for k, s in child.items() if k not in required},
        )
        unknown = st.dictionaries(KEYS.filter(lambda k: k not in properties), JSON, max_size=2)
        return st.tuples(known, unknown).map(lambda parts: {**parts[0], **parts[1]})
    return _scalar(schema)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, sub in value.items():
            found += _paths(sub, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found += _paths(sub, (*path, index))
    return found


def corrupt(value: Any, data: st.DataObject) -> Any:
    """``value`` with one node replaced by another JSON value, or one key dropped."""
    value = json.loads(json.dumps(value))  # a private copy
    path = data.draw(st.sampled_from(_paths(value)), label="path")
    if not path:
        return data.draw(JSON)
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and data.draw(st.booleans(), label="drop"):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON, label="replacement")
    return value


def the_long_way(api: str, name: str, body: Any) -> Any:
    """What ``parse_response`` made before the builder: the check, then ``from_dict``."""
    if response_checker(api, {"$ref": name})(body, "response") is not None:
        return None
    try:
        return getattr(_models(api), name).from_dict(body)
    except (KeyError, ValueError, TypeError, AttributeError, RecursionError):
        return None


def assert_same(got: Any, expected: Any, where: str = "$") -> None:
    """Equal, and of the same types all the way down."""
    assert type(got) is type(expected), where
    if attrs.has(type(got)):
        for field in attrs.fields(type(got)):
            assert_same(
                getattr(got, field.name), getattr(expected, field.name), where + "." + field.name
            )
    elif isinstance(got, list):
        assert len(got) == len(expected), where
        for index, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_same(a, b, f"{where}[{index}]")
    elif isinstance(got, dict):
        assert list(got) == list(expected), where
        for key in got:
            assert_same(got[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(got, enum.Enum):
        assert (got.name, got.value) == (expected.name, expected.value), where
    elif isinstance(got, datetime.datetime):
        assert got.isoformat() == expected.isoformat(), where
        assert got.tzinfo == expected.tzinfo, where
    else:
        assert got == expected, where


OBJECT_MODELS = [
    (api, name)
    for api, schemas in sorted(facts.SCHEMAS.items())
    for name, schema in schemas.items()
    if schema.get("type") == "object"
]


def test_every_object_model_of_both_contracts_has_a_builder() -> None:
    missing = [
        (api, name)
        for api, name in OBJECT_MODELS
        if fast_builder(facts.SCHEMAS[api], name, _models(api)) is None
    ]
    assert missing == []
    assert len(OBJECT_MODELS) > 50  # both contracts were read


@pytest.mark.parametrize(("api", "name"), OBJECT_MODELS, ids=lambda v: str(v))
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_a_built_model_is_what_the_check_and_from_dict_make(
    api: str, name: str, data: st.DataObject
) -> None:
    build = fast_builder(facts.SCHEMAS[api], name, _models(api))
    assert build is not None
    body = data.draw(documents(api, {"$ref": name}), label="body")
    if data.draw(st.booleans(), label="corrupted"):
        body = corrupt(body, data)
    expected = the_long_way(api, name, body)
    got = build(body)
    if expected is None:
        assert got is None
    else:
        assert got is not None, "the builder refused a body the long way reads"
        assert_same(got, expected)
        assert got.to_dict() == expected.to_dict()


def _page() -> dict[str, Any]:
    log = {
        "call_id": "call_1",
        "status": "a-new-status",
        "direction": "outbound",
        "to": "+15555550101",
        "from": "+15555551234",
        "agent_key": "front_desk",
        "duration_seconds": 3.0,
        "escalated": False,
        "created_at": "2026-11-20T15:04:05+05:30",
        "ended_at": None,
        "metadata": {"campaign": "renewals"},
        "kept": {"nested": [1, 2]},
    }
    return {"items": [log], "total": 1, "limit": 25, "offset": 0, "has_more": False, "v": 2}


def test_a_real_page_is_built_with_everything_the_long_way_keeps() -> None:
    build = fast_builder(facts.SCHEMAS["public"], "CallLogList", _models("public"))
    assert build is not None
    got = build(_page())
    assert_same(got, the_long_way("public", "CallLogList", _page()))
    item = got.items[0]
    assert item.status.value == "a-new-status"  # an unlisted status is kept, not refused
    assert item.duration_seconds == 3.0
    assert isinstance(item.duration_seconds, float)
    assert item.created_at.utcoffset() == datetime.timedelta(hours=5, minutes=30)
    assert item.additional_properties == {"kept": {"nested": [1, 2]}}
    assert got.additional_properties == {"v": 2}


def _client(body: bytes) -> VoiceClient:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return VoiceClient(
        "sk_test", base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler)
    )


def test_a_typed_call_returns_the_built_model() -> None:
    with _client(json.dumps(_page()).encode()) as voice:
        page = voice.call_logs.list_page(limit=25)
    assert_same(page.items, the_long_way("public", "CallLogList", _page()).items)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duration_seconds", "94", "duration_seconds"),
        ("created_at", "yesterday", "created_at"),
        ("to", None, "to"),
    ],
)
def test_a_body_the_builder_refuses_still_gets_the_checks_message(
    field: str, value: Any, message: str
) -> None:
    page = _page()
    page["items"][0][field] = value
    with (
        _client(json.dumps(page).encode()) as voice,
        pytest.raises(APIResponseValidationError) as caught,
    ):
        voice.call_logs.list_page(limit=25)
    assert message in str(caught.value)
    assert "does not match the contract" in str(caught.value)


# -- shapes the contracts do not have yet ------------------------------------------------------


@attrs.define
class _Event:
    """A model as the generator writes one, for a schema no contract has yet."""

    id: str
    type_: Any = None
    kind: Any = None
    additional_properties: dict[str, Any] = attrs.field(init=False, factory=dict)


def _event_models(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A generated-like package ``fakegen`` whose one model is ``_Event`` (its ``UNSET`` is
    the public package's)."""
    import sys

    from stateset_voice_public.types import UNSET

    package = ModuleType("fakegen")
    package.__path__ = []
    types_module = ModuleType("fakegen.types")
    types_module.UNSET = UNSET  # type: ignore[attr-defined]
    models = ModuleType("fakegen.models")
    models._Event = _Event  # type: ignore[attr-defined]
    for module in (package, types_module, models):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    return models


CONST_SCHEMAS = {
    "_Event": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string"},
            "type": {"type": "string", "const": "call.queued"},
            "kind": {"anyOf": [{"type": "string", "const": "voice"}, {"type": "null"}]},
        },
    }
}


@pytest.mark.parametrize("key", ["type", "kind"])
@pytest.mark.parametrize("value", ["call.queued", "voice", "call.ringing", "", 5, None, True])
def test_a_const_out_of_a_required_position_refuses_every_other_value(
    monkeypatch: pytest.MonkeyPatch, key: str, value: Any
) -> None:
    """An optional const, and a nullable one, build only from the const itself (and, for the
    nullable one, null); any other value is left to the long way, as ``from_dict`` would
    refuse it."""
    models = _event_models(monkeypatch)
    build = fast_builder(CONST_SCHEMAS, "_Event", models)
    assert build is not None
    got = build({"id": "e1", key: value})
    const = {"type": "call.queued", "kind": "voice"}[key]
    accepted = (value == const and isinstance(value, str)) or (key == "kind" and value is None)
    if accepted:
        assert got is not None
        assert getattr(got, {"type": "type_", "kind": "kind"}[key]) == value
    else:
        assert got is None
