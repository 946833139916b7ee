"""calls.create and the ledger, as wired in the typed clients: scopes, remembered abandons and
a ledger that fails after the call was placed.

- Clients of different APIs or credentials sharing one store never answer each other's keys;
  a shared ``ledger_scope`` makes them share on purpose.
- A create that may have reached the server (a read error after sending) keeps its key's
  parameters: the same key with other parameters is refused before sending, because the server
  would answer it with the first call. One that provably never left (connection refused) does
  not.
- A ledger that cannot record a placed call returns the call and logs a warning.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from stateset_voice_wrapper import (
    APIConnectionError,
    IdempotencyConflictError,
    ReliabilityConfig,
    RetryBudget,
    VoiceClient,
)
from stateset_voice_wrapper.stores import LedgerRecordError, SqliteLedger

TO, OTHER, FROM = "+15555550101", "+15555550102", "+15555551234"


def _call(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(
        201,
        json={
            "call_id": f"call_{request.headers['Idempotency-Key']}",
            "status": "queued",
            "to": body["to"],
            "from": body["from"],
            "agent_key": body["agent_key"],
            "session_id": None,
            "created_at": "2026-11-20T15:04:05Z",
        },
    )


def _client(
    ledger: SqliteLedger,
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    key: str = "sk_test_tenant_a",
    base_url: str = "https://voice.example.com",
    **kwargs: object,
) -> VoiceClient:
    reliability = ReliabilityConfig(max_retries=2, budget=RetryBudget(), sleep=lambda _: None)
    return VoiceClient(
        key,
        base_url=base_url,
        ledger=ledger,
        reliability=reliability,
        transport=httpx.MockTransport(handler),
        **kwargs,  # type: ignore[arg-type]
    )


def test_two_tenants_sharing_a_ledger_never_answer_each_others_keys(tmp_path: Path) -> None:
    sent: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        return _call(request)

    with (
        SqliteLedger(tmp_path / "shared.db") as ledger,
        _client(ledger, server, key="sk_test_tenant_a") as a,
        _client(ledger, server, key="sk_test_tenant_b") as b,
        _client(ledger, server, base_url="https://sandbox.example.com") as sandbox,
    ):
        for client in (a, b, sandbox):
            client.calls.create(to=TO, from_=FROM, agent_key="x", idempotency_key="appt-1")
        assert len({a.ledger_scope, b.ledger_scope, sandbox.ledger_scope}) == 3
    assert sent == ["Bearer sk_test_tenant_a", "Bearer sk_test_tenant_b", "Bearer sk_test_tenant_a"]


def test_an_explicit_scope_shares_on_purpose(tmp_path: Path) -> None:
    sent: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        return _call(request)

    with (
        SqliteLedger(tmp_path / "shared.db") as ledger,
        _client(ledger, server, key="sk_test_old_key", ledger_scope="acme") as old,
        _client(ledger, server, key="sk_test_rotated", ledger_scope="acme") as rotated,
    ):
        first = old.calls.create(to=TO, from_=FROM, agent_key="x", idempotency_key="appt-2")
        again = rotated.calls.create(to=TO, from_=FROM, agent_key="x", idempotency_key="appt-2")
    assert again.call_id == first.call_id
    assert sent == ["Bearer sk_test_old_key"]  # the rotated key's create came from the ledger


def test_a_maybe_sent_failure_keeps_the_keys_parameters(tmp_path: Path) -> None:
    committed: dict[str, str] = {}

    def commits_then_resets(request: httpx.Request) -> httpx.Response:
        committed.setdefault(request.headers["Idempotency-Key"], json.loads(request.content)["to"])
        raise httpx.ReadError("connection reset after the request was sent")

    with SqliteLedger(tmp_path / "ledger.db") as ledger:
        with _client(ledger, commits_then_resets) as voice:
            with pytest.raises(APIConnectionError) as info:
                voice.calls.create(to=TO, from_=FROM, agent_key="x", idempotency_key="appt-3")
            assert info.value.may_have_reached_server
            # The server holds appt-3 for TO: other parameters must not reach it under that key.
            with pytest.raises(IdempotencyConflictError):
                voice.calls.create(to=OTHER, from_=FROM, agent_key="x", idempotency_key="appt-3")
        with _client(ledger, _call) as voice:
            # The same parameters may retry at once; the server replays its call.
            call = voice.calls.create(to=TO, from_=FROM, agent_key="x", idempotency_key="appt-3")
    assert call.to == TO
    assert committed == {"appt-3": TO}


def test_a_never_sent_failure_forgets_the_key(tmp_path: Path) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with SqliteLedger(tmp_path / "ledger.db") as ledger:
        with _client(ledger, refused) as voice, pytest.raises(APIConnectionError) as info:
            voice.calls.create(to=TO, from_=FROM, agent_key="x", idempotency_key="appt-4")
        assert not info.value.may_have_reached_server
        with _client(ledger, _call) as voice:
            call = voice.calls.create(to=OTHER, from_=FROM, agent_key="x", idempotency_key="appt-4")
    assert call.to == OTHER


def test_a_ledger_that_cannot_record_returns_the_placed_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from stateset_voice_wrapper._storage.ledger import LedgerEntry

    def fails(self: LedgerEntry, result: bytes) -> None:
        raise LedgerRecordError("the store is down", key=self.key, scope=self.scope, result=result)

    monkeypatch.setattr(LedgerEntry, "record", fails)
    with (
        SqliteLedger(tmp_path / "ledger.db") as ledger,
        _client(ledger, _call) as voice,
        caplog.at_level(logging.WARNING, logger="stateset_voice.ledger"),
    ):
        call = voice.calls.create(to=TO, from_=FROM, agent_key="x", idempotency_key="appt-5")
    assert call.call_id == "call_appt-5"
    assert any("appt-5" in record.getMessage() for record in caplog.records)
    assert all(TO not in record.getMessage() for record in caplog.records)
