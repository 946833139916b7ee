"""StateSet deliveries: signature header, rotation, tolerance, typed parsing, unknown and malformed events."""

from __future__ import annotations

import copy
import doctest
import hashlib
import hmac
import importlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stateset_voice_public.models import (
    CallCompletedEvent,
    CallStatus,
    EvaluationCompletedEvent,
    SessionStartedEvent,
    WebhookEventEnvelope,
    WebhookEventType,
)

from stateset_voice_wrapper.webhooks import (
    InvalidEventError,
    InvalidSignatureError,
    UnknownEvent,
    compute_stateset_signature,
    construct_event,
    event_dedup_key,
    event_model_for,
    parse_event,
    stateset_signature_header,
    verify_stateset_signature,
)

CONTRACT = Path(__file__).resolve().parents[1] / "api-contracts" / "stateset-voice-public.json"
T0 = 1_795_000_000
OLD, NEW = "whsec_old_Q2hhbmdlTWU", "whsec_new_UmVwbGFjZWQ"
PHONE = "+15555551234"


def fixed(now: float) -> Callable[[], float]:
    return lambda: now


def reference_v1(secret: str, timestamp: int, body: bytes) -> str:
    """The contract's algorithm, written out independently of the library."""
    return hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()


def contract_examples() -> list[tuple[str, str, dict[str, Any]]]:
    """(event type, schema name, example body) for every webhook in the contract."""
    document = json.loads(CONTRACT.read_text(encoding="utf-8"))
    found = []
    for event_type, item in document["webhooks"].items():
        content = item["post"]["requestBody"]["content"]["application/json"]
        schema_name = content["schema"]["$ref"].rsplit("/", 1)[1]
        for example in content["examples"].values():
            found.append((event_type, schema_name, example["value"]))
    return found


EXAMPLES = contract_examples()
CALL_COMPLETED = next(body for kind, _, body in EXAMPLES if kind == "call.completed")


def body_of(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


# --- signature computation --------------------------------------------------------------------


def test_signature_matches_independent_hmac_including_whsec_prefix() -> None:
    body = body_of(CALL_COMPLETED)
    expected = reference_v1(NEW, T0, body)
    assert compute_stateset_signature(body, secret=NEW, timestamp=T0) == expected
    # Keyed with the whole secret string: dropping the prefix gives another signature.
    assert (
        compute_stateset_signature(body, secret=NEW.removeprefix("whsec_"), timestamp=T0)
        != expected
    )


def test_header_has_one_v1_per_secret() -> None:
    body = b"{}"
    header = stateset_signature_header(body, secrets=[OLD, NEW], timestamp=T0)
    assert header == f"t={T0},v1={reference_v1(OLD, T0, body)},v1={reference_v1(NEW, T0, body)}"


def test_header_builder_rejects_a_single_string() -> None:
    with pytest.raises(TypeError):
        stateset_signature_header(b"{}", secrets=NEW, timestamp=T0)


# --- verification -----------------------------------------------------------------------------


def test_valid_signature() -> None:
    body = body_of(CALL_COMPLETED)
    header = f"t={T0},v1={reference_v1(NEW, T0, body)}"
    verify_stateset_signature(payload=body, header=header, secrets=[NEW], now=fixed(T0 + 1))


@pytest.mark.parametrize(
    ("signed_with", "accepted"),
    [
        ([OLD, NEW], [NEW]),  # sender mid-rotation, receiver already moved on
        ([OLD, NEW], [OLD]),  # sender mid-rotation, receiver not yet
        ([OLD], [OLD, NEW]),  # receiver mid-rotation, sender not yet
        ([NEW], [OLD, NEW]),  # receiver mid-rotation, sender moved on
    ],
)
def test_rotation_any_v1_against_any_secret(signed_with: list[str], accepted: list[str]) -> None:
    body = body_of(CALL_COMPLETED)
    header = stateset_signature_header(body, secrets=signed_with, timestamp=T0)
    verify_stateset_signature(payload=body, header=header, secrets=accepted, now=fixed(T0))


def test_retired_secret_is_refused() -> None:
    body = body_of(CALL_COMPLETED)
    header = stateset_signature_header(body, secrets=[OLD], timestamp=T0)
    with pytest.raises(InvalidSignatureError, match="signature mismatch") as info:
        verify_stateset_signature(payload=body, header=header, secrets=[NEW], now=fixed(T0))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("offset", [-300, -299.5, 0, 299.5, 300])
def test_timestamp_inside_tolerance(offset: float) -> None:
    body = b"{}"
    header = stateset_signature_header(body, secrets=[NEW], timestamp=T0)
    verify_stateset_signature(payload=body, header=header, secrets=[NEW], now=fixed(T0 + offset))


@pytest.mark.parametrize("offset", [-300.001, -3600, 300.001, 86_400])
def test_expired_and_future_timestamps_are_refused(offset: float) -> None:
    body = b"{}"
    header = stateset_signature_header(body, secrets=[NEW], timestamp=T0)
    with pytest.raises(InvalidSignatureError, match="timestamp outside tolerance") as info:
        verify_stateset_signature(
            payload=body, header=header, secrets=[NEW], now=fixed(T0 + offset)
        )
    assert info.value.reason == "timestamp_outside_tolerance"


def test_custom_tolerance() -> None:
    header = stateset_signature_header(b"{}", secrets=[NEW], timestamp=T0)
    verify_stateset_signature(
        payload=b"{}", header=header, secrets=[NEW], tolerance=10, now=fixed(T0 + 10)
    )
    with pytest.raises(InvalidSignatureError, match="timestamp outside tolerance"):
        verify_stateset_signature(
            payload=b"{}", header=header, secrets=[NEW], tolerance=10, now=fixed(T0 + 11)
        )


def test_timestamp_is_signed_so_it_cannot_be_refreshed() -> None:
    body = b"{}"
    stale = stateset_signature_header(body, secrets=[NEW], timestamp=T0)
    refreshed = stale.replace(f"t={T0}", f"t={T0 + 3600}")
    with pytest.raises(InvalidSignatureError, match="signature mismatch"):
        verify_stateset_signature(
            payload=body, header=refreshed, secrets=[NEW], now=fixed(T0 + 3600)
        )


@given(st.binary(max_size=200), st.binary(min_size=1, max_size=8), st.integers(0, 199))
def test_property_tampered_body_is_refused(body: bytes, insert: bytes, position: int) -> None:
    header = stateset_signature_header(body, secrets=[OLD, NEW], timestamp=T0)
    verify_stateset_signature(payload=body, header=header, secrets=[NEW], now=fixed(T0))
    cut = min(position, len(body))
    tampered = body[:cut] + insert + body[cut:]
    with pytest.raises(InvalidSignatureError, match="signature mismatch"):
        verify_stateset_signature(payload=tampered, header=header, secrets=[NEW], now=fixed(T0))


@pytest.mark.parametrize(
    ("header", "message", "reason"),
    [
        (None, "missing signature header", "missing_signature"),
        ("", "missing signature header", "missing_signature"),
        ("garbage", "malformed header", "malformed_header"),
        ("v1=abc", "malformed header: no t timestamp", "malformed_header"),
        ("t=abc,v1=abc", "malformed header: t is not a unix timestamp", "malformed_header"),
        ("t=-5,v1=abc", "malformed header: t is not a unix timestamp", "malformed_header"),
        ("t=١٢٣,v1=abc", "malformed header: t is not a unix timestamp", "malformed_header"),
        (f"t={T0},t={T0},v1=abc", "malformed header: more than one t", "malformed_header"),
        (f"t={T0}", "no v1 signature", "no_signature"),
        (f"t={T0},v0=abc", "no v1 signature", "no_signature"),
        (f"t={T0},v1=" + "é" * 64, "signature mismatch", "signature_mismatch"),
        ("t=1," + "v1=ab," * 2000, "malformed header: too long", "malformed_header"),
    ],
)
def test_malformed_headers(header: str | None, message: str, reason: str) -> None:
    with pytest.raises(InvalidSignatureError, match=message) as info:
        verify_stateset_signature(payload=b"{}", header=header, secrets=[NEW], now=fixed(T0))
    assert info.value.reason == reason


def test_unknown_schemes_and_spacing_are_tolerated() -> None:
    body = b"{}"
    good = reference_v1(NEW, T0, body)
    header = f" t={T0} , v0=dead, v2=beef ,,v1={good} "
    verify_stateset_signature(payload=body, header=header, secrets=[NEW], now=fixed(T0))


def test_str_payload_is_signed_as_utf8() -> None:
    text = '{"note": "café ☎"}'
    header = stateset_signature_header(text.encode(), secrets=[NEW], timestamp=T0)
    verify_stateset_signature(payload=text, header=header, secrets=[NEW], now=fixed(T0))


@pytest.mark.parametrize(
    ("secrets", "error"),
    [(NEW, TypeError), ([], ValueError), ([""], ValueError)],
)
def test_bad_secret_configuration(secrets: Any, error: type[Exception]) -> None:
    header = stateset_signature_header(b"{}", secrets=[NEW], timestamp=T0)
    with pytest.raises(error) as info:
        verify_stateset_signature(payload=b"{}", header=header, secrets=secrets, now=fixed(T0))
    assert not isinstance(info.value, InvalidSignatureError)
    assert NEW not in str(info.value)


@pytest.mark.parametrize("tolerance", [-1.0, float("nan")])
def test_bad_tolerance(tolerance: float) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        verify_stateset_signature(
            payload=b"{}", header="t=1,v1=a", secrets=[NEW], tolerance=tolerance
        )


def test_failures_never_reveal_secrets_or_expected_signatures() -> None:
    body = body_of(CALL_COMPLETED)
    expected = {reference_v1(s, T0, body) for s in (OLD, NEW)}
    attempts = [
        f"t={T0},v1={'0' * 64}",
        f"t={T0 - 10_000},v1={reference_v1(NEW, T0 - 10_000, body)}",
        "nonsense",
    ]
    for header in attempts:
        with pytest.raises(InvalidSignatureError) as info:
            verify_stateset_signature(
                payload=body, header=header, secrets=[OLD, NEW], now=fixed(T0)
            )
        text = f"{info.value} {info.value!r}"
        for secret in (OLD, NEW, *expected):
            assert secret not in text


# --- construct_event ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["StateSet-Signature", "stateset-signature", "STATESET-SIGNATURE"])
def test_construct_event_reads_the_header_case_insensitively(name: str) -> None:
    body = body_of(CALL_COMPLETED)
    headers = {
        "Content-Type": "application/json",
        name: stateset_signature_header(body, secrets=[NEW], timestamp=T0),
    }
    event = construct_event(payload=body, headers=headers, secrets=[OLD, NEW], now=fixed(T0 + 5))
    assert isinstance(event, CallCompletedEvent)
    assert event.id == CALL_COMPLETED["id"]


def test_construct_event_without_header() -> None:
    with pytest.raises(InvalidSignatureError, match="missing signature header"):
        construct_event(payload=b"{}", headers={"content-type": "application/json"}, secrets=[NEW])


def test_construct_event_verifies_before_parsing() -> None:
    with pytest.raises(InvalidSignatureError, match="signature mismatch"):
        construct_event(
            payload=b"not json",
            headers={"StateSet-Signature": f"t={T0},v1=00"},
            secrets=[NEW],
            now=fixed(T0),
        )


def test_construct_event_signed_but_malformed_body() -> None:
    body = b"not json"
    headers = {"StateSet-Signature": stateset_signature_header(body, secrets=[NEW], timestamp=T0)}
    with pytest.raises(InvalidEventError, match="not valid JSON"):
        construct_event(payload=body, headers=headers, secrets=[NEW], now=fixed(T0))


def test_construct_event_tolerance_is_passed_through() -> None:
    body = body_of(CALL_COMPLETED)
    headers = {"StateSet-Signature": stateset_signature_header(body, secrets=[NEW], timestamp=T0)}
    with pytest.raises(InvalidSignatureError, match="timestamp outside tolerance"):
        construct_event(
            payload=body, headers=headers, secrets=[NEW], tolerance=1, now=fixed(T0 + 2)
        )


# --- the catalog and the contract's examples ---------------------------------------------------


def test_contract_has_an_example_for_every_event_type() -> None:
    assert {kind for kind, _, _ in EXAMPLES} == {member.value for member in WebhookEventType}


@pytest.mark.parametrize("member", list(WebhookEventType), ids=str)
def test_catalog_maps_every_event_type_to_its_model(member: WebhookEventType) -> None:
    model = event_model_for(member.value)
    assert model is not None
    assert model.__name__ == "".join(p.capitalize() for p in member.value.split(".")) + "Event"


@pytest.mark.parametrize(
    ("event_type", "schema_name", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES]
)
def test_every_contract_example_parses_to_its_model(
    event_type: str, schema_name: str, example: dict[str, Any]
) -> None:
    for payload in (body_of(example), json.dumps(example), example):
        event = parse_event(payload)
        assert type(event).__name__ == schema_name
        assert not isinstance(event, UnknownEvent)
        assert event.type_ == event_type
        assert event.id == example["id"]
        assert event.tenant_id == example["tenant_id"]
        assert event.call_id == example.get("call_id")
        assert event.session_id == example.get("session_id")
        assert event.occurred_at.year == int(example["occurred_at"][:4])
        assert event.data.to_dict() == example["data"]
        assert event_dedup_key(event) == f"id:{example['id']}"


def test_parse_event_does_not_mutate_a_mapping_payload() -> None:
    document = copy.deepcopy(CALL_COMPLETED)
    del document["id"]
    before = copy.deepcopy(document)
    parse_event(document)
    assert document == before


def test_typed_fields_of_session_and_evaluation_events() -> None:
    session = parse_event(next(b for k, _, b in EXAMPLES if k == "session.started"))
    assert isinstance(session, SessionStartedEvent)
    assert session.data.session_id == session.session_id
    evaluation = parse_event(next(b for k, _, b in EXAMPLES if k == "evaluation.completed"))
    assert isinstance(evaluation, EvaluationCompletedEvent)
    assert 0 <= evaluation.data.score <= 1
    assert isinstance(evaluation.data.passed, bool)
    completed = parse_event(CALL_COMPLETED)
    assert isinstance(completed, CallCompletedEvent)
    assert completed.data.status is CallStatus.COMPLETED


def test_extra_fields_are_kept() -> None:
    document = {
        **CALL_COMPLETED,
        "livemode": True,
        "data": {**CALL_COMPLETED["data"], "carrier": "x"},
    }
    event = parse_event(document)
    assert isinstance(event, CallCompletedEvent)
    assert event["livemode"] is True
    assert event.data["carrier"] == "x"


def test_unknown_event_type_is_kept_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    document = {
        **CALL_COMPLETED,
        "id": "evt_future_1",
        "type": "call.transcribed",
        "data": {"caller": PHONE, "words": 1234},
        "region": "eu",
    }
    with caplog.at_level(logging.WARNING, logger="stateset_voice"):
        event = parse_event(body_of(document))
    assert isinstance(event, UnknownEvent)
    assert isinstance(event.envelope, WebhookEventEnvelope)
    assert event.id == "evt_future_1"
    assert event.type_ == "call.transcribed"
    assert event.call_id == CALL_COMPLETED["call_id"]
    assert event.session_id is None
    assert event.api_version == CALL_COMPLETED["api_version"]
    assert event.tenant_id == CALL_COMPLETED["tenant_id"]
    assert event.occurred_at.year == 2026
    assert event.data == {"caller": PHONE, "words": 1234}
    assert event.to_dict()["region"] == "eu"
    assert event_dedup_key(event) == "id:evt_future_1"
    records = [r for r in caplog.records if r.name == "stateset_voice.webhooks"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert "call.transcribed" in records[0].getMessage()
    assert PHONE not in caplog.text
    assert "1234" not in caplog.text
    assert PHONE not in repr(event)


def test_known_types_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="stateset_voice"):
        parse_event(CALL_COMPLETED)
    assert [r for r in caplog.records if r.name.startswith("stateset_voice")] == []


# --- malformed payloads -------------------------------------------------------------------------


def with_changes(path: str, value: Any) -> dict[str, Any]:
    """CALL_COMPLETED with one field (dotted path) replaced, or deleted when value is ...."""
    document = copy.deepcopy(CALL_COMPLETED)
    *parents, last = path.split(".")
    target = document
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b'{"type": "call.completed", "score": NaN}', "not valid JSON"),
        ("", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"call.completed"', "must be a JSON object"),
        (b"{}", "missing required field 'type'"),
        (with_changes("type", ...), "missing required field 'type'"),
        (with_changes("type", 7), "field 'type' must be a non-empty string"),
        (with_changes("type", ""), "field 'type' must be a non-empty string"),
        (with_changes("tenant_id", ...), "event is missing the required field 'tenant_id'"),
        (with_changes("api_version", ...), "event is missing the required field 'api_version'"),
        (with_changes("occurred_at", ...), "event is missing the required field 'occurred_at'"),
        (with_changes("data", ...), "event is missing the required field 'data'"),
        (with_changes("id", 12), "event.id must be a string"),
        (with_changes("tenant_id", 5), "event.tenant_id must be a string"),
        (with_changes("occurred_at", "yesterday"), "event.occurred_at must be an ISO 8601"),
        (
            with_changes("occurred_at", 1795000000),
            "event.occurred_at must be a string, got an integer",
        ),
        (with_changes("call_id", 5), "event.call_id must be a string"),
        (with_changes("data", [PHONE]), "event.data must be an object"),
        (with_changes("data.call_id", ...), "event.data is missing the required field 'call_id'"),
        (
            with_changes("data.direction", None),
            "event.data.direction must be a string, got null",
        ),
        (
            with_changes("data.duration_seconds", "42"),
            "event.data.duration_seconds must be an integer",
        ),
        (
            with_changes("data.duration_seconds", True),
            "event.data.duration_seconds must be an integer",
        ),
        (
            with_changes("data.duration_seconds", 4.5),
            "event.data.duration_seconds must be an integer",
        ),
        (with_changes("data.metadata", [PHONE]), "event.data.metadata must be an object"),
        (with_changes("data.agent_key", {"a": PHONE}), "event.data.agent_key must be a string"),
    ],
)
def test_malformed_payloads_raise_invalid_event_error(payload: Any, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message) as info:
        parse_event(payload)
    assert isinstance(info.value, ValueError)
    assert PHONE not in str(info.value)


def session_or_evaluation(kind: str, path: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(next(b for k, _, b in EXAMPLES if k == kind))
    document["data"][path] = value
    return document


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            session_or_evaluation("evaluation.completed", "score", "high"),
            "event.data.score must be a number",
        ),
        (
            session_or_evaluation("evaluation.completed", "passed", "yes"),
            "event.data.passed must be a boolean",
        ),
        (
            session_or_evaluation("evaluation.completed", "passed", 1),
            "event.data.passed must be a boolean",
        ),
        (session_or_evaluation("session.ended", "tags", "vip"), "event.data.tags must be an array"),
        (
            session_or_evaluation("session.ended", "tags", ["ok", 3]),
            r"event.data.tags\[1\] must be a string",
        ),
    ],
)
def test_malformed_session_and_evaluation_payloads(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        parse_event(payload)


def test_an_enum_value_the_contract_does_not_list_yet_is_kept() -> None:
    """Forward compatible, as API responses are: a new status never drops a delivery."""
    event = parse_event(with_changes("data.status", "voicemail"))
    assert isinstance(event, CallCompletedEvent)
    assert event.data.status.value == "voicemail"
    ended = parse_event(session_or_evaluation("session.ended", "status", "archived"))
    assert ended.data.status.value == "archived"  # type: ignore[union-attr]


def test_an_integer_score_is_a_number() -> None:
    event = parse_event(session_or_evaluation("evaluation.completed", "score", 1))
    assert isinstance(event, EvaluationCompletedEvent)
    assert event.data.score == 1


def test_unknown_type_still_needs_a_valid_envelope() -> None:
    document = with_changes("type", "call.transcribed")
    document["data"] = "flat"
    with pytest.raises(InvalidEventError, match=r"event\.data must be an object"):
        parse_event(document)


def test_wrong_payload_type() -> None:
    with pytest.raises(InvalidEventError, match="bytes, str or a mapping"):
        parse_event(42)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.sampled_from(EXAMPLES), st.data())
def test_property_damaged_examples_parse_or_raise_invalid_event_error(
    example: tuple[str, str, dict[str, Any]], data: st.DataObject
) -> None:
    document = copy.deepcopy(example[2])
    target = document if data.draw(st.booleans()) else document["data"]
    key = data.draw(st.sampled_from(sorted(target)) | st.text(max_size=5))
    if data.draw(st.booleans()):
        target.pop(key, None)
    else:
        target[key] = data.draw(json_values)
    try:
        event = parse_event(json.dumps(document))
    except InvalidEventError:
        return
    assert event.type_ == document["type"]


@given(json_values)
def test_property_arbitrary_json_parses_or_raises_invalid_event_error(value: Any) -> None:
    try:
        parse_event(json.dumps(value))
    except InvalidEventError:
        return
    raise AssertionError("arbitrary JSON without an event shape was accepted")


# --- dedup keys -----------------------------------------------------------------------------------


def test_missing_or_null_id_falls_back_to_call_id_and_type() -> None:
    keys = set()
    for id_value in (..., None, ""):
        event = parse_event(with_changes("id", id_value))
        assert event.id == ""
        keys.add(event_dedup_key(event))
    (key,) = keys  # the fallback digests the event (its call_id, type and payload)
    assert key.startswith("fallback:")


def test_fallback_uses_session_id_when_there_is_no_call_id() -> None:
    document = copy.deepcopy(next(b for k, _, b in EXAMPLES if k == "session.ended"))
    document["id"] = ""
    document["call_id"] = None
    event = parse_event(document)
    assert event_dedup_key(event).startswith("fallback:")


def test_no_id_and_no_scope_cannot_be_deduplicated() -> None:
    document = with_changes("id", ...)
    document.pop("call_id")
    document["session_id"] = None
    event = parse_event(document)
    with pytest.raises(InvalidEventError, match="cannot be deduplicated"):
        event_dedup_key(event)


def test_redeliveries_share_a_key_and_distinct_events_do_not() -> None:
    first = parse_event(CALL_COMPLETED)
    again = parse_event(body_of(CALL_COMPLETED))
    other = parse_event(with_changes("id", "evt_other"))
    assert event_dedup_key(first) == event_dedup_key(again) != event_dedup_key(other)


# --- the docstring examples stay true ---------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["_asgi", "_errors", "_events", "_signing", "_stateset", "_twilio", "_wsgi"]
)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"stateset_voice_wrapper.webhooks.{name}")
    # module=False: public classes say they live in stateset_voice_wrapper.webhooks, and
    # doctest would otherwise skip them as imported from elsewhere.
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = finder.find(module, module.__name__, module=False, globs=vars(module))
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
