"""Arguments are checked against the contract before anything is sent, for every operation.

The rules come from the generated facts, so the cases do too: for each parameter with a bound,
a length, an enum or a pattern, hypothesis generates values that break the rule and values
that keep it. A broken rule is an ``InvalidParameterError`` naming the parameter as the caller
wrote it, raised with nothing sent and never repeating a phone number; a kept one is sent.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import TYPE_CHECKING, Any

import httpx
import hypothesis
import hypothesis.strategies as st
import pytest
import stateset_voice_facts as facts

from stateset_voice_wrapper import AdminClient, InvalidParameterError, VoiceClient
from stateset_voice_wrapper._clients.operations import operation
from stateset_voice_wrapper._clients.requests import build_request

if TYPE_CHECKING:
    from tests.profiles import LONG, examples
else:  # the sibling module: pytest puts tests/ on sys.path
    from profiles import LONG, examples

BASE = "https://voice.example.com"


def _never_called(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing may be sent, got {request.method} {request.url}")


def _voice() -> VoiceClient:
    return VoiceClient("sk_test", base_url=BASE, transport=httpx.MockTransport(_never_called))


def _admin() -> AdminClient:
    return AdminClient("adm_test", base_url=BASE, transport=httpx.MockTransport(_never_called))


# -- named cases from the issue ------------------------------------------------------------------


def test_out_of_range_rates_are_refused_before_sending() -> None:
    with _admin() as admin:
        with pytest.raises(
            InvalidParameterError, match=r"^max_error_rate must be at most 1"
        ) as info:
            admin.rollout_governance.update_policy(
                "ten_1", stage="canary", traffic_percent=10, max_error_rate=1.5
            )
        assert info.value.parameter == "max_error_rate"
        with pytest.raises(
            InvalidParameterError, match=r"^min_signature_verification_rate must be at least 0"
        ):
            admin.rollout_governance.update_policy(
                "ten_1", stage="canary", traffic_percent=10, min_signature_verification_rate=-0.1
            )
        with pytest.raises(InvalidParameterError, match="finite"):
            admin.rollout_governance.update_policy(
                "ten_1", stage="canary", traffic_percent=10, max_error_rate=math.nan
            )


def test_a_bad_enum_names_the_allowed_values() -> None:
    with _admin() as admin, pytest.raises(InvalidParameterError) as info:
        admin.rollout_governance.update_policy("ten_1", stage="everywhere", traffic_percent=1)
    schema = facts.SCHEMAS["admin"]["RolloutStage"]
    for allowed in schema["enum"]:
        assert str(allowed) in str(info.value)


def test_a_naive_datetime_is_refused_and_an_aware_one_is_sent() -> None:
    naive = datetime.datetime(2026, 11, 20, 15, 0)
    with _voice() as voice, pytest.raises(InvalidParameterError, match="timezone-aware") as info:
        voice.call_logs.list_page(created_after=naive)
    assert info.value.parameter == "created_after"
    built = build_request(
        operation("list_call_logs"),
        {"created_after": naive.replace(tzinfo=datetime.UTC)},
        "call_logs.list_page",
    )
    assert ("created_after", "2026-11-20T15:00:00+00:00") in built.params
    with pytest.raises(InvalidParameterError, match="RFC 3339"):
        build_request(operation("list_call_logs"), {"created_before": "yesterday"}, "x")


def test_an_over_long_string_is_refused() -> None:
    with (
        _voice() as voice,
        pytest.raises(InvalidParameterError, match=r"^greeting must be at most 1000"),
    ):
        voice.calls.create(
            to="+15555550101", from_="+15555551234", agent_key="a", greeting="x" * 1001
        )


def test_deep_metadata_is_refused_not_a_recursion_error() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100_000):
        node["k"] = {}
        node = node["k"]
    with _voice() as voice, pytest.raises(InvalidParameterError, match="nested"):
        voice.calls.create(to="+15555550101", from_="+15555551234", agent_key="a", metadata=deep)


@pytest.mark.parametrize("bad", [".", "..", "", 5])
def test_path_parameters_cannot_change_the_path(bad: Any) -> None:
    with _voice() as voice, pytest.raises(InvalidParameterError, match="call_id"):
        voice.call_logs.get(bad)


def test_path_parameters_are_one_encoded_segment() -> None:
    built = build_request(operation("get_call_log"), {"call_id": "a/../b?c#d"}, "call_logs.get")
    assert built.path == "/api/v1/call-logs/a%2F..%2Fb%3Fc%23d"


# -- every constrained parameter of both contracts, searched with hypothesis ----------------------


def _resolve(api: str, schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = facts.SCHEMAS[api][schema["$ref"]]
    options = [o for o in schema.get("anyOf", ()) if o.get("type") != "null"]
    return _resolve(api, options[0]) if options else schema


def _constrained() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for operation_id, op in facts.OPERATIONS.items():
        fields = list(op["parameters"]) + list(op["body"]["fields"] if op["body"] else ())
        for field in fields:
            if field["name"] == "Idempotency-Key":
                continue
            schema = _resolve(op["api"], field["schema"])
            if any(k in schema for k in ("enum", "pattern", "maxLength", "minimum", "maximum")):
                found.append((operation_id, field["python_name"], schema))
    return found


CONSTRAINED = _constrained()


def _breaking(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that break at least one of the schema's value rules."""
    options: list[st.SearchStrategy[Any]] = []
    if "enum" in schema:
        options.append(st.text(max_size=20).filter(lambda v: v not in schema["enum"]))
    if "pattern" in schema:
        pattern = re.compile(schema["pattern"])
        phone_like = st.from_regex(r"\+?[0-9 ()-]{7,18}", fullmatch=True)
        options.append((st.text(max_size=30) | phone_like).filter(lambda v: not pattern.search(v)))
    if "maxLength" in schema:
        options.append(st.text(min_size=schema["maxLength"] + 1, max_size=schema["maxLength"] + 40))
    number = (
        st.integers()
        if schema.get("type") == "integer"
        else st.floats(allow_nan=False, allow_infinity=False)
    )
    if "minimum" in schema:
        low = schema["minimum"]
        options.append(number.filter(lambda v: v < low))
    if "maximum" in schema:
        high = schema["maximum"]
        options.append(number.filter(lambda v: v > high))
    return st.one_of(options)


@pytest.mark.parametrize(
    ("operation_id", "python_name", "schema"),
    CONSTRAINED,
    ids=[f"{o}-{p}" for o, p, _ in CONSTRAINED],
)
@hypothesis.settings(max_examples=examples(40), deadline=None, derandomize=not LONG)
@hypothesis.given(data=st.data())
def test_every_broken_rule_is_refused_without_echoing_a_number(
    operation_id: str, python_name: str, schema: dict[str, Any], data: st.DataObject
) -> None:
    value = data.draw(_breaking(schema))
    with pytest.raises(InvalidParameterError) as info:
        build_request(operation(operation_id), {python_name: value}, operation_id)
    message = str(info.value)
    assert python_name in message
    digits = re.sub(r"\D", "", value) if isinstance(value, str) else ""
    if len(digits) >= 5:
        assert digits not in re.sub(r"\D", "", message.split(";")[-1])
        assert value not in message
