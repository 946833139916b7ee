"""The reliability layer end to end: ReliableTransport against real loopback sockets.

Every behavioural test runs twice, through ``httpx.Client`` and through ``httpx.AsyncClient``
(the ``flavour`` fixture, tests/flavours.py), so the sync and async loops cannot drift. Time is injected: a
:class:`FakeTime` supplies the monotonic clock, the wall clock and both sleeps, so no test sleeps
for real; the one exception is :func:`test_deadline_holds_on_the_real_clock`. Every transport
gets its own :class:`RetryBudget` except the tests of the shared process-wide budget.
"""

from __future__ import annotations

import gzip
import json
import logging
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from stateset_voice_public import AuthenticatedClient
from stateset_voice_public.api.call_logs import get_call_log
from stateset_voice_public.models.api_error import ApiError
from stateset_voice_public.models.call_log import CallLog
from stateset_voice_public.types import Response

from stateset_voice_wrapper import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FieldError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReliabilityConfig,
    ReliableTransport,
    RetryBudget,
    RetryEvent,
    StateSetVoiceError,
    UnprocessableEntityError,
    get_retry_budget,
    request_options,
    response_info,
)

# tests/ is not a package: pytest puts it on sys.path, while mypy (explicit_package_bases, with
# mypy_path = src, generated) names the module tests.faultserver. Adding "tests" to mypy_path in
# pyproject.toml would make the plain import enough.
if TYPE_CHECKING:
    from tests.faultserver import (
        Behaviour,
        CloseBeforeResponse,
        FaultServer,
        HalfBody,
        Hang,
        Reset,
        Respond,
        json_response,
        refused_port,
    )
    from tests.flavours import Flavour
else:
    from faultserver import (
        Behaviour,
        CloseBeforeResponse,
        FaultServer,
        HalfBody,
        Hang,
        Reset,
        Respond,
        json_response,
        refused_port,
    )
    from flavours import Flavour

PHONE = "+15555555678"
SECRET_TOKEN = "sk_live_SECRET"
SECRET_ADMIN_KEY = "ak_SECRET"
WALL_START = 1_700_000_000.0  # a whole second, so HTTP-dates (1 s resolution) are exact

CALL_LOG_PATH = "/api/v1/call-logs/c_1"
MAKE_CALL_PATH = "/api/v1/make-call"
PLAIN_POST_PATH = "/api/v1/things"  # a POST with no Idempotency-Key contract

CALL_LOG_JSON: dict[str, Any] = {
    "call_id": "c_1",
    "status": "completed",
    "direction": "outbound",
    "to": PHONE,
    "from": "+15555550100",
    "agent_key": "front_desk",
    "duration_seconds": 42,
    "escalated": False,
    "created_at": "2024-05-01T12:00:00Z",
}


# -- time, transports and the sync/async matrix -----------------------------------------------


class FakeTime:
    """A monotonic clock, a wall clock and sleeps that only move the clocks forward."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._start = self.now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall_clock(self) -> float:
        return WALL_START + (self.now - self._start)

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


_TLS = ssl.create_default_context()


def reliable(fake: FakeTime, **options: Any) -> ReliableTransport:
    """A ReliableTransport on fake time with its own budget; ``options`` override anything."""
    settings: dict[str, Any] = {
        # Inner transports sharing one TLS context: building one per transport costs ~50 ms.
        "transport": httpx.HTTPTransport(verify=_TLS),
        "async_transport": httpx.AsyncHTTPTransport(verify=_TLS),
        "budget": RetryBudget(),
        "clock": fake.clock,
        "wall_clock": fake.wall_clock,
        "sleep": fake.sleep,
        "async_sleep": fake.async_sleep,
        "random": lambda: 0.5,
        "timeout": httpx.Timeout(5.0),
    }
    settings.update(options)
    return ReliableTransport(**settings)


#: Per-attempt timeouts for tests that provoke read timeouts against a hanging server.
SHORT_READ = httpx.Timeout(5.0, read=0.05)


def body_for(method: str) -> bytes | None:
    return b'{"to": "+15555550000"}' if method in {"POST", "PUT"} else None


def outcomes(error: StateSetVoiceError) -> list[str]:
    return [attempt.outcome for attempt in error.attempts]


# -- retried or not: statuses -----------------------------------------------------------------

RETRYABLE_STATUSES = [408, 429, 500, 502, 503, 504]
IDEMPOTENT_REQUESTS = [
    pytest.param("GET", CALL_LOG_PATH, {}, id="GET"),
    pytest.param("PUT", "/api/v1/things/t_1", {}, id="PUT"),
    pytest.param("DELETE", "/api/v1/things/t_1", {}, id="DELETE"),
    pytest.param("POST", PLAIN_POST_PATH, {"Idempotency-Key": "biz-1"}, id="POST-with-key"),
]


def expected_status_class(status: int) -> type[APIStatusError]:
    if status == 429:
        return RateLimitError
    if status >= 500:
        return InternalServerError
    return APIStatusError


@pytest.mark.parametrize("status", RETRYABLE_STATUSES)
@pytest.mark.parametrize(("method", "path", "headers"), IDEMPOTENT_REQUESTS)
def test_retryable_status_is_retried_for_idempotent_requests(
    flavour: Flavour, fake: FakeTime, status: int, method: str, path: str, headers: dict[str, str]
) -> None:
    with FaultServer(Respond(status), Respond(status), json_response(200, {"ok": True})) as server:
        response = flavour.send(
            reliable(fake), method, server.url + path, headers=headers, content=body_for(method)
        )
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert [r.method for r in server.requests] == [method] * 3
    assert len(fake.sleeps) == 2


@pytest.mark.parametrize("status", RETRYABLE_STATUSES)
def test_retryable_status_is_not_retried_for_a_post_without_key(
    flavour: Flavour, fake: FakeTime, status: int
) -> None:
    with (
        FaultServer(Respond(status), default=Respond(200)) as server,
        pytest.raises(APIStatusError) as info,
    ):
        flavour.send(reliable(fake), "POST", server.url + PLAIN_POST_PATH, content=b"{}")
    assert type(info.value) is expected_status_class(status)
    assert info.value.status_code == status
    assert len(server.requests) == 1
    assert server.requests[0].header("Idempotency-Key") is None
    assert fake.sleeps == []


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        pytest.param("GET", CALL_LOG_PATH, {}, id="GET"),
        pytest.param("DELETE", "/api/v1/things/t_1", {}, id="DELETE"),
        pytest.param("POST", PLAIN_POST_PATH, {"Idempotency-Key": "biz-1"}, id="POST-with-key"),
        pytest.param("POST", MAKE_CALL_PATH, {}, id="make-call"),
    ],
)
def test_other_4xx_are_never_retried(
    flavour: Flavour,
    fake: FakeTime,
    status: int,
    error_class: type[APIStatusError],
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    with (
        FaultServer(Respond(status), default=Respond(200)) as server,
        pytest.raises(APIStatusError) as info,
    ):
        flavour.send(
            reliable(fake), method, server.url + path, headers=headers, content=body_for(method)
        )
    assert type(info.value) is error_class
    assert info.value.status_code == status
    assert len(server.requests) == 1
    assert outcomes(info.value) == [str(status)]
    assert fake.sleeps == []


# -- retried or not: connection failures ------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connect_error_is_retried_for_any_method(
    flavour: Flavour, fake: FakeTime, method: str
) -> None:
    with refused_port() as port, pytest.raises(APIConnectionError) as info:
        flavour.send(
            reliable(fake),
            method,
            f"http://127.0.0.1:{port}{PLAIN_POST_PATH}",
            content=body_for(method),
        )
    assert not isinstance(info.value, APITimeoutError)
    assert outcomes(info.value) == ["ConnectError"] * 3
    assert len(fake.sleeps) == 2
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_pool_timeout_is_retried_even_for_a_post_without_key(
    flavour: Flavour, fake: FakeTime
) -> None:
    # One pooled connection, held by an unread response: every attempt times out in the pool
    # before anything is sent, so even a non-idempotent POST may be retried.
    limits = httpx.Limits(max_connections=1)
    with FaultServer(Respond(200, body=b"held")) as server:
        if not flavour.is_async:
            inner = httpx.HTTPTransport(limits=limits)
            transport = reliable(
                fake, transport=inner, timeout=httpx.Timeout(5.0, pool=0.02), max_retries=1
            )
            held = inner.handle_request(httpx.Request("GET", server.url + "/hold"))
            try:
                with pytest.raises(APITimeoutError) as info:
                    flavour.send(transport, "POST", server.url + PLAIN_POST_PATH, content=b"{}")
            finally:
                held.close()
                inner.close()
        else:
            async_inner = httpx.AsyncHTTPTransport(limits=limits)
            transport = reliable(
                fake,
                async_transport=async_inner,
                timeout=httpx.Timeout(5.0, pool=0.02),
                max_retries=1,
            )
            async_held = flavour.wait(
                async_inner.handle_async_request(httpx.Request("GET", server.url + "/hold"))
            )
            try:
                with pytest.raises(APITimeoutError) as info:
                    flavour.send(transport, "POST", server.url + PLAIN_POST_PATH, content=b"{}")
            finally:
                flavour.wait(async_held.aclose())
                flavour.wait(async_inner.aclose())
    assert outcomes(info.value) == ["PoolTimeout", "PoolTimeout"]
    assert [r.path for r in server.requests] == ["/hold"]


SENT_FAULTS = [
    pytest.param(Hang(), APITimeoutError, "ReadTimeout", id="read-timeout"),
    pytest.param(HalfBody(), APIConnectionError, "RemoteProtocolError", id="half-written-body"),
    pytest.param(Reset(), APIConnectionError, "ReadError", id="reset"),
    pytest.param(CloseBeforeResponse(), APIConnectionError, "RemoteProtocolError", id="closed"),
]


@pytest.mark.parametrize(("fault", "error_class", "outcome"), SENT_FAULTS)
def test_failure_after_sending_is_retried_for_get(
    flavour: Flavour,
    fake: FakeTime,
    fault: Behaviour,
    error_class: type[APIConnectionError],
    outcome: str,
) -> None:
    events: list[RetryEvent] = []
    transport = reliable(fake, timeout=SHORT_READ, on_retry=events.append)
    with FaultServer(fault, fault, json_response(200, {"ok": True})) as server:
        response = flavour.send(transport, "GET", server.url + CALL_LOG_PATH)
    assert response.json() == {"ok": True}
    assert len(server.requests) == 3
    assert [event.outcome for event in events] == [outcome, outcome]


@pytest.mark.parametrize(("fault", "error_class", "outcome"), SENT_FAULTS)
def test_failure_after_sending_ends_a_get_with_a_typed_error_when_retries_run_out(
    flavour: Flavour,
    fake: FakeTime,
    fault: Behaviour,
    error_class: type[APIConnectionError],
    outcome: str,
) -> None:
    with FaultServer(default=fault) as server, pytest.raises(error_class) as info:
        flavour.send(reliable(fake, timeout=SHORT_READ), "GET", server.url + CALL_LOG_PATH)
    assert type(info.value) is error_class
    assert outcomes(info.value) == [outcome] * 3
    assert len(server.requests) == 3
    assert info.value.status_code is None


@pytest.mark.parametrize(("fault", "error_class", "outcome"), SENT_FAULTS)
def test_failure_after_sending_is_not_retried_for_a_post_without_key(
    flavour: Flavour,
    fake: FakeTime,
    fault: Behaviour,
    error_class: type[APIConnectionError],
    outcome: str,
) -> None:
    with FaultServer(fault, default=Respond(200)) as server, pytest.raises(error_class) as info:
        flavour.send(
            reliable(fake, timeout=SHORT_READ),
            "POST",
            server.url + PLAIN_POST_PATH,
            content=b"{}",
        )
    assert len(server.requests) == 1
    assert outcomes(info.value) == [outcome]
    assert info.value.not_retried is not None
    assert "carries no Idempotency-Key" in info.value.not_retried
    assert "not retried" in str(info.value)
    assert info.value.idempotency_key is None
    assert fake.sleeps == []


@pytest.mark.parametrize(("fault", "error_class", "outcome"), SENT_FAULTS)
def test_make_call_gets_a_key_and_is_retried_after_sending(
    flavour: Flavour,
    fake: FakeTime,
    fault: Behaviour,
    error_class: type[APIConnectionError],
    outcome: str,
) -> None:
    with FaultServer(fault, json_response(201, {"call_id": "c_1"})) as server:
        response = flavour.send(
            reliable(fake, timeout=SHORT_READ),
            "POST",
            server.url + MAKE_CALL_PATH,
            json={"to": PHONE},
        )
    assert response.status_code == 201
    keys = [r.header("Idempotency-Key") for r in server.requests]
    assert len(keys) == 2
    assert keys[0] is not None
    assert keys[0] == keys[1]
    assert [r.json() for r in server.requests] == [{"to": PHONE}] * 2


# -- identity: request IDs and idempotency keys -----------------------------------------------


def test_ids_are_stable_across_attempts_and_fresh_per_call(
    flavour: Flavour, fake: FakeTime
) -> None:
    script = [Respond(503), Respond(503), Respond(201), Respond(503), Respond(201)]
    transport = reliable(fake)
    with FaultServer(*script) as server:
        for _ in range(2):
            flavour.send(transport, "POST", server.url + MAKE_CALL_PATH, json={"to": PHONE})
    first, second = server.requests[:3], server.requests[3:]
    assert len(second) == 2
    for call in (first, second):
        request_ids = {r.header("X-Request-Id") for r in call}
        keys = {r.header("Idempotency-Key") for r in call}
        assert len(request_ids) == 1
        assert len(keys) == 1
        (request_id,) = request_ids
        (key,) = keys
        assert request_id is not None
        assert key is not None
        assert uuid.UUID(request_id).version == 4
        assert uuid.UUID(key).version == 4
        assert [r.header("X-Request-Attempt") for r in call] == [
            str(n) for n in range(1, len(call) + 1)
        ]
    assert first[0].header("X-Request-Id") != second[0].header("X-Request-Id")
    assert first[0].header("Idempotency-Key") != second[0].header("Idempotency-Key")


def test_get_carries_request_id_and_attempt_but_no_key(flavour: Flavour, fake: FakeTime) -> None:
    with FaultServer(Respond(503), Respond(200)) as server:
        flavour.send(reliable(fake), "GET", server.url + CALL_LOG_PATH)
    first, second = server.requests
    assert first.header("X-Request-Id") == second.header("X-Request-Id") is not None
    assert [first.header("X-Request-Attempt"), second.header("X-Request-Attempt")] == ["1", "2"]
    assert first.header("Idempotency-Key") is None


def test_a_callers_idempotency_key_header_is_kept(flavour: Flavour, fake: FakeTime) -> None:
    with FaultServer(default=Respond(503)) as server, pytest.raises(InternalServerError) as info:
        flavour.send(
            reliable(fake),
            "POST",
            server.url + MAKE_CALL_PATH,
            headers={"Idempotency-Key": "appt-42"},
            json={"to": PHONE},
        )
    assert [r.header("Idempotency-Key") for r in server.requests] == ["appt-42"] * 3
    assert info.value.idempotency_key == "appt-42"


def test_call_options_key_makes_any_post_retryable(flavour: Flavour, fake: FakeTime) -> None:
    with (
        FaultServer(Respond(503), Respond(201)) as server,
        request_options(idempotency_key="order-7"),
    ):
        response = flavour.send(reliable(fake), "POST", server.url + PLAIN_POST_PATH, content=b"{}")
    assert response.status_code == 201
    assert [r.header("Idempotency-Key") for r in server.requests] == ["order-7"] * 2


def test_a_callers_request_id_is_kept(flavour: Flavour, fake: FakeTime) -> None:
    with FaultServer(Respond(503), Respond(200)) as server:
        flavour.send(
            reliable(fake), "GET", server.url + CALL_LOG_PATH, headers={"X-Request-Id": "trace-1"}
        )
    assert [r.header("X-Request-Id") for r in server.requests] == ["trace-1"] * 2


def test_call_options_client_request_id_is_sent(flavour: Flavour, fake: FakeTime) -> None:
    with (
        FaultServer(Respond(503), Respond(404)) as server,
        request_options(client_request_id="trace-2"),
        pytest.raises(NotFoundError) as info,
    ):
        flavour.send(reliable(fake), "GET", server.url + CALL_LOG_PATH)
    assert [r.header("X-Request-Id") for r in server.requests] == ["trace-2"] * 2
    assert info.value.client_request_id == "trace-2"


@pytest.mark.parametrize(
    ("method", "path", "gets_key"),
    [
        ("POST", "/api/v1/make-call", True),
        ("POST", "/api/v1/access-requests", True),
        ("POST", "/api/v1/admin/agent-versions/av_1/approve", True),
        ("POST", "/api/v1/admin/phone-routes", True),
        ("POST", "/voice/api/v1/make-call", True),  # behind a proxy's path prefix
        ("POST", "/api/v1/make-call/extra", False),
        ("POST", PLAIN_POST_PATH, False),
        ("GET", "/api/v1/make-call", False),
        ("PUT", "/api/v1/admin/phone-routes", False),
    ],
)
def test_idempotency_key_is_added_to_creating_posts_only(
    flavour: Flavour, fake: FakeTime, method: str, path: str, gets_key: bool
) -> None:
    with FaultServer() as server:
        flavour.send(reliable(fake), method, server.url + path, content=body_for(method))
    assert (server.requests[0].header("Idempotency-Key") is not None) is gets_key


def test_automatic_keys_can_be_turned_off(flavour: Flavour, fake: FakeTime) -> None:
    with (
        FaultServer(Respond(503), default=Respond(201)) as server,
        pytest.raises(InternalServerError),
    ):
        flavour.send(
            reliable(fake, auto_idempotency_keys=False),
            "POST",
            server.url + MAKE_CALL_PATH,
            json={"to": PHONE},
        )
    assert len(server.requests) == 1
    assert server.requests[0].header("Idempotency-Key") is None


# -- how many retries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_retries", "call_retries", "attempts"),
    [
        (None, None, 3),  # the default: 2 retries
        (0, None, 1),
        (5, None, 6),
        (None, 1, 2),
        (5, 0, 1),
        (0, 3, 4),
    ],
)
def test_max_retries_per_client_and_per_call(
    flavour: Flavour,
    fake: FakeTime,
    client_retries: int | None,
    call_retries: int | None,
    attempts: int,
) -> None:
    options: dict[str, Any] = {} if client_retries is None else {"max_retries": client_retries}
    transport = reliable(fake, **options)
    with FaultServer(default=Respond(503)) as server:
        with request_options(max_retries=call_retries), pytest.raises(InternalServerError) as info:
            flavour.send(transport, "GET", server.url + CALL_LOG_PATH)
        assert len(server.requests) == attempts
        assert len(info.value.attempts) == attempts
        # Outside the block the client's own setting applies again.
        with pytest.raises(InternalServerError) as after:
            flavour.send(transport, "GET", server.url + CALL_LOG_PATH)
    expected_after = 3 if client_retries is None else client_retries + 1
    assert len(after.value.attempts) == expected_after


def test_call_options_nest_and_restore() -> None:
    from stateset_voice_wrapper._reliability.options import current_overrides

    assert current_overrides() is None
    with request_options(max_retries=4, deadline=9.0) as outer:
        assert outer.max_retries == 4
        with request_options(max_retries=0, idempotency_key="k") as inner:
            assert (inner.max_retries, inner.deadline, inner.idempotency_key) == (0, 9.0, "k")
        assert current_overrides() == outer
    assert current_overrides() is None


@pytest.mark.parametrize(
    "settings",
    [{"max_retries": -1}, {"max_retries": True}, {"deadline": 0}, {"deadline": -5.0}],
)
def test_invalid_settings_are_rejected(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        ReliabilityConfig(**settings)
    with pytest.raises(ValueError, match="must be"), request_options(**settings):
        pass


def test_config_and_options_are_exclusive() -> None:
    with pytest.raises(TypeError):
        ReliableTransport(config=ReliabilityConfig(), max_retries=1)


def test_documented_defaults() -> None:
    config = ReliabilityConfig()
    assert (config.timeout.connect, config.timeout.read) == (5.0, 20.0)
    assert config.deadline == 60.0
    assert config.max_retries == 2
    assert (config.backoff_base, config.backoff_cap) == (0.5, 8.0)
    assert config.budget is get_retry_budget()


# -- backoff and Retry-After ------------------------------------------------------------------


def test_backoff_ceiling_with_full_jitter_at_its_top(flavour: Flavour, fake: FakeTime) -> None:
    transport = reliable(fake, random=lambda: 0.999, max_retries=6)
    with FaultServer(default=Respond(503)) as server, pytest.raises(InternalServerError):
        flavour.send(transport, "GET", server.url + CALL_LOG_PATH)
    expected = [0.999 * min(8.0, 0.5 * 2 ** (n - 1)) for n in range(1, 7)]
    assert fake.sleeps == pytest.approx(expected)
    assert len(server.requests) == 7


def test_backoff_with_zero_jitter_does_not_wait(flavour: Flavour, fake: FakeTime) -> None:
    with FaultServer(default=Respond(503)) as server, pytest.raises(InternalServerError) as info:
        flavour.send(reliable(fake, random=lambda: 0.0), "GET", server.url + CALL_LOG_PATH)
    assert fake.sleeps == [0.0, 0.0]
    assert [attempt.waited for attempt in info.value.attempts] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("headers", "expected_sleep"),
    [
        pytest.param((("Retry-After", "2"),), 2.0, id="seconds"),
        pytest.param(
            (("Retry-After", formatdate(WALL_START + 7, usegmt=True)),), 7.0, id="http-date"
        ),
        pytest.param((("retry-after-ms", "250"),), 0.25, id="milliseconds"),
        pytest.param((("Retry-After", "whenever"),), 0.25, id="garbage-falls-back-to-backoff"),
    ],
)
@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(
    flavour: Flavour,
    fake: FakeTime,
    headers: tuple[tuple[str, str], ...],
    expected_sleep: float,
    status: int,
) -> None:
    with FaultServer(Respond(status, headers=headers), Respond(200)) as server:
        response = flavour.send(reliable(fake), "GET", server.url + CALL_LOG_PATH)
    assert response.status_code == 200
    assert fake.sleeps == pytest.approx([expected_sleep])


def test_retry_after_without_deadline_is_capped(flavour: Flavour, fake: FakeTime) -> None:
    with FaultServer(Respond(503, headers=(("Retry-After", "100000"),)), Respond(200)) as server:
        flavour.send(reliable(fake, deadline=None), "GET", server.url + CALL_LOG_PATH)
    assert fake.sleeps == [120.0]
    assert len(server.requests) == 2


# -- the deadline, on fake time ---------------------------------------------------------------


def test_retry_after_that_would_cross_the_deadline_ends_the_call_at_once(
    flavour: Flavour, fake: FakeTime
) -> None:
    behaviour = Respond(503, headers=(("Retry-After", "4"),))
    with FaultServer(default=behaviour) as server, pytest.raises(InternalServerError) as info:
        flavour.send(
            reliable(fake, deadline=10.0, max_retries=5), "GET", server.url + CALL_LOG_PATH
        )
    assert fake.sleeps == [4.0, 4.0]  # 4 + 4 fit in 10 s; a third wait of 4 would not
    assert len(server.requests) == 3
    # The last answer is the error: a 503, noting that the deadline forbade another wait.
    assert info.value.status_code == 503
    assert info.value.retry_after == 4.0
    assert info.value.not_retried is not None
    assert "deadline" in info.value.not_retried
    assert outcomes(info.value) == ["503"] * 3


def test_retry_after_longer_than_the_deadline_raises_without_sleeping(
    flavour: Flavour, fake: FakeTime
) -> None:
    behaviour = json_response(
        429, {"code": "rate_limited", "message": "slow down"}, headers=(("Retry-After", "3600"),)
    )
    with FaultServer(default=behaviour) as server, pytest.raises(RateLimitError) as info:
        flavour.send(reliable(fake), "GET", server.url + CALL_LOG_PATH)
    assert fake.sleeps == []
    assert len(server.requests) == 1
    # A RateLimitError at once, keeping what the server said: not an APITimeoutError.
    error = info.value
    assert not isinstance(error, APIConnectionError)
    assert (error.status_code, error.code, error.retry_after) == (429, "rate_limited", 3600.0)
    assert error.not_retried is not None
    assert "3600.00s Retry-After" in error.not_retried
    assert error.may_have_reached_server


def test_backoff_that_would_cross_the_deadline_ends_the_call_at_once(
    flavour: Flavour, fake: FakeTime
) -> None:
    transport = reliable(fake, deadline=1.0, random=lambda: 0.999, max_retries=5)
    with FaultServer(default=Respond(503)) as server, pytest.raises(InternalServerError) as info:
        flavour.send(transport, "GET", server.url + CALL_LOG_PATH)
    assert info.value.not_retried is not None
    assert "backoff" in info.value.not_retried
    # 0.4995 s fits in 1 s; the next backoff (0.999 s) would not fit in the 0.5005 s left.
    assert fake.sleeps == pytest.approx([0.4995])
    assert len(server.requests) == 2


class TimeoutRecorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An inner transport that records each attempt's timeouts; each attempt takes 2 s."""

    def __init__(self, fake: FakeTime, response: httpx.Response) -> None:
        self.fake = fake
        self.response = response
        self.attempt_seconds = 2.0
        self.timeouts: list[dict[str, float | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(dict(request.extensions["timeout"]))
        self.fake.advance(self.attempt_seconds)
        return httpx.Response(
            self.response.status_code,
            headers=self.response.headers,
            content=self.response.content,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.handle_request(request)


def recorder(fake: FakeTime) -> TimeoutRecorder:
    return TimeoutRecorder(
        fake, httpx.Response(503, headers={"Retry-After": "0"}, content=b"unavailable")
    )


def test_attempt_timeouts_are_capped_at_the_time_left(flavour: Flavour, fake: FakeTime) -> None:
    inner = recorder(fake)
    transport = reliable(
        fake,
        transport=inner,
        async_transport=inner,
        deadline=10.0,
        timeout=httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0),
    )
    with pytest.raises(InternalServerError):
        flavour.send(transport, "GET", "http://api.test" + CALL_LOG_PATH)
    assert [t["read"] for t in inner.timeouts] == [10.0, 8.0, 6.0]
    assert [t["write"] for t in inner.timeouts] == [10.0, 8.0, 6.0]
    assert [t["connect"] for t in inner.timeouts] == [5.0, 5.0, 5.0]
    assert [t["pool"] for t in inner.timeouts] == [5.0, 5.0, 5.0]


def test_per_call_deadline_and_timeout(flavour: Flavour, fake: FakeTime) -> None:
    inner = recorder(fake)
    inner.attempt_seconds = 1.0
    transport = reliable(fake, transport=inner, async_transport=inner)
    with request_options(deadline=3.5), pytest.raises(InternalServerError):
        flavour.send(transport, "GET", "http://api.test" + CALL_LOG_PATH)
    assert [t["read"] for t in inner.timeouts] == [3.5, 2.5, 1.5]

    inner.timeouts.clear()
    with request_options(timeout=1.5), pytest.raises(InternalServerError):
        flavour.send(transport, "GET", "http://api.test" + CALL_LOG_PATH)
    assert [t["read"] for t in inner.timeouts] == [1.5, 1.5, 1.5]
    assert {t["connect"] for t in inner.timeouts} == {1.5}


def test_an_answer_arriving_after_the_deadline_is_a_timeout(
    flavour: Flavour, fake: FakeTime
) -> None:
    inner = recorder(fake)  # the second attempt ends 1 s past the 3 s deadline
    transport = reliable(fake, transport=inner, async_transport=inner)
    with request_options(deadline=3.0), pytest.raises(APITimeoutError) as info:
        flavour.send(transport, "GET", "http://api.test" + CALL_LOG_PATH)
    assert [t["read"] for t in inner.timeouts] == [3.0, 1.0]
    assert "deadline of 3s exceeded" in info.value.message


class SlowBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body whose second chunk arrives ``gap`` fake seconds after the first."""

    def __init__(self, fake: FakeTime, gap: float) -> None:
        self.fake = fake
        self.gap = gap

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"call_id": '
        self.fake.advance(self.gap)
        yield b'"call_1"}'

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


class SlowBodyTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeTime, gap: float) -> None:
        self.fake = fake
        self.gap = gap
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(
            200, headers={"x-request-id": "req_slow_body"}, stream=SlowBody(self.fake, self.gap)
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.handle_request(request)


def test_a_body_still_arriving_at_the_deadline_is_a_recorded_attempt(
    flavour: Flavour, fake: FakeTime
) -> None:
    inner = SlowBodyTransport(fake, gap=5.0)
    transport = reliable(fake, transport=inner, async_transport=inner)
    with (
        request_options(deadline=3.0),
        response_info() as info,
        pytest.raises(APITimeoutError) as caught,
    ):
        flavour.send(transport, "GET", "http://api.test" + CALL_LOG_PATH)
    error = caught.value
    assert inner.calls == 1
    assert "deadline of 3s exceeded" in error.message
    assert "200 response's body was still arriving" in error.message
    assert [(a.number, a.outcome, a.request_id) for a in error.attempts] == [
        (1, "APITimeoutError", "req_slow_body")
    ]
    assert error.request_id == "req_slow_body"
    assert error.client_request_id
    assert info.attempts == 1
    assert info.request_id == "req_slow_body"


def test_a_client_timeout_narrows_the_attempt_timeouts(flavour: Flavour, fake: FakeTime) -> None:
    inner = recorder(fake)
    transport = reliable(fake, transport=inner, async_transport=inner, max_retries=0)
    with pytest.raises(InternalServerError):
        flavour.send(
            transport, "GET", "http://api.test" + CALL_LOG_PATH, timeout=httpx.Timeout(0.75)
        )
    assert inner.timeouts == [{"connect": 0.75, "read": 0.75, "write": 0.75, "pool": 0.75}]


def test_deadline_holds_on_the_real_clock(flavour: Flavour) -> None:
    # The one test on real time: a hanging server, default 20 s read timeout, 0.5 s deadline.
    transport = ReliableTransport(budget=RetryBudget(), deadline=0.5)
    with FaultServer(default=Hang()) as server:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            flavour.send(transport, "GET", server.url + CALL_LOG_PATH)
        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed <= 0.5 + 0.3


# -- the retry budget -------------------------------------------------------------------------


def test_an_empty_budget_fails_fast_with_the_underlying_error(
    flavour: Flavour, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    budget = RetryBudget(capacity=5, retry_cost=5)
    with FaultServer(default=Respond(503)) as server, pytest.raises(InternalServerError) as info:
        flavour.send(reliable(fake, budget=budget), "GET", server.url + CALL_LOG_PATH)
    assert len(server.requests) == 2  # one retry paid for, the second refused
    assert len(fake.sleeps) == 1
    assert budget.available == 0
    assert info.value.status_code == 503
    assert any("retry budget exhausted" in r.getMessage() for r in caplog.records)


def test_success_refunds_the_budget(flavour: Flavour, fake: FakeTime) -> None:
    budget = RetryBudget(capacity=10, retry_cost=5, success_refund=1)
    with FaultServer(Respond(503), Respond(200)) as server:
        flavour.send(reliable(fake, budget=budget), "GET", server.url + CALL_LOG_PATH)
    assert budget.available == 6  # 10 - 5 for the retry + 1 for the success


def test_timeouts_cost_more(flavour: Flavour, fake: FakeTime) -> None:
    budget = RetryBudget(capacity=15, retry_cost=1, timeout_cost=10)
    with FaultServer(default=Hang()) as server, pytest.raises(APITimeoutError):
        flavour.send(
            reliable(fake, budget=budget, timeout=SHORT_READ), "GET", server.url + CALL_LOG_PATH
        )
    assert len(server.requests) == 2  # 15 pays for one timeout retry (10), not two
    assert budget.available == 5


def test_budget_can_be_inspected_and_configured() -> None:
    budget = RetryBudget(capacity=20, retry_cost=5, timeout_cost=10, success_refund=1)
    assert (budget.capacity, budget.available) == (20, 20)
    assert budget.try_acquire(timeout=False)
    assert budget.try_acquire(timeout=True)
    assert budget.available == 5
    assert not budget.try_acquire(timeout=True)
    assert budget.available == 5  # a refused retry spends nothing
    budget.record_success()
    assert budget.available == 6
    budget.configure(capacity=4)
    assert (budget.capacity, budget.available) == (4, 4)
    budget.record_success()
    assert budget.available == 4  # never above capacity
    budget.configure(capacity=50, retry_cost=2, refill=True)
    assert (budget.capacity, budget.available, budget.retry_cost) == (50, 50, 2)
    assert repr(budget) == "RetryBudget(available=50, capacity=50)"
    with pytest.raises(ValueError, match="capacity"):
        budget.configure(capacity=-1)


@pytest.fixture
def shared_budget() -> Iterator[RetryBudget]:
    budget = get_retry_budget()
    saved = (budget.capacity, budget.retry_cost, budget.timeout_cost, budget.success_refund)
    try:
        yield budget
    finally:
        capacity, retry_cost, timeout_cost, success_refund = saved
        budget.configure(
            capacity=capacity,
            retry_cost=retry_cost,
            timeout_cost=timeout_cost,
            success_refund=success_refund,
            refill=True,
        )


def test_the_process_wide_budget_is_shared_by_sync_and_async(
    shared_budget: RetryBudget, fake: FakeTime
) -> None:
    shared_budget.configure(capacity=5, retry_cost=5, refill=True)
    options: dict[str, Any] = {
        "clock": fake.clock,
        "sleep": fake.sleep,
        "async_sleep": fake.async_sleep,
        "random": lambda: 0.0,
    }
    sync_transport = ReliableTransport(**options)
    async_transport = ReliableTransport(**options)
    assert sync_transport.config.budget is shared_budget
    assert async_transport.config.budget is shared_budget
    sync_flavour, async_flavour = Flavour("sync"), Flavour("async")
    try:
        with FaultServer(default=Respond(503)) as server:
            with pytest.raises(InternalServerError):
                sync_flavour.send(sync_transport, "GET", server.url + CALL_LOG_PATH)
            assert len(server.requests) == 2  # the sync call spent the whole bucket on one retry
            with pytest.raises(InternalServerError):
                async_flavour.send(async_transport, "GET", server.url + CALL_LOG_PATH)
            assert len(server.requests) == 3  # so the async call could not retry at all
    finally:
        sync_flavour.close()
        async_flavour.close()
    assert shared_budget.available == 0


# -- typed errors from odd bodies -------------------------------------------------------------

HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@pytest.mark.parametrize(
    ("behaviour", "error_class", "fragments"),
    [
        pytest.param(
            Respond(502, headers=(("Content-Type", "text/html"),), body=HTML_502),
            InternalServerError,
            ["HTTP 502 Bad Gateway", "text/html", "not the structured error JSON"],
            id="html-502-from-proxy",
        ),
        pytest.param(
            Respond(
                500,
                headers=(("Content-Type", "application/json"),),
                body=b'{"code": "internal", "mess',
            ),
            InternalServerError,
            ["HTTP 500 Internal Server Error", "application/json", "26 bytes"],
            id="truncated-json",
        ),
        pytest.param(
            Respond(503),
            InternalServerError,
            ["HTTP 503 Service Unavailable", "empty body"],
            id="empty",
        ),
        pytest.param(
            json_response(404, ["not", "an", "object"]),
            NotFoundError,
            ["HTTP 404 Not Found"],
            id="json-array",
        ),
        pytest.param(
            json_response(400, {"message": 42, "code": "bad"}),
            BadRequestError,
            ["HTTP 400 Bad Request"],
            id="message-not-a-string",
        ),
        pytest.param(
            json_response(409, {"error": {"message": "nested"}}),
            ConflictError,
            ["HTTP 409 Conflict"],
            id="wrong-shape",
        ),
        pytest.param(
            Respond(520, body=b"origin error"),
            InternalServerError,
            ["HTTP 520", "non-standard status", "without a content type"],
            id="status-520",
        ),
        pytest.param(
            Respond(418, body=b"teapot"),
            APIStatusError,
            ["HTTP 418"],
            id="unlisted-4xx",
        ),
    ],
)
def test_unusual_error_bodies_become_typed_errors(
    flavour: Flavour,
    fake: FakeTime,
    behaviour: Behaviour,
    error_class: type[APIStatusError],
    fragments: list[str],
) -> None:
    with FaultServer(default=behaviour) as server, pytest.raises(APIStatusError) as info:
        flavour.send(reliable(fake, max_retries=0), "GET", server.url + CALL_LOG_PATH)
    error = info.value
    assert type(error) is error_class
    for fragment in fragments:
        assert fragment in error.message
    assert error.code is None
    assert error.__cause__ is None
    assert error.status_code == int(fragments[0].split()[1])


def test_html_on_a_2xx_is_a_response_validation_error(flavour: Flavour, fake: FakeTime) -> None:
    page = Respond(200, headers=(("Content-Type", "text/html; charset=utf-8"),), body=HTML_502)
    with FaultServer(default=page) as server, pytest.raises(APIResponseValidationError) as info:
        flavour.send(reliable(fake), "GET", server.url + CALL_LOG_PATH)
    assert info.value.status_code == 200
    assert "HTML" in info.value.message
    assert info.value.body == HTML_502
    assert len(server.requests) == 1


def test_structured_422_fills_every_field(flavour: Flavour, fake: FakeTime) -> None:
    body = {
        "code": "validation_failed",
        "message": "the request has invalid fields",
        "request_id": "req_body",
        "details": [
            {"field": "to", "message": "must be E.164", "code": "pattern"},
            {"field": "agent_key", "message": 7},
            {"bogus": True},
            "not an object",
        ],
    }
    with (
        FaultServer(json_response(422, body, headers=(("x-request-id", "req_hdr"),))) as server,
        pytest.raises(UnprocessableEntityError) as info,
    ):
        flavour.send(reliable(fake), "POST", server.url + MAKE_CALL_PATH, json={"to": "555"})
    error = info.value
    assert (error.status_code, error.code) == (422, "validation_failed")
    assert error.message == "the request has invalid fields"
    assert error.request_id == "req_hdr"  # the header wins over the body
    assert error.field_errors == (
        FieldError(field="to", message="must be E.164", code="pattern"),
        FieldError(field="agent_key", message="invalid", code=None),
    )
    assert error.idempotency_key == server.requests[0].header("Idempotency-Key")
    assert error.client_request_id == server.requests[0].header("X-Request-Id")


def test_request_id_comes_from_the_body_without_a_header(flavour: Flavour, fake: FakeTime) -> None:
    body = {"code": "not_found", "message": "no such call", "request_id": "req_body"}
    with FaultServer(json_response(404, body)) as server, pytest.raises(NotFoundError) as info:
        flavour.send(reliable(fake), "GET", server.url + CALL_LOG_PATH)
    assert info.value.request_id == "req_body"
    assert info.value.code == "not_found"


@pytest.mark.parametrize(
    ("headers", "body_retry_after", "expected"),
    [
        pytest.param((("Retry-After", "30"),), 99, 30.0, id="header-wins"),
        pytest.param((), 12, 12.0, id="body-only"),
        pytest.param((), None, None, id="none"),
    ],
)
def test_rate_limit_error_carries_retry_after(
    flavour: Flavour,
    fake: FakeTime,
    headers: tuple[tuple[str, str], ...],
    body_retry_after: int | None,
    expected: float | None,
) -> None:
    body: dict[str, Any] = {"code": "rate_limited", "message": "slow down", "request_id": "r"}
    if body_retry_after is not None:
        body["retry_after"] = body_retry_after
    with (
        FaultServer(json_response(429, body, headers=headers)) as server,
        pytest.raises(RateLimitError) as info,
    ):
        flavour.send(reliable(fake, max_retries=0), "GET", server.url + CALL_LOG_PATH)
    assert info.value.retry_after == expected
    assert info.value.code == "rate_limited"


def test_errors_carry_the_calls_identity_and_attempts(flavour: Flavour, fake: FakeTime) -> None:
    script = [Respond(503, headers=(("x-request-id", f"srv-{n}"),)) for n in (1, 2, 3)]
    with FaultServer(*script) as server, pytest.raises(InternalServerError) as info:
        flavour.send(reliable(fake), "POST", server.url + MAKE_CALL_PATH, json={"to": PHONE})
    error = info.value
    sent = server.requests[0]
    assert error.idempotency_key == sent.header("Idempotency-Key") is not None
    assert error.client_request_id == sent.header("X-Request-Id") is not None
    assert error.request_id == "srv-3"
    assert (error.method, error.path) == ("POST", MAKE_CALL_PATH)
    assert [a.number for a in error.attempts] == [1, 2, 3]
    assert [a.outcome for a in error.attempts] == ["503"] * 3
    assert [a.request_id for a in error.attempts] == ["srv-1", "srv-2", "srv-3"]
    assert [a.waited for a in error.attempts] == pytest.approx([0.0, *fake.sleeps])
    text = str(error)
    for fragment in ("status=503", "request_id=srv-3", str(error.idempotency_key), "attempts=3"):
        assert fragment in text
    assert repr(error).startswith("InternalServerError(")


def test_compressed_bodies_are_decoded(flavour: Flavour, fake: FakeTime) -> None:
    error_body = {"code": "conflict", "message": "key reused with another body", "request_id": "r"}
    gzip_json = (("Content-Type", "application/json"), ("Content-Encoding", "gzip"))
    script = [
        Respond(409, headers=gzip_json, body=gzip.compress(json.dumps(error_body).encode())),
        Respond(200, headers=gzip_json, body=gzip.compress(b'{"ok": true}')),
    ]
    transport = reliable(fake)
    with FaultServer(*script) as server:
        with pytest.raises(ConflictError) as info:
            flavour.send(transport, "GET", server.url + CALL_LOG_PATH)
        response = flavour.send(transport, "GET", server.url + CALL_LOG_PATH)
    assert info.value.code == "conflict"
    assert info.value.message == "key reused with another body"
    assert response.json() == {"ok": True}


def test_works_over_an_in_memory_mock_transport(flavour: Flavour, fake: FakeTime) -> None:
    replies = iter(
        [httpx.Response(503), httpx.Response(200, json={"call_id": "c_1"}, headers={"x": "y"})]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return next(replies)

    mock = httpx.MockTransport(handler)
    transport = reliable(fake, transport=mock, async_transport=mock)
    response = flavour.send(transport, "GET", "http://api.test" + CALL_LOG_PATH)
    assert response.json() == {"call_id": "c_1"}
    assert response.headers["x"] == "y"
    assert len(fake.sleeps) == 1


# -- logging and redaction --------------------------------------------------------------------


def wrapper_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "stateset_voice"]


def test_retries_and_success_are_logged_with_both_ids(
    flavour: Flavour, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="stateset_voice")
    script = [
        Respond(503, headers=(("x-request-id", "srv-1"),)),
        Respond(502, headers=(("x-request-id", "srv-2"),)),
        Respond(200, headers=(("x-request-id", "srv-3"),)),
    ]
    with FaultServer(*script) as server:
        flavour.send(reliable(fake), "GET", server.url + CALL_LOG_PATH)
    client_id = server.requests[0].header("X-Request-Id")
    assert client_id is not None
    records = wrapper_records(caplog)
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    debugs = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert len(warnings) == 2
    assert len(debugs) == 1
    for n, (message, status) in enumerate(zip(warnings, ["503", "502"], strict=True), start=1):
        for fragment in ("GET", CALL_LOG_PATH, f"attempt {n}", status, client_id, f"srv-{n}"):
            assert fragment in message
    for fragment in ("GET", CALL_LOG_PATH, "200", client_id, "srv-3", "attempts=3"):
        assert fragment in debugs[0]


def test_a_final_failure_is_logged_once(
    flavour: Flavour, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="stateset_voice")
    with (
        FaultServer(default=Respond(503, headers=(("x-request-id", "srv-x"),))) as server,
        pytest.raises(InternalServerError) as info,
    ):
        flavour.send(reliable(fake), "GET", server.url + CALL_LOG_PATH)
    warnings = [r.getMessage() for r in wrapper_records(caplog) if r.levelno == logging.WARNING]
    assert len(warnings) == 3  # two retries, one final failure
    final = warnings[-1]
    for fragment in ("GET", CALL_LOG_PATH, "failed after 3 attempt(s)", "503", "srv-x"):
        assert fragment in final
    assert str(info.value.client_request_id) in final


def test_a_non_retried_failure_is_logged_once(
    flavour: Flavour, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="stateset_voice")
    with FaultServer(Reset()) as server, pytest.raises(APIConnectionError):
        flavour.send(reliable(fake), "POST", server.url + PLAIN_POST_PATH, content=b"{}")
    records = wrapper_records(caplog)
    assert [r.levelno for r in records] == [logging.WARNING]
    assert "ReadError" in records[0].getMessage()
    assert "POST" in records[0].getMessage()


SECRETS = (SECRET_TOKEN, SECRET_ADMIN_KEY, PHONE, PHONE[1:], "%2B" + PHONE[1:])
SECRET_HEADERS = {"Authorization": f"Bearer {SECRET_TOKEN}", "x-admin-key": SECRET_ADMIN_KEY}


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {text!r}"


@pytest.mark.parametrize(
    ("method", "path", "behaviour"),
    [
        pytest.param("POST", MAKE_CALL_PATH, Respond(503), id="make-call-503"),
        pytest.param("GET", f"/api/v1/contacts/{PHONE}?to={PHONE}", Respond(503), id="path-503"),
        pytest.param("GET", f"/api/v1/contacts/{PHONE}", Reset(), id="path-reset"),
        pytest.param("POST", f"/api/v1/numbers/{PHONE}", Hang(), id="path-timeout"),
        pytest.param("GET", f"/api/v1/contacts/%2B{PHONE[1:]}", Respond(404), id="encoded-404"),
    ],
)
def test_no_secret_or_phone_number_in_logs_errors_or_events(
    flavour: Flavour,
    fake: FakeTime,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    behaviour: Behaviour,
) -> None:
    caplog.set_level(logging.DEBUG, logger="stateset_voice")
    events: list[RetryEvent] = []
    transport = reliable(fake, timeout=SHORT_READ, on_retry=events.append)
    with FaultServer(default=behaviour) as server, pytest.raises(StateSetVoiceError) as info:
        flavour.send(
            transport,
            method,
            server.url + path,
            headers=SECRET_HEADERS,
            json={"to": PHONE, "from": PHONE} if method == "POST" else None,
        )
    assert server.requests[0].header("Authorization") == f"Bearer {SECRET_TOKEN}"
    records = wrapper_records(caplog)
    assert records  # something was logged, and it is clean
    for record in records:
        assert_no_secrets(record.getMessage())
    error = info.value
    assert "+***" in str(error) or MAKE_CALL_PATH in str(error)
    for text in (str(error), repr(error), error.message, str(error.path), *map(repr, events)):
        assert_no_secrets(text)


# -- on_retry ---------------------------------------------------------------------------------


def test_on_retry_receives_each_retry(flavour: Flavour, fake: FakeTime) -> None:
    events: list[RetryEvent] = []
    script = [
        Respond(503, headers=(("x-request-id", "srv-1"),)),
        Respond(429, headers=(("x-request-id", "srv-2"), ("Retry-After", "1"))),
        Respond(201),
    ]
    with FaultServer(*script) as server:
        flavour.send(
            reliable(fake, on_retry=events.append),
            "POST",
            server.url + MAKE_CALL_PATH,
            json={"to": PHONE},
        )
    sent = server.requests[0]
    assert [(e.attempt, e.outcome, e.request_id) for e in events] == [
        (1, "503", "srv-1"),
        (2, "429", "srv-2"),
    ]
    assert [e.delay for e in events] == fake.sleeps == [0.25, 1.0]
    assert {e.client_request_id for e in events} == {sent.header("X-Request-Id")}
    assert {e.idempotency_key for e in events} == {sent.header("Idempotency-Key")}
    assert {(e.method, e.path) for e in events} == {("POST", MAKE_CALL_PATH)}


# -- through a generated client ---------------------------------------------------------------


def get_call_log_via(
    flavour: Flavour, client: AuthenticatedClient, call_id: str
) -> Response[ApiError | CallLog]:
    """The generated operation, sync or async, inside the client's context manager."""
    if not flavour.is_async:
        with client:
            return get_call_log.sync_detailed(call_id, client=client)

    async def inside() -> Response[ApiError | CallLog]:
        async with client:
            return await get_call_log.asyncio_detailed(call_id, client=client)

    return flavour.wait(inside())


def test_generated_client_retries_through_httpx_args(
    flavour: Flavour, fake: FakeTime, httpserver: HTTPServer
) -> None:
    path = "/api/v1/call-logs/c_1"
    unavailable = {"code": "unavailable", "message": "try again", "request_id": "r1"}
    httpserver.expect_ordered_request(path, method="GET").respond_with_json(unavailable, status=503)
    httpserver.expect_ordered_request(path, method="GET").respond_with_json(CALL_LOG_JSON)
    client = AuthenticatedClient(
        base_url=httpserver.url_for("/").rstrip("/"),
        token="t",
        httpx_args={"transport": reliable(fake)},
    )
    response = get_call_log_via(flavour, client, "c_1")
    assert response.status_code == 200
    assert isinstance(response.parsed, CallLog)
    assert response.parsed.call_id == "c_1"
    assert response.parsed.duration_seconds == 42
    sent = [request for request, _ in httpserver.log]
    assert len(sent) == 2
    assert {r.headers["Authorization"] for r in sent} == {"Bearer t"}
    assert sent[0].headers["X-Request-Id"] == sent[1].headers["X-Request-Id"]
    assert len(fake.sleeps) == 1


def test_generated_client_raises_typed_errors(
    flavour: Flavour, fake: FakeTime, httpserver: HTTPServer
) -> None:
    body = {"code": "not_found", "message": "no such call", "request_id": "r404"}
    httpserver.expect_request("/api/v1/call-logs/c_9").respond_with_json(body, status=404)
    client = AuthenticatedClient(
        base_url=httpserver.url_for("/").rstrip("/"),
        token="t",
        httpx_args={"transport": reliable(fake)},
    )
    with pytest.raises(NotFoundError) as info:
        get_call_log_via(flavour, client, "c_9")
    assert (info.value.code, info.value.request_id) == ("not_found", "r404")
    assert len(httpserver.log) == 1
