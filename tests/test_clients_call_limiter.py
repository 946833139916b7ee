"""``calls.create`` with a call limiter: where the permit is taken, when it is given back.

The order is calling window, arguments, ledger claim, permit (then the rate window), send. A
ledger replay takes no permit, a refused permit gives the ledger claim back as never sent, a
failed send frees the permit at once, and a placed call keeps it until its end is reported,
by the webhook consumer (``release_for_call``) or by a call-log poll
(``release_ended_calls``). Both client flavours run every case, over an in-memory transport;
the last tests run the whole loop against a sandbox that ends calls and delivers webhooks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from stateset_voice_public.models import CallCompletedEvent, CallFailedEvent

from stateset_voice_wrapper import (
    APIConnectionError,
    APITimeoutError,
    AsyncVoiceClient,
    CallingWindow,
    CallLimiter,
    CallRateLimitError,
    ConcurrencyLimitError,
    InProcessCallLimiter,
    InternalServerError,
    InvalidParameterError,
    OutsideCallingHoursError,
    ReliabilityConfig,
    RetryBudget,
    SqliteLedger,
    VoiceClient,
)
from stateset_voice_wrapper.sandbox import Sandbox
from stateset_voice_wrapper.stores import LedgerEntry, fingerprint_request
from stateset_voice_wrapper.webhooks import construct_event

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

FLAVOURS = ("sync", "async")
TO, FROM, AGENT = "+15555555678", "+15555551234", "front_desk"


class Server:
    """A MockTransport handler: each make-call gets a new call ID, or the failure it is told."""

    def __init__(self) -> None:
        self.posts = 0
        self.fail_with: int | Exception | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if isinstance(self.fail_with, Exception):
            raise self.fail_with
        self.posts += 1
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, json={"error": {"code": "boom", "message": "x"}})
        body = json.loads(request.content)
        return httpx.Response(
            201,
            json={
                "call_id": f"call_{self.posts}",
                "status": "queued",
                "to": body["to"],
                "from": body["from"],
                "agent_key": body["agent_key"],
                "session_id": None,
                "created_at": "2026-11-20T15:04:05Z",
                "metadata": {},
            },
        )


Create = Callable[..., Any]


@pytest.fixture(params=FLAVOURS)
def create(request: pytest.FixtureRequest) -> Iterator[Callable[..., Create]]:
    """``create(server, limiter, ledger=None) -> place(**create_arguments)`` in one flavour."""
    closers: list[Callable[[], None]] = []

    def make(server: Server, limiter: CallLimiter, *, ledger: Any = None, **client: Any) -> Create:
        options: dict[str, Any] = {
            "base_url": "https://voice.example.com",
            "reliability": ReliabilityConfig(
                sleep=lambda s: None, async_sleep=_no_sleep, budget=RetryBudget(), max_retries=0
            ),
            "call_limiter": limiter,
            "ledger": ledger,
            **client,
        }
        if request.param == "sync":
            voice = VoiceClient("sk_test", transport=httpx.MockTransport(server), **options)
            closers.append(voice.close)

            def place(**arguments: Any) -> Any:
                return voice.calls.create(
                    **{"to": TO, "from_": FROM, "agent_key": AGENT, **arguments}
                )

            return place
        avoice = AsyncVoiceClient("sk_test", transport=httpx.MockTransport(server), **options)
        closers.append(lambda: asyncio.run(avoice.aclose()))

        def aplace(**arguments: Any) -> Any:
            return asyncio.run(
                avoice.calls.create(**{"to": TO, "from_": FROM, "agent_key": AGENT, **arguments})
            )

        return aplace

    yield make
    for close in closers:
        close()


async def _no_sleep(_: float) -> None:
    return None


def test_a_placed_call_keeps_its_permit_until_its_end_is_reported(
    create: Callable[..., Create],
) -> None:
    server, limiter = Server(), InProcessCallLimiter(concurrency=1)
    place = create(server, limiter)
    call = place(idempotency_key="appt-1")
    assert limiter.attached_calls() == [call.call_id]
    with pytest.raises(ConcurrencyLimitError) as caught:
        place(idempotency_key="appt-2")
    assert caught.value.idempotency_key == "appt-2"
    assert server.posts == 1  # the refused call was never sent
    assert limiter.release_for_call(call.call_id) is True  # call.completed arrived
    place(idempotency_key="appt-2")
    assert server.posts == 2


def test_a_ledger_replay_takes_no_permit(create: Callable[..., Create], tmp_path: Path) -> None:
    server, limiter = Server(), InProcessCallLimiter(concurrency=1)
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        place = create(server, limiter, ledger=ledger)
        first = place(idempotency_key="appt-1")
        # The limit is full (the first call is in progress), yet the replay is answered.
        again = place(idempotency_key="appt-1")
        assert again.call_id == first.call_id
        assert server.posts == 1
        assert limiter.in_use() == 1


def test_a_refused_permit_gives_the_ledger_key_back_as_never_sent(
    create: Callable[..., Create], tmp_path: Path
) -> None:
    server, limiter = Server(), InProcessCallLimiter(concurrency=1)
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        place = create(server, limiter, ledger=ledger)
        place(idempotency_key="appt-1")
        with pytest.raises(ConcurrencyLimitError):
            place(idempotency_key="appt-2")
        # Forgotten, not remembered: other parameters may claim the key (no conflict).
        entry = ledger.begin(
            "appt-2", fingerprint=fingerprint_request({"other": 1}), scope=_scope()
        )
        assert isinstance(entry, LedgerEntry)
        entry.abandon(maybe_sent=False)


def _scope() -> str:
    with VoiceClient("sk_test", base_url="https://voice.example.com") as voice:
        return voice.ledger_scope


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (500, InternalServerError),  # answered: no call
        (httpx.ConnectError("refused"), APIConnectionError),  # never sent
        (httpx.ReadTimeout("lost"), APITimeoutError),  # maybe placed: the retry re-takes one
    ],
    ids=["500", "connect", "read-timeout"],
)
def test_a_failed_send_frees_the_permit_at_once(
    create: Callable[..., Create], failure: int | Exception, raised: type[Exception]
) -> None:
    server, limiter = Server(), InProcessCallLimiter(concurrency=1)
    place = create(server, limiter)
    server.fail_with = failure
    with pytest.raises(raised):
        place(idempotency_key="appt-1")
    assert limiter.in_use() == 0
    server.fail_with = None
    place(idempotency_key="appt-1")
    assert limiter.in_use() == 1


def test_the_calling_window_refuses_before_a_permit_is_taken(
    create: Callable[..., Create],
) -> None:
    early = dt.datetime(2026, 3, 2, 12, 59, tzinfo=dt.UTC).timestamp  # 07:59 in New York
    server, limiter = Server(), InProcessCallLimiter(concurrency=1)
    place = create(
        server,
        limiter,
        calling_window=CallingWindow(),
        reliability=ReliabilityConfig(wall_clock=early, budget=RetryBudget(), max_retries=0),
    )
    with pytest.raises(OutsideCallingHoursError):
        place(to="+12125550101", idempotency_key="appt-1")
    assert limiter.in_use() == 0
    assert server.posts == 0


def test_the_rate_limit_refuses_with_nothing_sent(create: Callable[..., Create]) -> None:
    server, limiter = Server(), InProcessCallLimiter(rate=1, rate_window=60.0)
    place = create(server, limiter)
    place()  # without an idempotency key too: the limiter still applies
    with pytest.raises(CallRateLimitError) as caught:
        place(idempotency_key="appt-2")
    assert caught.value.retry_after == pytest.approx(60.0, abs=1.0)
    assert caught.value.idempotency_key == "appt-2"
    assert server.posts == 1


def test_a_create_that_could_outwait_its_ledger_claim_is_refused(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "calls.db", lease_seconds=120) as ledger:
        patient = InProcessCallLimiter(concurrency=1, wait=90.0)
        with pytest.raises(InvalidParameterError, match="shorter than the ledger's lease"):
            VoiceClient("sk_test", ledger=ledger, call_limiter=patient, deadline=60.0)
        VoiceClient("sk_test", ledger=ledger, call_limiter=patient, deadline=20.0).close()
    with pytest.raises(InvalidParameterError, match="must be a CallLimiter"):
        VoiceClient("sk_test", call_limiter=object())  # type: ignore[arg-type]


# --- against a sandbox that ends calls -----------------------------------------------------------


class WebhookReceiver:
    """A StateSet webhook endpoint whose handler releases permits: the documented one line."""

    def __init__(self, secret: str, limiter: CallLimiter) -> None:
        released: list[str] = []
        self.released = released

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event = construct_event(payload=body, headers=dict(self.headers), secrets=[secret])
                if isinstance(
                    event, CallCompletedEvent | CallFailedEvent
                ) and limiter.release_for_call(event.data.call_id):
                    released.append(event.data.call_id)
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_webhook_consumer_releases_each_permit_when_its_call_ends(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    limiter = InProcessCallLimiter(concurrency=2)
    sandbox = sandbox_factory()
    receiver = WebhookReceiver(sandbox.webhook_secret, limiter)
    try:
        sandbox.configure_webhooks(url=receiver.url)
        with VoiceClient(
            sandbox.runtime_key, base_url=sandbox.base_url, call_limiter=limiter
        ) as voice:
            answered = voice.calls.create(to=TO, from_=FROM, agent_key=AGENT)
            busy = voice.calls.create(to="+15555550009", from_=FROM, agent_key=AGENT)  # ends busy
            with pytest.raises(ConcurrencyLimitError):
                voice.calls.create(to=TO, from_=FROM, agent_key=AGENT)
            sandbox.advance(settle=True)
            sandbox.flush_webhooks()
            assert sorted(receiver.released) == sorted([answered.call_id, busy.call_id])
            assert limiter.in_use() == 0
            voice.calls.create(to=TO, from_=FROM, agent_key=AGENT)
    finally:
        receiver.close()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_call_log_poll_releases_the_permits_of_ended_calls(
    sandbox_factory: Callable[..., Sandbox], flavour: str
) -> None:
    limiter = InProcessCallLimiter(concurrency=3)
    sandbox = sandbox_factory()
    options: dict[str, Any] = {"base_url": sandbox.base_url, "call_limiter": limiter}
    if flavour == "sync":
        with VoiceClient(sandbox.runtime_key, **options) as voice:
            calls = [voice.calls.create(to=TO, from_=FROM, agent_key=AGENT) for _ in range(3)]
            assert voice.release_ended_calls() == []  # all still queued
            sandbox.advance(settle=True)
            released = voice.release_ended_calls()
    else:

        async def main() -> tuple[list[Any], list[str]]:
            async with AsyncVoiceClient(sandbox.runtime_key, **options) as voice:
                placed = [
                    await voice.calls.create(to=TO, from_=FROM, agent_key=AGENT) for _ in range(3)
                ]
                assert await voice.release_ended_calls() == []
                sandbox.advance(settle=True)
                return placed, await voice.release_ended_calls()

        calls, released = asyncio.run(main())
    assert sorted(released) == sorted(c.call_id for c in calls)
    assert limiter.in_use() == 0
    with (
        VoiceClient(sandbox.runtime_key, base_url=sandbox.base_url) as plain,
        pytest.raises(InvalidParameterError, match="needs a client with a call_limiter"),
    ):
        plain.release_ended_calls()
