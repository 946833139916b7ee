"""One test (or table) per hardening fix: each failed before its fix.

Deadline tests run on the real clock with short deadlines (0.5 s) and assert the documented
bound (``deadline + DEADLINE_MARGIN``, with slack for a busy machine): what they hold is a
wall-clock promise. Every other test injects time. Servers are raw loopback sockets
(``faultserver``) playing a fault in one phase of the exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import h11
import httpx
import pytest
import stateset_voice_facts

from stateset_voice_wrapper import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncVoiceClient,
    ConfigurationError,
    InternalServerError,
    InvalidParameterError,
    RateLimitError,
    ReliabilityConfig,
    ReliableTransport,
    RetryBudget,
    StateSetVoiceError,
    UnprocessableEntityError,
    VoiceClient,
    request_options,
)
from stateset_voice_wrapper._clients.settings import resolve_base_url, resolve_key
from stateset_voice_wrapper._reliability.identity import normalise_path, path_matcher
from stateset_voice_wrapper._shared.defaults import DEADLINE_MARGIN
from stateset_voice_wrapper._shared.redact import mask_phone_numbers, redact, redact_url
from stateset_voice_wrapper._shared.validate import check_idempotency_key

if TYPE_CHECKING:
    from tests.adversarial import API_KEY, TO, check_invariants, open_fds, run_one, send_via
    from tests.faultserver import (
        Behaviour,
        CallApp,
        Close,
        FaultServer,
        Hang,
        Repeat,
        Respond,
        Script,
        Send,
        SendAnswer,
        Stall,
        Wait,
        json_response,
    )
else:
    from adversarial import API_KEY, TO, check_invariants, open_fds, run_one, send_via
    from faultserver import (
        Behaviour,
        CallApp,
        Close,
        FaultServer,
        Hang,
        Repeat,
        Respond,
        Script,
        Send,
        SendAnswer,
        Stall,
        Wait,
        json_response,
    )

DEADLINE = 0.5
BOUND = DEADLINE + DEADLINE_MARGIN + 0.15  # the documented margin, and slack for a busy CI
MODES = [
    pytest.param(flavour, via, id=f"{flavour}-{via}")
    for flavour in ("sync", "async")
    for via in ("raw", "typed")
]


# -- 1 and 2: the deadline is a hard bound in every phase ---------------------------------------

INTERIM = b"HTTP/1.1 100 Continue\r\n\r\n"
# Each fault is bounded (40 x 50 ms) so that, before the fix, the test fails by its elapsed
# time instead of hanging: the server trickles for 2 s, then gives up.
PHASE_FAULTS = {
    "interim-responses-forever": Script(Repeat(INTERIM, every=0.05, times=40), Close()),
    "interim-trickled-byte-by-byte": Script(Send(INTERIM * 4, every=0.02), Close()),
    "status-line-trickled": Script(Send(b"HTTP/1.1 200 OK\r\n", every=0.12), Close()),
    "header-line-every-50ms": Script(
        Send(b"HTTP/1.1 201 Created\r\n"), Repeat(b"X-Pad: 1\r\n", every=0.05, times=40), Close()
    ),
    "head-at-90%-then-body-stalls": Script(
        Wait(DEADLINE * 0.9), SendAnswer(end=-3), Wait(2.0), Close()
    ),
    "body-trickled": Script(SendAnswer(end=-40), SendAnswer(start=-40, every=0.06), Close()),
    "accept-then-nothing": Script(Wait(2.0), read="none"),
    "request-read-partially-then-stall": Script(Wait(2.0), read=10),
}


@pytest.mark.parametrize("fault", list(PHASE_FAULTS), ids=list(PHASE_FAULTS))
@pytest.mark.parametrize(("flavour", "via"), MODES)
def test_the_deadline_bounds_every_phase_of_an_attempt(flavour: str, via: str, fault: str) -> None:
    with FaultServer(default=PHASE_FAULTS[fault]) as server:
        out = run_one(server, flavour=flavour, via=via, deadline=DEADLINE, max_retries=2)
    assert isinstance(out.error, APITimeoutError), out.error
    assert out.elapsed <= BOUND, f"{out.elapsed:.3f}s for a {DEADLINE}s deadline"
    assert "deadline of 0.5s exceeded" in out.error.message
    assert out.error.attempts[-1].outcome == "APITimeoutError"
    check_invariants(out, server, deadline=DEADLINE)


def test_a_body_stalling_near_its_end_keeps_the_default_deadline_margin() -> None:
    # Headers at 90% of the deadline, then the body stalls: before the fix the stalled read got
    # a whole new read timeout (up to 20 s with the defaults) on top of the deadline.
    transport = ReliableTransport(
        budget=RetryBudget(), deadline=DEADLINE, timeout=20.0, transport=httpx.HTTPTransport()
    )
    stall = Script(Wait(DEADLINE * 0.8), SendAnswer(end=-3), Wait(3.0), Close())
    with FaultServer(default=stall) as server, httpx.Client(transport=transport) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            client.get(server.url + "/api/v1/call-logs/c_1")
        elapsed = time.monotonic() - started
    assert elapsed <= BOUND
    assert "response's body was still arriving" in info.value.message
    assert info.value.request_id is not None  # the head had arrived: its request ID is kept


def _full_backlog() -> tuple[socket.socket, list[socket.socket]]:
    """A listener whose accept queue is full: a further connect is never completed."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(listener.getsockname())
        fillers.append(filler)
    return listener, fillers


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_the_deadline_bounds_connect_tls_and_write(flavour: str) -> None:
    cases: list[tuple[str, str, bytes]] = []
    listener, fillers = _full_backlog()
    port = listener.getsockname()[1]
    cases.append(("connect", f"http://127.0.0.1:{port}/api/v1/call-logs/c_1", b""))
    tls_server = FaultServer(default=Script(Wait(3.0), read="none")).start()
    cases.append(("tls", f"https://127.0.0.1:{tls_server.port}/api/v1/call-logs/c_1", b""))
    write_server = FaultServer(default=Script(Wait(3.0), read="none")).start()
    big = b"x" * (64 * 1024 * 1024)  # far more than the socket buffers hold
    cases.append(("write", f"http://127.0.0.1:{write_server.port}/api/v1/things", big))
    try:
        for phase, url, body in cases:
            transport = ReliableTransport(
                budget=RetryBudget(), deadline=DEADLINE, timeout=5.0, max_retries=2
            )
            method = "PUT" if body else "GET"
            started = time.monotonic()
            with pytest.raises(APITimeoutError) as info:
                send_via(flavour, transport, method, url, content=body or None)
            elapsed = time.monotonic() - started
            assert elapsed <= BOUND, f"{phase}: {elapsed:.3f}s"
            assert "deadline" in info.value.message, phase
            if phase in ("connect", "tls"):
                # Nothing of the request can have reached a server.
                assert not info.value.may_have_reached_server, phase
    finally:
        tls_server.stop()
        write_server.stop()
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_callers_own_httpx_transport_gets_the_hard_bound_too() -> None:
    inner = httpx.HTTPTransport(limits=httpx.Limits(max_connections=3))
    transport = ReliableTransport(budget=RetryBudget(), deadline=DEADLINE, transport=inner)
    assert transport.guarded_sync
    fault = PHASE_FAULTS["header-line-every-50ms"]
    with FaultServer(default=fault) as server, httpx.Client(transport=transport) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            client.get(server.url + "/api/v1/call-logs/c_1")
        assert time.monotonic() - started <= BOUND


# -- 3: a status answer stays itself when the deadline forbids the retry wait -----------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_429_longer_than_the_time_left_is_a_rate_limit_error_through_the_typed_client(
    flavour: str,
) -> None:
    limited = json_response(
        429, {"code": "rate_limited", "message": "slow down"}, headers=(("Retry-After", "30"),)
    )
    with FaultServer(default=limited) as server:
        out = run_one(server, flavour=flavour, via="typed", deadline=5.0)
    error = out.error
    assert isinstance(error, RateLimitError), error
    assert (error.status_code, error.retry_after) == (429, 30.0)
    assert error.not_retried is not None
    assert "deadline" in error.not_retried
    assert len(server.requests) == 1
    assert out.sleeps == []


# -- 4: pool waits spend no retry budget; the pool limits are exposed ---------------------------


def test_a_pool_timeout_retry_spends_no_budget() -> None:
    budget = RetryBudget(capacity=0)  # an empty bucket: no server-failure retry is possible
    inner = httpx.HTTPTransport(limits=httpx.Limits(max_connections=1))
    transport = ReliableTransport(
        transport=inner,
        budget=budget,
        timeout=httpx.Timeout(5.0, pool=0.02),
        max_retries=2,
        sleep=lambda s: None,
    )
    with FaultServer(Respond(200, body=b"held")) as server:
        held = inner.handle_request(httpx.Request("GET", server.url + "/hold"))
        try:
            with (
                httpx.Client(transport=transport) as client,
                pytest.raises(APITimeoutError) as info,
            ):
                client.post(server.url + "/api/v1/things", content=b"{}")
        finally:
            held.close()
            inner.close()
    # Retried twice although the bucket is empty: a pool wait is local congestion.
    assert [a.outcome for a in info.value.attempts] == ["PoolTimeout"] * 3
    assert budget.available == 0
    assert not info.value.may_have_reached_server


def test_limits_size_the_pools_the_transport_creates() -> None:
    limits = httpx.Limits(max_connections=7, max_keepalive_connections=3)
    transport = ReliableTransport(limits=limits)
    assert transport.config.limits is limits
    sync_pool: Any = transport._sync_inner()
    async_pool: Any = transport._async_inner()
    for inner in (sync_pool, async_pool):
        assert inner._pool._max_connections == 7
        assert inner._pool._max_keepalive_connections == 3
    via_config = ReliableTransport(config=ReliabilityConfig(limits=limits))
    assert via_config.config.limits is limits
    with pytest.raises(InvalidParameterError):
        ReliableTransport(limits=100)  # type: ignore[arg-type]


# -- 5: credentials are validated when a client is built, and never echoed ---------------------

BAD_KEYS = [
    pytest.param(
        API_KEY + "\nX", f"a control character (U+000A) at position {len(API_KEY)}", id="newline"
    ),
    pytest.param(API_KEY[:17] + "\u200b" + API_KEY[17:], "U+200B) at position 17", id="zwsp"),
    pytest.param(API_KEY[:10] + " " + API_KEY[10:], "a space at position 10", id="space"),
    pytest.param(API_KEY + "é", "non-ASCII character (U+00E9)", id="accent"),
    pytest.param("ab", "2 characters long", id="too-short"),
    pytest.param("k" * 5000, "5000 characters long", id="too-long"),
]


@pytest.mark.parametrize(("key", "problem"), BAD_KEYS)
@pytest.mark.parametrize("cls", [VoiceClient, AsyncVoiceClient])
def test_a_malformed_key_is_refused_when_the_client_is_built(
    cls: type[Any], key: str, problem: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        cls(key, base_url="https://voice.example.com")
    text = str(info.value) + repr(info.value)
    assert problem in text
    assert "runtime API key" in text
    assert API_KEY[:12] not in text
    assert info.value.__cause__ is None


def test_keys_are_stripped_of_surrounding_whitespace_only() -> None:
    assert resolve_key(f"  {API_KEY}\n", env="X", what="runtime API key") == API_KEY


def test_lower_layer_text_is_redacted_in_connection_errors() -> None:
    secret = "sk_live_LEAKY0000key"

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(
            f"Illegal header value b'Bearer {secret}\\nX' to +15555550123 via https://u:pw@proxy"
        )

    transport = ReliableTransport(
        transport=httpx.MockTransport(handler), budget=RetryBudget(), max_retries=0
    )
    with httpx.Client(transport=transport) as client, pytest.raises(APIConnectionError) as info:
        client.get("http://api.test/x", headers={"Authorization": f"Bearer {secret}"})
    text = str(info.value) + repr(info.value)
    for leaked in (secret, "LEAKY", "+15555550123", "u:pw"):
        assert leaked not in text
    assert "LocalProtocolError" in text


def test_a_header_value_h11_would_quote_is_refused_before_sending(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    transport = ReliableTransport(budget=RetryBudget())
    with FaultServer() as server, httpx.Client(transport=transport) as client:
        with pytest.raises(InvalidParameterError) as info:
            client.get(server.url + "/x", headers={"Authorization": f"Bearer {API_KEY}\nX"})
        assert server.requests == []
    assert API_KEY not in str(info.value)
    assert "its value is withheld" in str(info.value)
    assert all(API_KEY not in r.getMessage() for r in caplog.records)


# -- 6: phone numbers in the server's messages are masked --------------------------------------


@pytest.mark.parametrize(("flavour", "via"), MODES)
def test_phone_numbers_from_the_server_never_reach_messages(flavour: str, via: str) -> None:
    with FaultServer(default=Script(SendAnswer()), app=CallApp(error=422)) as server:
        out = run_one(server, flavour=flavour, via=via, max_retries=0)
    error = out.error
    assert isinstance(error, UnprocessableEntityError), error
    assert error.message == "cannot call +***23 from +***76"
    assert TO.encode() in error.body  # the raw body keeps what the server said
    check_invariants(out, server, deadline=DEADLINE)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+15555555678", "+***78"),
        ("%2B15555555678", "+***78"),
        ("+1 (555) 555-5678", "+***78"),
        ("(555) 555-5678", "***78"),
        ("555-555-5678", "***78"),
        ("555.555.5678", "***78"),
        ("+44 20 7946 0958", "+***58"),
        ("0044 20 7946 0958", "+***58"),
        ("15555555678", "***78"),
        ("created 2024-05-01T12:00:00Z", "created 2024-05-01T12:00:00Z"),
        ("from 192.168.100.200:8080", "from 192.168.100.200:8080"),
        ("call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M", "call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M"),
        ("0861cdd4-40df-4f7f-90ca-084d38128804", "0861cdd4-40df-4f7f-90ca-084d38128804"),
        ("retry in 2.5s, 1234567 left", "retry in 2.5s, 1234567 left"),
    ],
)
def test_phone_number_masking(text: str, masked: str) -> None:
    assert mask_phone_numbers(text) == masked


def test_credentials_are_stripped_from_urls_and_text() -> None:
    assert redact_url("https://user:pw@h.example/x?token=abc#f") == "https://***@h.example/x"
    assert (
        redact("token=abc123 Bearer sk_live_zzz api_key: qq") == "token=*** Bearer *** api_key: ***"
    )


# -- 7: base URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://user:hunter2@voice.example.com", "contains credentials"),
        ("https://:hunter2@voice.example.com", "contains credentials"),
        ("voice.stateset.app", "has no scheme"),
        ("https://xn--a.example", "not a valid URL"),
        ("https://voice.example.com:99999", "port 99999"),
        ("https://voice.example.com:0", "port 0"),
        ("https://exa mple.com", "no valid host"),
        ("https://a_b.example", "no valid host"),
        ("https://-bad-.example", "no valid host"),
        ("https://", "no valid host"),
        ("https://voice.example.com/api/v1", "contains /api/v1"),
        ("https://voice.example.com/voice/api/v1/", "contains /api/v1"),
        ("https://voice.example.com?x=1", "no query string"),
        ("ftp://voice.example.com", "scheme must be https"),
        ("http://localhost.evil.example", "only sent over https"),
        ("http://127.0.0.1.evil.example", "only sent over https"),
        ("http://127.1", "only sent over https"),
        ("http://0x7f000001", "only sent over https"),
        ("http://2130706433", "only sent over https"),
        ("http://[::ffff:127.0.0.1]", "only sent over https"),
        ("http://ｌｏｃａｌｈｏｓｔ", "not a valid URL"),
        ("http://localhost.", "no valid host"),
        ("http://10.0.0.5", "only sent over https"),
    ],
)
def test_base_urls_are_refused_with_a_clear_reason(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_base_url(url)
    text = str(info.value)
    assert problem in text
    assert "hunter2" not in text
    with pytest.raises(ConfigurationError):
        VoiceClient(API_KEY, base_url=url)


@pytest.mark.parametrize(
    ("url", "resolved"),
    [
        ("https://voice.example.com/", "https://voice.example.com"),
        ("https://proxy.example/voice", "https://proxy.example/voice"),
        ("HTTPS://Voice.Example.com:8443/Voice/", "https://voice.example.com:8443/Voice"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://localhost:9", "http://localhost:9"),
    ],
)
def test_good_base_urls(url: str, resolved: str) -> None:
    assert resolve_base_url(url) == resolved


def test_env_base_url_without_a_scheme_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", "voice.stateset.app")
    with pytest.raises(ConfigurationError, match="has no scheme"):
        VoiceClient(API_KEY)


# -- 8: input errors are InvalidParameterError before anything is sent -------------------------

BAD_OPTIONS: list[tuple[str, Any]] = [
    ("timeout", -1),
    ("timeout", float("nan")),
    ("timeout", float("inf")),
    ("timeout", True),
    ("timeout", "5"),
    ("timeout", httpx.Timeout(5.0, read=-1)),
    ("deadline", -1),
    ("deadline", float("nan")),
    ("deadline", float("inf")),
    ("deadline", 0),
    ("max_retries", -1),
    ("max_retries", 1.5),
    ("idempotency_key", 42),
    ("idempotency_key", ""),
    ("idempotency_key", " padded"),
    ("idempotency_key", "trailing\t"),
    ("idempotency_key", "ctrl\x00key"),
    ("idempotency_key", "zero\u200bwidth"),
    ("idempotency_key", "k" * 256),
    ("client_request_id", "a\nb"),
    ("client_request_id", 7),
    ("extra_headers", {"X-Ok": "a\r\nInjected: 1"}),
    ("extra_headers", {"bad name": "v"}),
    ("extra_headers", "not a mapping"),
    ("extra_query", {"a": 1}),
]


@pytest.mark.parametrize(
    ("name", "value"), BAD_OPTIONS, ids=[f"{n}={v!r}"[:40] for n, v in BAD_OPTIONS]
)
def test_bad_request_options_are_refused_before_sending(name: str, value: Any) -> None:
    with FaultServer() as server:
        with pytest.raises(InvalidParameterError) as info, request_options(**{name: value}):
            pass
        assert server.requests == []
    assert name.split("[")[0] in str(info.value)


BAD_CONFIG: list[tuple[str, Any]] = [
    ("timeout", -1),
    ("deadline", float("inf")),
    ("backoff_base", -0.5),
    ("backoff_cap", float("nan")),
    ("budget", 500),
    ("on_retry", "print"),
    ("clock", None),
    ("sleep", 3),
    ("auto_idempotency_keys", "yes"),
    ("limits", {"max_connections": 5}),
]


@pytest.mark.parametrize(
    ("name", "value"), BAD_CONFIG, ids=[f"{n}={v!r}"[:40] for n, v in BAD_CONFIG]
)
def test_bad_reliability_settings_are_refused(name: str, value: Any) -> None:
    with pytest.raises(InvalidParameterError, match=name):
        ReliabilityConfig(**{name: value})


@pytest.mark.parametrize(
    "setting", [{"capacity": -1}, {"retry_cost": float("nan")}, {"timeout_cost": "10"}]
)
def test_bad_budget_settings_are_refused(setting: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        RetryBudget(**setting)


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize(
    "option", [{"timeout": -1}, {"deadline": float("nan")}, {"timeout": float("inf")}]
)
def test_typed_clients_refuse_bad_options_as_invalid_parameters(
    flavour: str, option: dict[str, Any]
) -> None:
    with FaultServer() as server:
        if flavour == "sync":
            with (
                VoiceClient(API_KEY, base_url=server.url) as voice,
                pytest.raises(InvalidParameterError),
            ):
                voice.call_logs.get("call_1", **option)
        else:

            async def go() -> None:
                async with AsyncVoiceClient(API_KEY, base_url=server.url) as voice:
                    await voice.call_logs.get("call_1", **option)

            with pytest.raises(InvalidParameterError):
                asyncio.run(go())
        assert server.requests == []


def test_check_idempotency_key() -> None:
    assert check_idempotency_key("appt-A-123 confirm") == "appt-A-123 confirm"
    assert check_idempotency_key("k" * 255) == "k" * 255
    with pytest.raises(InvalidParameterError, match="position 4"):
        check_idempotency_key("appt\x7fA")


# -- 9: a one-shot body ---------------------------------------------------------------------


def _chunks(total: int, size: int = 65536) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        yield b"x" * piece
        sent += piece


async def _achunks(total: int) -> AsyncIterator[bytes]:
    for chunk in _chunks(total):
        yield chunk


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_small_generator_body_is_buffered_and_retried(flavour: str) -> None:
    script = [Respond(503), Respond(201, body=b'{"ok": true}')]
    transport = ReliableTransport(budget=RetryBudget(), sleep=lambda s: None, async_sleep=_nosleep)
    headers = {"Idempotency-Key": "gen-1"}
    with FaultServer(*script) as server:
        if flavour == "sync":
            with httpx.Client(transport=transport) as client:
                response = client.post(
                    server.url + "/api/v1/things", content=_chunks(1000, 100), headers=headers
                )
        else:

            async def go() -> httpx.Response:
                async with httpx.AsyncClient(transport=transport) as client:
                    return await client.post(
                        server.url + "/api/v1/things", content=_achunks(1000), headers=headers
                    )

            response = asyncio.run(go())
    assert response.status_code == 201
    assert [len(r.body) for r in server.requests] == [1000, 1000]


async def _nosleep(_: float) -> None:
    return None


def test_a_large_one_shot_body_is_sent_once_and_not_retried() -> None:
    transport = ReliableTransport(budget=RetryBudget(), sleep=lambda s: None)
    total = 3 * 1024 * 1024
    with (
        FaultServer(default=Respond(503)) as server,
        httpx.Client(transport=transport) as client,
        pytest.raises(InternalServerError) as info,
    ):
        client.post(
            server.url + "/api/v1/things",
            content=_chunks(total),
            headers={"Idempotency-Key": "gen-2"},
        )
    assert [len(r.body) for r in server.requests] == [total]
    assert info.value.not_retried is not None
    assert "one-shot" in info.value.not_retried


# -- 10: path normalisation for automatic keys ------------------------------------------------


@pytest.mark.parametrize(
    ("path", "gets_key"),
    [
        ("/api/v1/make-call/", True),
        ("/api/v1//make-call", True),
        ("//api/v1/make-call//", True),
        ("/voice//api/v1/make-call/", True),
        ("/api/v1/admin/agent-versions/av_1/approve/", True),
        ("/api/v1/make-call/x", False),
        ("/api/v1/make-calls", False),
    ],
)
def test_creating_paths_are_matched_after_normalising(path: str, gets_key: bool) -> None:
    transport = ReliableTransport(budget=RetryBudget())
    with FaultServer() as server, httpx.Client(transport=transport) as client:
        client.post(server.url + path, content=b"{}")
    assert (server.requests[0].header("Idempotency-Key") is not None) is gets_key
    creating = [
        op["path"]
        for op in stateset_voice_facts.OPERATIONS.values()
        if op["method"] == "POST" and op["idempotency_key"]
    ]
    assert path_matcher(creating)(path) is gets_key


def test_normalise_path() -> None:
    assert normalise_path("//a///b/") == "/a/b"
    assert normalise_path("/") == "/"


# -- 11: nothing the server or the network can cause escapes untyped ---------------------------

_BOMB = gzip.compress(b"\0" * (20 * 1024 * 1024), compresslevel=9)
_BODY = b'{"call_id": "call_1", "status": "queued"}'

WIRE_FAULTS: dict[str, tuple[Behaviour, type[StateSetVoiceError]]] = {
    "corrupt-gzip-2xx": (
        Respond(200, headers=(("Content-Encoding", "gzip"),), body=b"\x1f\x8bnot gzip at all"),
        APIResponseValidationError,
    ),
    "gzip-bomb-2xx": (
        Respond(200, headers=(("Content-Encoding", "gzip"),), body=_BOMB),
        APIResponseValidationError,
    ),
    "corrupt-deflate-2xx": (
        Respond(200, headers=(("Content-Encoding", "deflate"),), body=b"nope"),
        APIResponseValidationError,
    ),
    "content-length-too-long": (
        Script(Send(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + _BODY), Close()),
        APIConnectionError,
    ),
    "content-length-not-a-number": (
        Script(Send(b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n" + _BODY), Close()),
        APIConnectionError,
    ),
    "chunk-size-garbage": (
        Script(
            Send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"), Close()
        ),
        APIConnectionError,
    ),
    "chunked-cut-short": (
        Script(Send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\nabc"), Close()),
        APIConnectionError,
    ),
    "garbage-status-line": (Script(Send(b"SMTP ready\r\n\r\n"), Close()), APIConnectionError),
    "header-without-colon": (
        Script(Send(b"HTTP/1.1 200 OK\r\nnot a header\r\n\r\n"), Close()),
        APIConnectionError,
    ),
    "oversized-header": (
        Script(Send(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"), Close()),
        APIConnectionError,
    ),
    "binary-garbage": (Script(Send(bytes(range(256)) * 4), Close()), APIConnectionError),
    "closed-before-answer": (Script(Close()), APIConnectionError),
}


@pytest.mark.parametrize("fault", list(WIRE_FAULTS), ids=list(WIRE_FAULTS))
@pytest.mark.parametrize(("flavour", "via"), MODES)
def test_wire_faults_become_typed_errors(flavour: str, via: str, fault: str) -> None:
    behaviour, expected = WIRE_FAULTS[fault]
    with FaultServer(default=behaviour) as server:
        out = run_one(server, flavour=flavour, via=via, op="get", max_retries=1)
    assert isinstance(out.error, expected), repr(out.error)
    check_invariants(out, server, deadline=DEADLINE)


RAISED = [
    OSError(104, "Connection reset by peer"),
    ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    h11.RemoteProtocolError("peer sent garbage"),
    zlib.error("Error -3 while decompressing data"),
    httpx.DecodingError("bad brotli"),
    httpx.ProxyError("proxy said no"),
    TimeoutError("timed out"),
]


@pytest.mark.parametrize("exc", RAISED, ids=[type(e).__name__ for e in RAISED])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_raw_exceptions_of_an_inner_transport_become_typed_errors(
    flavour: str, exc: Exception
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    mock = httpx.MockTransport(handler)
    transport = ReliableTransport(
        transport=mock, async_transport=mock, budget=RetryBudget(), max_retries=0
    )
    with pytest.raises(StateSetVoiceError) as info:
        send_via(flavour, transport, "POST", "http://api.test/api/v1/make-call", content=b"{}")
    error = info.value
    assert isinstance(error, APIConnectionError)
    assert error.__cause__ is exc
    assert error.idempotency_key is not None
    assert error.client_request_id
    assert error.may_have_reached_server  # an unknown failure is never "not sent"


# -- 12: cancellation -----------------------------------------------------------------------


def test_cancellation_propagates_promptly_and_leaves_nothing_behind() -> None:
    budget = RetryBudget(capacity=100)
    inner = httpx.AsyncHTTPTransport()
    transport = ReliableTransport(budget=budget, async_transport=inner, deadline=30.0)
    fds_before = open_fds()

    async def go(url: str) -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            for path in ("/stall", "/body-stall"):
                started = time.monotonic()
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(client.get(url + path), timeout=0.2)
                assert time.monotonic() - started < 0.2 + 0.2
                pool: Any = inner._pool
                assert pool._requests == []
                assert all(c.is_idle() or c.is_closed() for c in pool.connections)

    script: list[Behaviour] = [Hang(), Script(SendAnswer(end=-3), Stall())]
    with FaultServer(*script) as server:
        asyncio.run(go(server.url))
    assert budget.available == 100  # cancelled requests spend nothing
    assert open_fds() <= fds_before


def test_cancelling_during_a_backoff_sleep_spends_one_retry_and_raises_cancelled() -> None:
    budget = RetryBudget(capacity=100, retry_cost=5)
    sleeping = asyncio.Event

    async def go(url: str) -> None:
        started = sleeping()

        async def slow_sleep(seconds: float) -> None:
            started.set()
            await asyncio.sleep(30)

        transport = ReliableTransport(budget=budget, async_sleep=slow_sleep)
        async with httpx.AsyncClient(transport=transport) as client:
            task = asyncio.create_task(client.get(url + "/x"))
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    with FaultServer(default=Respond(503)) as server:
        asyncio.run(go(server.url))
    assert budget.available == 95
    assert len(server.requests) == 1


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_an_answer_arriving_as_the_deadline_passes_leaves_no_connection_checked_out(
    flavour: str,
) -> None:
    # Found by the fault-schedule property: with asyncio.timeout, a cancellation landing in
    # httpcore's clean-up (shielded only from anyio scopes) left the connection busy.
    for step in range(12):
        wait = 0.27 + step * 0.004  # around the 0.3 s deadline
        with FaultServer(Script(Wait(wait), SendAnswer())) as server:
            out = run_one(
                server, flavour=flavour, via="typed", op="get", deadline=0.3, max_retries=0
            )
        check_invariants(out, server, deadline=0.3)
