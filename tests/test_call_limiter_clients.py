"""The clients' use of a call limiter when the world misbehaves: a create interrupted after its
call was placed, and a call-log poll against a server that answers badly for some calls.

* a placed call's permit follows the call even when the create is cancelled (or interrupted)
  while the ledger records it;
* ``release_ended_calls`` releases exactly the calls whose own log says they ended: a call the
  client cannot even ask about, a 404, a 500, a garbage body or the log of another call keep
  their permits, and never stop the poll of the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from stateset_voice_wrapper import (
    APIResponseValidationError,
    AsyncVoiceClient,
    InProcessCallLimiter,
    InvalidParameterError,
    ReliabilityConfig,
    RetryBudget,
    SqliteLedger,
    VoiceClient,
    request_options,
)
from stateset_voice_wrapper._clients.claims import CLAIM_MARGIN
from stateset_voice_wrapper.stores import LedgerEntry

if TYPE_CHECKING:
    from tests.flavours import Flavour
else:
    from flavours import Flavour

TO, FROM, AGENT = "+15555555678", "+15555551234", "front_desk"


async def _no_sleep(_: float) -> None:
    return None


def _reliability() -> ReliabilityConfig:
    return ReliabilityConfig(
        sleep=lambda s: None, async_sleep=_no_sleep, budget=RetryBudget(), max_retries=0
    )


def _placed(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(
        201,
        json={
            "call_id": "call_1",
            "status": "queued",
            "to": body["to"],
            "from": body["from"],
            "agent_key": body["agent_key"],
            "session_id": None,
            "created_at": "2026-11-20T15:04:05Z",
            "metadata": {},
        },
    )


# --- a create interrupted after its call was placed ---------------------------------------------


async def test_a_create_cancelled_while_its_call_is_recorded_keeps_the_permit_on_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = InProcessCallLimiter(concurrency=1)
    entered, proceed, recorded = threading.Event(), threading.Event(), threading.Event()
    real_record = LedgerEntry._record

    def slow_record(self: LedgerEntry, result: bytes) -> None:
        entered.set()  # the call is placed; the task is cancelled while this is written
        proceed.wait(timeout=30)
        real_record(self, result)
        recorded.set()

    monkeypatch.setattr(LedgerEntry, "_record", slow_record)
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        async with AsyncVoiceClient(
            "sk_test",
            base_url="https://voice.example.com",
            transport=httpx.MockTransport(_placed),
            reliability=_reliability(),
            ledger=ledger,
            call_limiter=limiter,
        ) as voice:
            task = asyncio.ensure_future(
                voice.calls.create(to=TO, from_=FROM, agent_key=AGENT, idempotency_key="appt-1")
            )
            assert await asyncio.to_thread(entered.wait, 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            proceed.set()
            assert await asyncio.to_thread(recorded.wait, 30)  # it finishes in the background
            # The call is in progress: it holds the permit until its end is reported, not
            # merely until the permit's lease (after which the limit would stop counting it).
            assert limiter.attached_calls() == ["call_1"]
            assert limiter.release_for_call("call_1") is True


class Interrupted(BaseException):
    """A KeyboardInterrupt-like exit that pytest does not treat as the user's Ctrl-C."""


def test_a_create_interrupted_while_its_call_is_recorded_keeps_the_permit_on_the_call(
    flavour: Flavour, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: LedgerEntry, result: bytes) -> None:
        raise Interrupted

    monkeypatch.setattr(LedgerEntry, "_record", interrupted)
    limiter = InProcessCallLimiter(concurrency=1)
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        voice = flavour.client(
            "voice",
            "sk_test",
            base_url="https://voice.example.com",
            transport=httpx.MockTransport(_placed),
            reliability=_reliability(),
            ledger=ledger,
            call_limiter=limiter,
        )
        with pytest.raises(Interrupted):
            flavour.call(
                voice,
                lambda v: v.calls.create(
                    to=TO, from_=FROM, agent_key=AGENT, idempotency_key="appt-1"
                ),
            )
        assert limiter.attached_calls() == ["call_1"]


@pytest.mark.parametrize(
    "call_id",
    [None, 42, "", "call_\ud800", "absent"],
    ids=["null", "number", "empty", "lone-surrogate", "absent"],
)
def test_an_answer_without_a_usable_call_id_leaves_the_permit_to_its_lease(
    flavour: Flavour, call_id: object, caplog: pytest.LogCaptureFixture
) -> None:
    """The permit cannot follow a call it cannot name: it is freed by its lease, and the
    create answers as it would without a limiter (the call, or a typed validation error)."""
    clock = [1_800_000_000.0]
    limiter = InProcessCallLimiter(concurrency=1, clock=lambda: clock[0])

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(_placed(request).content)
        if call_id == "absent":
            del body["call_id"]
        else:
            body["call_id"] = call_id
        # ASCII JSON: a lone surrogate travels as its escape, as a server's JSON may carry it.
        return httpx.Response(
            201, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    voice = flavour.client(
        "voice",
        "sk_test",
        base_url="https://voice.example.com",
        transport=httpx.MockTransport(answer),
        reliability=_reliability(),
        call_limiter=limiter,
    )

    def create() -> Any:
        return flavour.call(voice, lambda v: v.calls.create(to=TO, from_=FROM, agent_key=AGENT))

    with caplog.at_level(logging.WARNING, logger="stateset_voice"):
        if isinstance(call_id, str) and call_id != "absent":
            create()  # a string the contract accepts: the call is returned
        else:
            with pytest.raises(APIResponseValidationError) as caught:
                create()
            assert TO not in str(caught.value)
    assert any("names no call_id" in line for line in caplog.messages)
    assert limiter.attached_calls() == []
    assert limiter.in_use() == 1
    clock[0] += limiter.lease_seconds
    assert limiter.in_use() == 0


def test_a_hostile_answer_is_the_same_typed_error_with_a_limiter_as_without(
    flavour: Flavour,
) -> None:
    """A 2xx whose JSON nests deeper than the parser goes: the create raises the
    APIResponseValidationError that says the call was placed, not a raw RecursionError from
    reading its call_id for the permit."""
    deep = b'{"call_id": "call_1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=deep, headers={"content-type": "application/json"})

    limiter = InProcessCallLimiter(concurrency=1)
    for call_limiter in (None, limiter):
        voice = flavour.client(
            "voice",
            "sk_test",
            base_url="https://voice.example.com",
            transport=httpx.MockTransport(answer),
            reliability=_reliability(),
            call_limiter=call_limiter,
        )
        with pytest.raises(APIResponseValidationError, match="SUCCEEDED"):
            flavour.call(voice, lambda v: v.calls.create(to=TO, from_=FROM, agent_key=AGENT))
    assert limiter.in_use() == 1  # a call it cannot name: its permit is left to its lease


def test_a_create_that_could_outlast_its_permit_lease_is_refused() -> None:
    """A permit is taken before the wait for the rate window and the send: if those outlasted
    its lease, another worker would take the slot over while this create still sends (two calls
    on one slot), as the ledger's own check says for its claim."""
    patient = InProcessCallLimiter(concurrency=1, rate=1, rate_window=60.0, wait=90.0)
    with pytest.raises(InvalidParameterError, match="shorter than the call limiter's lease"):
        VoiceClient("sk_test", call_limiter=patient)  # 90 s + the 60 s deadline > 120 s
    brief = InProcessCallLimiter(concurrency=1, lease_seconds=30.0)
    with pytest.raises(InvalidParameterError, match="shorter than the call limiter's lease"):
        VoiceClient("sk_test", call_limiter=brief)
    VoiceClient("sk_test", call_limiter=patient, deadline=20.0).close()
    VoiceClient("sk_test", call_limiter=brief, deadline=20.0).close()
    # A rate limit alone holds no slot, so it has no lease to outlast.
    VoiceClient("sk_test", call_limiter=InProcessCallLimiter(rate=1, wait=300.0)).close()


def test_a_create_whose_own_deadline_could_outlast_its_permit_is_capped_to_it(
    flavour: Flavour, tmp_path: Path
) -> None:
    """The deadline a create actually runs with (its own ``deadline=``, its client's
    ``with_options``, an enclosing ``request_options`` block, or none at all) is capped at what
    is left of the shorter of its leases: the permit's here (60 s), the ledger claim's 120 s."""
    waits: list[float] = []

    def counted(request: httpx.Request) -> httpx.Response:
        waits.append(request.extensions["timeout"]["read"])
        return _placed(request)

    limiter = InProcessCallLimiter(concurrency=5, lease_seconds=60.0)
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        voice = flavour.client(
            "voice",
            "sk_test",
            base_url="https://voice.example.com",
            transport=httpx.MockTransport(counted),
            reliability=_reliability(),
            timeout=httpx.Timeout(1000.0),  # longer than any lease: the deadline decides
            deadline=30.0,
            ledger=ledger,
            call_limiter=limiter,
        )
        arguments = {"to": TO, "from_": FROM, "agent_key": AGENT}
        creates: list[Callable[[Any], Any]] = [
            lambda v: v.calls.create(**arguments, idempotency_key="a-1", deadline=200.0),
            lambda v: v.with_options(deadline=200.0).calls.create(
                **arguments, idempotency_key="a-2"
            ),
            lambda v: v.calls.create(**arguments, idempotency_key="a-3", deadline=20.0),
        ]
        for create in creates:
            flavour.call(voice, create)
        with request_options(deadline=200.0):
            flavour.call(voice, lambda v: v.calls.create(**arguments, idempotency_key="a-4"))
        flavour.call(voice, lambda v: v.calls.create(**arguments))  # no ledger key: the permit
    left = 60.0 - CLAIM_MARGIN
    assert waits == pytest.approx([left, left, 20.0, left, 30.0], abs=0.5)
    assert max(waits) < 60.0
    assert limiter.attached_calls() == ["call_1"]  # the one call answered holds one permit


# --- a call-log poll against a server that answers badly --------------------------------------


def _log(call_id: str, status: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "status": status,
        "direction": "outbound",
        "to": TO,
        "from": FROM,
        "agent_key": AGENT,
        "session_id": None,
        "duration_seconds": 12,
        "escalated": False,
        "created_at": "2026-11-20T15:04:05Z",
    }


def test_the_call_log_poll_releases_exactly_the_calls_whose_own_log_says_they_ended(
    flavour: Flavour, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    ended = ["call_ok", "call:0:slot:1", "call_é"]  # the key separator, non-ASCII
    kept = [
        "..",  # the client refuses to ask about it (a dot segment)
        "call_404",
        "call_500",
        "call_garbage",
        "call_other",  # the server answers another call's log
        "call_new_status",  # a status the contract does not know
        "call_ringing",
        "+15555550199",  # an ID shaped like a phone number: never logged whole
    ]
    limiter = InProcessCallLimiter(concurrency=len(ended) + len(kept))
    for call_id in ended + kept:
        limiter.acquire().attach(call_id)

    path = "/api/v1/call-logs/"
    for call_id in ended:
        httpserver.expect_request(path + call_id).respond_with_json(_log(call_id, "completed"))
    httpserver.expect_request(path + "call_404").respond_with_json(
        {"error": {"code": "not_found", "message": "no such call"}}, status=404
    )
    httpserver.expect_request(path + "call_500").respond_with_json(
        {"error": {"code": "boom", "message": "x"}}, status=500
    )
    httpserver.expect_request(path + "call_garbage").respond_with_data(
        "<html>oops</html>", content_type="application/json"
    )
    httpserver.expect_request(path + "call_other").respond_with_json(_log("call_ok", "completed"))
    httpserver.expect_request(path + "call_new_status").respond_with_json(
        _log("call_new_status", "voicemail")
    )
    httpserver.expect_request(path + "+15555550199").respond_with_json(
        {"error": {"code": "not_found", "message": "no such call"}}, status=404
    )
    httpserver.expect_request(path + "call_ringing").respond_with_json(
        _log("call_ringing", "ringing")
    )
    voice = flavour.client(
        "voice",
        "sk_test",
        base_url=httpserver.url_for("").rstrip("/"),
        reliability=_reliability(),
        call_limiter=limiter,
    )
    with caplog.at_level(logging.WARNING, logger="stateset_voice"):
        released = flavour.call(voice, lambda v: v.release_ended_calls())
    assert sorted(released) == sorted(ended)
    assert sorted(limiter.attached_calls()) == sorted(kept)
    assert limiter.in_use() == len(kept)
    for line in caplog.messages:
        assert TO not in line
        assert FROM not in line
        assert "+15555550199" not in line
    assert any("+***99" in line for line in caplog.messages)
