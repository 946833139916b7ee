"""A create sent under a ledger claim never outlasts the claim (``_clients/claims.py``).

Once a claim's lease runs out another worker may take the key over and send it, so the create's
deadline is capped at what is left of the lease, less ``CLAIM_MARGIN``; with nothing left it is
refused with nothing sent, and the key is given back. The client's clock is injected: what the
inner transport is asked to wait (its capped timeouts) shows the deadline that was used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from stateset_voice_wrapper import (
    APITimeoutError,
    InProcessCallLimiter,
    ReliabilityConfig,
    RetryBudget,
    SqliteLedger,
)
from stateset_voice_wrapper._clients.claims import CLAIM_MARGIN
from stateset_voice_wrapper.stores import LedgerEntry, fingerprint_request, ledger_scope

if TYPE_CHECKING:
    from tests.flavours import Flavour
else:
    from flavours import Flavour

if TYPE_CHECKING:
    from tests.clocks import FakeClock
else:
    from clocks import FakeClock

KEY, BASE = "sk_test_claims", "https://voice.example"
PARAMS: dict[str, Any] = {"to": "+15555550101", "from_": "+15555551234", "agent_key": "front_desk"}
CALL = {
    "call_id": "call_claim_1",
    "status": "queued",
    "to": "+15555550101",
    "from": "+15555551234",
    "agent_key": "front_desk",
    "created_at": "2026-12-01T09:00:00Z",
}


class Api:
    """An in-memory make-call endpoint that keeps what each attempt was allowed to wait."""

    def __init__(self) -> None:
        self.timeouts: list[dict[str, float]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(dict(request.extensions["timeout"]))
        return httpx.Response(201, json=CALL, headers={"x-request-id": "req_1"})


async def _no_sleep(_: float) -> None:
    return None


OFF = "off"  # the deadline disabled: ReliabilityConfig(deadline=None)


def _client(flavour: Flavour, ledger: SqliteLedger, clock: FakeClock, api: Api, **kw: Any) -> Any:
    config: dict[str, Any] = {}
    if kw.get("deadline") == OFF:
        del kw["deadline"]
        config["deadline"] = None
    reliability = ReliabilityConfig(
        clock=clock, sleep=lambda s: None, async_sleep=_no_sleep, budget=RetryBudget(), **config
    )
    return flavour.client(
        "voice",
        KEY,
        base_url=BASE,
        ledger=ledger,
        reliability=reliability,
        timeout=httpx.Timeout(1000.0),  # longer than any lease here: the deadline decides
        transport=httpx.MockTransport(api),
        **kw,
    )


def _create(flavour: Flavour, client: Any, key: str, **options: Any) -> Any:
    return flavour.call(client, lambda c: c.calls.create(**PARAMS, idempotency_key=key, **options))


@pytest.mark.parametrize(
    ("deadline", "lease", "expected"),
    [
        (60.0, 120.0, 60.0),  # the defaults: the cap never binds
        (300.0, 120.0, 120.0 - CLAIM_MARGIN),  # a raised deadline is capped
        (OFF, 30.0, 30.0 - CLAIM_MARGIN),  # so is a disabled one
        (10.0, 30.0, 10.0),
    ],
)
def test_the_create_is_given_at_most_what_is_left_of_its_claim(
    flavour: Flavour, tmp_path: Path, deadline: float | str, lease: float, expected: float
) -> None:
    clock, api = FakeClock(1000.0), Api()
    with SqliteLedger(tmp_path / "calls.db", lease_seconds=lease) as ledger:
        client = _client(flavour, ledger, clock, api, deadline=deadline)
        call = _create(flavour, client, "claim-1")
    assert call.call_id == CALL["call_id"]
    assert api.timeouts[0]["read"] == pytest.approx(expected)


def test_a_per_call_deadline_and_an_enclosing_block_are_capped_too(
    flavour: Flavour, tmp_path: Path
) -> None:
    from stateset_voice_wrapper import request_options

    clock, api = FakeClock(1000.0), Api()
    with SqliteLedger(tmp_path / "calls.db", lease_seconds=30.0) as ledger:
        client = _client(flavour, ledger, clock, api)
        _create(flavour, client, "claim-1", deadline=500.0)
        with request_options(deadline=400.0):
            _create(flavour, client, "claim-2")
        with request_options(deadline=400.0):
            _create(flavour, client, "claim-3", deadline=5.0)  # the call's own wins, and fits
    reads = [t["read"] for t in api.timeouts]
    assert reads == pytest.approx([30.0 - CLAIM_MARGIN, 30.0 - CLAIM_MARGIN, 5.0])


def test_time_spent_after_the_claim_was_taken_is_taken_off(
    flavour: Flavour, tmp_path: Path
) -> None:
    clock, api = FakeClock(1000.0), Api()
    with SqliteLedger(tmp_path / "calls.db", lease_seconds=30.0) as ledger:
        limiter = _slow_limiter(clock, 12.0)
        client = _client(flavour, ledger, clock, api, deadline=OFF, call_limiter=limiter)
        _create(flavour, client, "claim-1")
    assert api.timeouts[0]["read"] == pytest.approx(30.0 - 12.0 - CLAIM_MARGIN)
    assert limiter.in_use() == 1  # the placed call holds its permit


@pytest.mark.parametrize("late", [30.0 - CLAIM_MARGIN, 31.0, 500.0])
def test_a_claim_that_ran_out_before_sending_sends_nothing_and_gives_the_key_back(
    flavour: Flavour, tmp_path: Path, late: float
) -> None:
    clock, api = FakeClock(1000.0), Api()
    with SqliteLedger(tmp_path / "calls.db", lease_seconds=30.0) as ledger:
        limiter = _slow_limiter(clock, late)
        client = _client(flavour, ledger, clock, api, deadline=10.0, call_limiter=limiter)
        with pytest.raises(APITimeoutError) as raised:
            _create(flavour, client, "claim-late")
        error = raised.value
        assert error.may_have_reached_server is False
        assert error.idempotency_key == "claim-late"
        assert "nothing was sent" in str(error)
        assert api.timeouts == []
        # The key is free again, for these parameters or others: nothing can hold it.
        scope = ledger_scope(base_url=BASE, credential=KEY)
        other = fingerprint_request({"to": "+15555550199"})
        entry = ledger.begin("claim-late", fingerprint=other, scope=scope)
        assert isinstance(entry, LedgerEntry)
        assert limiter.in_use() == 0  # and its permit


def _slow_limiter(clock: FakeClock, seconds: float) -> InProcessCallLimiter:
    """A call limiter whose permits take ``seconds`` of the client's clock to come, as when a
    worker waits for capacity or stalls after its claim was taken."""
    limiter = InProcessCallLimiter(concurrency=5, clock=clock)
    acquire, aacquire = limiter.acquire, limiter.aacquire

    def slow(*args: Any, **kwargs: Any) -> Any:
        permit = acquire(*args, **kwargs)
        clock.now += seconds
        return permit

    async def aslow(*args: Any, **kwargs: Any) -> Any:
        permit = await aacquire(*args, **kwargs)
        clock.now += seconds
        return permit

    limiter.acquire = slow  # type: ignore[method-assign]
    limiter.aacquire = aslow  # type: ignore[method-assign]
    return limiter


def test_the_documented_margin() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "idempotency-ledger.md").read_text()
    assert f"less {CLAIM_MARGIN:g} s" in page
    assert json.dumps(CLAIM_MARGIN) == "1.0"
