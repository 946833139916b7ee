"""What the typed clients do with a 2xx answer: forward compatible, never silently wrong.

- A value the contract does not list yet (a new call status) or a new field never fails a call
  or a listing; the raw value is kept and serialises back unchanged.
- A wrong JSON type (``"call_id": 123``, ``"escalated": "false"``) is an
  ``APIResponseValidationError``, because the model would otherwise lie to the caller.
- A 2xx to a creating POST that cannot be read says the request succeeded (``succeeded``), with
  the key and, when readable, the created ID: the call may exist, so it must not be retried
  under a new key.
- ``raw_response`` and ``with_options`` work for every client and flavour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import hypothesis
import hypothesis.strategies as st
import pytest

from stateset_voice_wrapper import (
    APIResponseValidationError,
    RawResponse,
    ReliabilityConfig,
    raw_response,
)

if TYPE_CHECKING:
    from tests.flavours import FLAVOURS, Flavour
    from tests.profiles import LONG, examples
else:
    from flavours import FLAVOURS, Flavour
    from profiles import LONG, examples

BASE = "https://voice.example.com"
CALL = {
    "call_id": "call_1",
    "status": "queued",
    "to": "+15555550101",
    "from": "+15555551234",
    "agent_key": "front_desk",
    "session_id": None,
    "created_at": "2026-11-20T15:04:05Z",
}
LOG = {
    "call_id": "call_1",
    "status": "completed",
    "direction": "outbound",
    "to": "+15555550101",
    "from": "+15555551234",
    "agent_key": "front_desk",
    "duration_seconds": 42,
    "escalated": False,
    "created_at": "2026-11-20T15:04:05Z",
}


def _client(
    flavour: Flavour, answer: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> Any:
    return flavour.client(
        "voice",
        "sk_test",
        base_url=BASE,
        transport=httpx.MockTransport(answer),
        reliability=ReliabilityConfig(max_retries=0),
        **kwargs,
    )


def _json(status: int, body: object, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _: httpx.Response(status, json=body, headers={"x-request-id": "req_1", **headers})


def _raw(method: Any) -> Callable[..., Any]:
    """``raw_response(method)`` of a client method of either flavour."""
    wrapped: Callable[..., Any] = raw_response(method)
    return wrapped


def _create(flavour: Flavour, voice: Any) -> Any:
    return flavour.call(
        voice,
        lambda c: c.calls.create(
            to="+15555550101", from_="+15555551234", agent_key="front_desk", idempotency_key="k-1"
        ),
    )


def test_a_new_status_is_kept_not_failed(flavour: Flavour) -> None:
    voice = _client(flavour, _json(201, {**CALL, "status": "scheduled", "new_field": {"x": 1}}))
    call = _create(flavour, voice)
    assert call.status.value == "scheduled"
    assert call.status == "scheduled"
    members: list[Any] = list(type(call.status).__members__.values())
    assert call.status not in members
    assert call.to_dict()["status"] == "scheduled"
    assert call.additional_properties["new_field"] == {"x": 1}


def test_a_new_enum_value_in_a_listing_is_kept(flavour: Flavour) -> None:
    page = {"items": [{**LOG, "status": "voicemail", "direction": "sideways"}], "total": 1,
            "limit": 25, "offset": 0, "has_more": False}  # fmt: skip
    (log,) = flavour.collect(_client(flavour, _json(200, page)).call_logs.list())
    assert (log.status.value, log.direction.value) == ("voicemail", "sideways")


@pytest.mark.parametrize(
    ("field", "value"),
    [("call_id", 123), ("duration_seconds", "abc"), ("escalated", "false"), ("to", None),
     ("created_at", 5), ("status", 7)],
)  # fmt: skip
def test_a_wrong_type_is_a_validation_error(flavour: Flavour, field: str, value: object) -> None:
    voice = _client(flavour, _json(200, {**LOG, field: value}))
    with pytest.raises(APIResponseValidationError, match=field) as info:
        flavour.call(voice, lambda c: c.call_logs.get("call_1"))
    assert info.value.request_id == "req_1"
    assert info.value.succeeded is False  # a read, not a create


def test_a_missing_required_field_is_a_validation_error(flavour: Flavour) -> None:
    body = {k: v for k, v in LOG.items() if k != "agent_key"}
    voice = _client(flavour, _json(200, body))
    with pytest.raises(APIResponseValidationError, match="agent_key"):
        flavour.call(voice, lambda c: c.call_logs.get("call_1"))


def test_a_200_instead_of_201_is_read_as_the_declared_answer(flavour: Flavour) -> None:
    assert _create(flavour, _client(flavour, _json(200, CALL))).call_id == "call_1"


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"call_id": "call_9", "status": 5}', b'["a list"]', b"[" * 100_000],
)
def test_an_unreadable_create_answer_says_the_call_may_exist(flavour: Flavour, body: bytes) -> None:
    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=body, headers={"content-type": "application/json"})

    with pytest.raises(APIResponseValidationError) as info:
        _create(flavour, _client(flavour, answer))
    error = info.value
    assert error.succeeded is True
    assert "SUCCEEDED" in str(error)
    assert error.idempotency_key == "k-1"
    if b"call_9" in body:
        assert error.resource_id == "call_9"
        assert "call_9" in str(error)


@hypothesis.settings(max_examples=examples(200), deadline=None, derandomize=not LONG)
@hypothesis.given(
    st.dictionaries(
        st.sampled_from(sorted(LOG)),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=8),
    )
)
def test_any_2xx_body_is_a_model_or_a_typed_error(changes: dict[str, Any]) -> None:
    """Whatever types the server sends, the caller gets a CallLog or APIResponseValidationError,
    the same in both flavours. (Hypothesis runs many examples per test, so the flavours are
    made here rather than by the function-scoped fixture.)"""
    body = {**LOG, **changes}
    verdicts: list[str] = []
    for name in FLAVOURS:
        flavour = Flavour(name)
        failure: APIResponseValidationError | None = None
        try:
            log = flavour.call(_client(flavour, _json(200, body)), lambda c: c.call_logs.get("c"))
        except APIResponseValidationError as exc:
            failure = exc
        finally:
            flavour.close()
        if failure is not None:
            assert failure.request_id == "req_1"
            verdicts.append("invalid")
            continue
        assert isinstance(log.call_id, str)
        assert isinstance(log.escalated, bool)
        assert log.duration_seconds is None or isinstance(log.duration_seconds, int | float)
        verdicts.append("valid")
    assert verdicts[0] == verdicts[1]


def test_raw_response_keeps_types_and_shows_the_answer(flavour: Flavour) -> None:
    answer = _json(201, CALL, **{"X-RateLimit-Remaining": "41", "Idempotent-Replayed": "true"})
    voice = _client(flavour, answer)
    arguments: dict[str, Any] = {"to": "+15555550101", "from_": "+15555551234",
                                 "agent_key": "front_desk"}  # fmt: skip
    raw = flavour.call(voice, lambda c: _raw(c.calls.create)(idempotency_key="k-7", **arguments))
    via_attribute = flavour.call(
        voice, lambda c: c.calls.with_raw_response.create(idempotency_key="k-8", **arguments)
    )
    for result, key in ((raw, "k-7"), (via_attribute, "k-8")):
        assert isinstance(result, RawResponse)
        assert result.parsed.call_id == "call_1"
        assert (result.status_code, result.request_id, result.idempotency_key) == (
            201,
            "req_1",
            key,
        )
        assert result.replayed is True
        assert result.rate_limit_remaining == 41
        assert result.client_request_id


def test_raw_response_of_a_read(flavour: Flavour) -> None:
    voice = _client(flavour, _json(200, LOG))
    raw = flavour.call(voice, lambda c: _raw(c.call_logs.get)("call_1"))
    assert isinstance(raw, RawResponse)
    assert (raw.parsed.call_id, raw.status_code, raw.request_id) == ("call_1", 200, "req_1")


def test_with_options_shares_the_pool_and_adds_defaults(flavour: Flavour) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=LOG)

    voice = _client(flavour, answer)
    traced = voice.with_options(extra_headers={"X-Trace": "abc"}, extra_query={"debug": "1"})
    assert traced._http is voice._http
    assert traced.call_logs._owner is traced
    flavour.call(traced, lambda c: c.call_logs.get("call_1", extra_headers={"X-More": "2"}))
    flavour.call(voice, lambda c: c.call_logs.get("call_1"))
    flavour.call(
        traced,
        lambda c: c.call_logs.get("call_1", extra_headers={"Authorization": "Bearer other"}),
    )
    first, plain, sneaky = seen
    assert (first.headers["x-trace"], first.headers["x-more"], first.url.params["debug"]) == (
        "abc",
        "2",
        "1",
    )
    assert "x-trace" not in plain.headers
    assert sneaky.headers["authorization"] == "Bearer sk_test"  # the credential is never replaced


def test_anonymous_operations_send_no_credential(flavour: Flavour) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"access_request_id": "ar_1", "status": "received",
                                         "created_at": "2026-11-20T15:04:05Z"})  # fmt: skip

    flavour.call(
        _client(flavour, answer),
        lambda c: c.access_requests.create(
            company="Acme", contact_name="Ada", email="ada@acme.test", use_case="reminders"
        ),
    )
    assert "authorization" not in seen[0].headers
    assert json.loads(seen[0].content)["company"] == "Acme"


def test_limits_size_the_clients_pool(flavour: Flavour) -> None:
    limits = httpx.Limits(max_connections=3, max_keepalive_connections=1)
    voice = flavour.client("voice", "sk_test", base_url=BASE, limits=limits)
    assert voice.reliability.limits == limits
    assert voice._transport.config.limits == limits
