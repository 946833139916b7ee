"""The launch check against a real sandbox: a clean run passes, and each gate fails for its reason.

Every test runs ``launch_check`` end to end (placing calls through a SQLite ledger, following
them in the call logs, receiving signed webhooks on a local receiver, reading sessions,
evaluations and the server's dry-run sweep) with the sandbox's fault injection standing in for
what goes wrong in production: 500s on make-call, failing numbers, calls that never end,
forged, dropped and repeated deliveries, a duplicate call made behind the ledger's back, and
inbound requests with bad signatures that only the server counts. Nothing sleeps: see
``tests/launchkit.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from stateset_voice_wrapper import SqliteLedger, VoiceClient
from stateset_voice_wrapper.cli._launch import exit_code
from stateset_voice_wrapper.launch import (
    GATES,
    DeliveryFile,
    IntentSpec,
    LaunchReport,
    WebhookReceiver,
    read_deliveries,
)
from stateset_voice_wrapper.sandbox import FaultRule, Sandbox

if TYPE_CHECKING:
    from tests.launchkit import (
        AGENT,
        FROM,
        TO,
        TO_ESCALATES,
        TO_FAILS,
        TO_NO_ANSWER,
        LaunchEnv,
        make_env,
    )
else:
    from launchkit import AGENT, FROM, TO, TO_ESCALATES, TO_FAILS, TO_NO_ANSWER, LaunchEnv, make_env

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]


@pytest.fixture
def env(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> Iterator[LaunchEnv]:
    yield from make_env(sandbox_factory, tmp_path)


def verdicts(report: LaunchReport) -> dict[str, str]:
    return {g.gate: g.verdict for g in report.gates}


def only_failed(report: LaunchReport, *gates: str) -> None:
    assert set(report.failed_gates) == set(gates), verdicts(report)


def test_a_clean_run_passes_every_gate(env: LaunchEnv) -> None:
    report = env.check()

    assert report.passed, [g.to_dict() for g in report.gates if g.failed]
    assert exit_code(report) == 0
    assert [g.gate for g in report.gates] == list(GATES)
    assert verdicts(report)["intents"] == "skipped"  # none were given
    keys = [f"launch-t1-{n}" for n in range(1, 5)]
    assert [c.key for c in report.calls] == keys
    assert env.sandbox.creations_per_key() == dict.fromkeys(keys, 1)
    assert {c.source for c in report.calls} == {"placed"}
    assert {c.outcome for c in report.calls} == {"resolved"}
    assert all(c.session_id and c.evaluation and c.tags for c in report.calls)
    # The thresholds are the tenant's rollout policy, the same the server's sweep applies.
    synthetic = report.gate("synthetic_calls")
    assert (synthetic.measured, synthetic.threshold, synthetic.threshold_source) == (4, 4, "policy")
    signatures = report.gate("signature_verification")
    assert signatures.measured == 1.0
    assert report.deliveries["verified"] == 4 * 7
    assert all(c.agrees for c in report.comparison)
    assert report.sweep["dry_run"] is True
    # No whole phone number anywhere in the report; the calls show the last two digits.
    text = json.dumps(report.to_dict())
    assert TO not in text
    assert FROM not in text
    assert TO[1:] not in text
    assert {c.to for c in report.calls} == {"+***01"}
    assert env.slept
    assert env.now == sum(env.slept)


def test_a_rerun_resumes_and_never_places_a_call_twice(env: LaunchEnv, tmp_path: Path) -> None:
    first = env.check()
    assert first.passed
    created = env.sandbox.creations_per_key()
    make_calls = len([r for r in env.sandbox.requests() if r["path"] == "/api/v1/make-call"])

    # A new process: a new receiver reads back what the first one saved.
    env.receiver.stop()
    with WebhookReceiver(save_to=tmp_path / "deliveries.jsonl") as receiver:
        again = env.check(deliveries=receiver)
    assert again.passed
    assert {c.source for c in again.calls} == {"ledger"}  # recorded: nothing was sent
    assert [c.call_id for c in again.calls] == [c.call_id for c in first.calls]
    assert (
        len([r for r in env.sandbox.requests() if r["path"] == "/api/v1/make-call"]) == make_calls
    )

    # Without the ledger file the keys are sent again, and the server answers each with its call.
    with VoiceClient(
        env.sandbox.runtime_key,
        base_url=env.sandbox.base_url,
        ledger=SqliteLedger(tmp_path / "fresh-ledger.sqlite3"),
    ) as voice:
        replayed = env.check(voice=voice, deliveries=DeliveryFile(tmp_path / "deliveries.jsonl"))
    assert {c.source for c in replayed.calls} == {"server-replay"}
    assert env.sandbox.creations_per_key() == created
    assert replayed.passed


def test_500s_on_make_call_fail_the_synthetic_calls_gate(env: LaunchEnv) -> None:
    env.sandbox.set_faults(FaultRule(kind="500", path="/api/v1/make-call", times=2))
    report = env.check()

    only_failed(report, "synthetic_calls")
    assert exit_code(report) == 24
    not_placed = [c for c in report.calls if c.source == "not-placed"]
    assert [c.key for c in not_placed] == ["launch-t1-1", "launch-t1-2"]
    assert all(c.error and c.error["status"] == 500 for c in not_placed)
    assert all(c.error and str(c.error["request_id"]).startswith("req_") for c in not_placed)
    gate = report.gate("synthetic_calls")
    assert (gate.measured, gate.threshold) == (2, 4)
    assert {e["key"] for e in gate.evidence["not_completed"]} == {"launch-t1-1", "launch-t1-2"}
    assert report.outcomes == {"not placed": 2, "resolved": 2}
    # The server counts the same two completed calls: no disagreement.
    assert report.gate("sweep_agreement").verdict == "passed"


def test_calls_the_carrier_fails_count_against_synthetic_calls_only(env: LaunchEnv) -> None:
    report = env.check(to=[TO, TO_FAILS])

    only_failed(report, "synthetic_calls")
    assert report.outcomes == {"failed": 2, "resolved": 2}
    assert report.gate("final_status").verdict == "passed"  # failed is a final status
    assert report.gate("webhook_delivery").verdict == "passed"  # call.failed arrived
    failed = [c for c in report.calls if c.outcome == "failed"]
    assert all("call.failed" in c.webhook_events and c.evaluation is None for c in failed)


def test_calls_that_never_end_fail_the_final_status_gate(env: LaunchEnv) -> None:
    env.advance_sandbox = False  # the sandbox clock stands still: every call stays queued
    report = env.check(timeout=30.0)

    assert exit_code(report) == 21
    gate = report.gate("final_status")
    assert gate.failed
    assert gate.measured == 0
    assert gate.threshold == 4
    assert [e["status"] for e in gate.evidence["not_final"]] == ["queued"] * 4
    assert report.gate("webhook_delivery").verdict == "skipped"
    assert 30.0 <= env.now <= 31.0  # it gave up at the timeout, on the injected clock


def test_a_duplicate_call_behind_the_ledgers_back_fails_the_duplicates_gate(
    env: LaunchEnv,
) -> None:
    # Another process places the run's first call under another idempotency key: neither the
    # ledger nor the server's key check can see it, the call logs can.
    rogue = env.voice.calls.create(
        to=TO,
        from_=FROM,
        agent_key=AGENT,
        metadata={"launch_run": "t1", "launch_key": "launch-t1-1"},
        idempotency_key="another-process-1",
    )
    report = env.check()

    assert exit_code(report) == 20
    gate = report.gate("duplicate_outbound_calls")
    assert gate.failed
    assert gate.measured == 1
    [duplicate] = gate.evidence["duplicates"]
    assert duplicate["key"] == "launch-t1-1"
    assert rogue.call_id in duplicate["call_ids"]
    assert len(duplicate["call_ids"]) == 2
    # The server's sweep counts calls per Idempotency-Key and sees none: flagged.
    [row] = [c for c in report.comparison if c.gate == "duplicate_outbound_calls"]
    assert (row.client, row.server, row.agrees) == ("failed", "passed", False)
    only_failed(report, "duplicate_outbound_calls", "sweep_agreement")


def test_forged_deliveries_fail_the_signature_gate(env: LaunchEnv) -> None:
    # Three unsigned posts reach the endpoint; a body that names no call might be one of the
    # run's, so each counts.
    for n in range(3):
        forged = json.dumps({"id": f"evt_forged_{n}", "type": "call.completed"})
        answer = httpx.post(env.receiver.url, content=forged)
        assert answer.status_code == 204  # recorded; judged afterwards
    report = env.check()

    assert exit_code(report) == 23
    gate = report.gate("signature_verification")
    assert gate.failed
    assert gate.measured == round(28 / 31, 4)
    assert gate.evidence["failures"] == {"missing_signature": 3}
    assert report.gate("webhook_delivery").verdict == "passed"
    only_failed(report, "signature_verification", "sweep_agreement")


def test_a_wrong_secret_verifies_nothing(env: LaunchEnv) -> None:
    report = env.check(webhook_secrets=["whsec_rotated_away"])
    gate = report.gate("signature_verification")
    assert gate.failed
    assert gate.measured == 0.0
    assert gate.evidence["failures"] == {"signature_mismatch": 28}


def test_dropped_deliveries_fail_the_webhook_delivery_gate(env: LaunchEnv, tmp_path: Path) -> None:
    first = env.check()
    assert first.passed
    lost = first.calls[1].call_id
    assert lost is not None
    # The consumer's capture misses every delivery of the second call.
    capture = tmp_path / "capture.jsonl"
    kept = [
        d for d in read_deliveries(tmp_path / "deliveries.jsonl") if lost not in d.body.decode()
    ]
    capture.write_text("".join(json.dumps(d.to_json()) + "\n" for d in kept), encoding="utf-8")

    report = env.check(deliveries=DeliveryFile(capture), grace=3.0)

    assert exit_code(report) == 22
    gate = report.gate("webhook_delivery")
    assert (gate.measured, gate.threshold) == (3, 4)
    assert [e["key"] for e in gate.evidence["missing_final_event"]] == ["launch-t1-2"]
    assert report.gate("signature_verification").verdict == "passed"
    assert {c.source for c in report.calls} == {"ledger"}


def test_repeated_deliveries_are_counted_once(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    for env in make_env(sandbox_factory, tmp_path, webhook_duplicate_probability=1.0):
        report = env.check()
        assert report.passed, verdicts(report)
        assert report.deliveries["considered"] == 2 * 28
        assert report.deliveries["distinct_events"] == 28
        assert report.deliveries["duplicates"] == 28


def test_each_intent_is_held_to_its_expected_outcome(env: LaunchEnv) -> None:
    intents = [
        IntentSpec(name="confirm", expected_outcome="resolved", required_criteria=("compliance",)),
        IntentSpec(
            name="escalation",
            to=TO_ESCALATES,
            expected_outcome="escalated",
            expected_tags=("escalated",),
        ),
        IntentSpec(name="callback", to=TO_NO_ANSWER, expected_outcome="resolved"),
    ]
    env.set_policy(min_synthetic_calls=2)  # one of the three calls is not answered
    report = env.check(calls=3, intents=intents)

    assert exit_code(report) == 25
    only_failed(report, "intents")
    by_name = {r.intent: r for r in report.intents}
    assert by_name["confirm"].passed
    assert by_name["escalation"].passed
    assert by_name["escalation"].outcomes == {"escalated": 1}
    callback = by_name["callback"]
    assert not callback.passed
    assert callback.outcomes == {"no-answer": 1}
    assert [f["reason"] for f in callback.failures] == ["outcome no-answer, expected resolved"]
    # The intent travels with the call, so the API's records say what each call was for.
    assert [c.intent for c in report.calls] == ["confirm", "escalation", "callback"]


def test_a_server_verdict_that_disagrees_is_flagged(env: LaunchEnv) -> None:
    # Inbound Twilio posts with bad signatures: the server's signature gate counts those, the
    # check's counts StateSet deliveries. The same gate, two measurements, two verdicts.
    for _ in range(3):
        env.sandbox.send_twilio_inbound(
            env.sandbox.base_url + "/api/v1/incoming-call", valid_signature=False
        )
    report = env.check()

    assert exit_code(report) == 26
    only_failed(report, "sweep_agreement")
    [row] = report.gate("sweep_agreement").evidence["disagreements"]
    assert row["gate"] == "signature_verification"
    assert (row["client"], row["server"], row["server_observed"]) == ("passed", "failed", 0.0)


def test_a_threshold_given_as_an_argument_is_the_clients_alone(env: LaunchEnv) -> None:
    report = env.check(to=[TO, TO_FAILS], min_synthetic_calls=2)

    synthetic = report.gate("synthetic_calls")
    assert (synthetic.verdict, synthetic.threshold, synthetic.threshold_source) == (
        "passed",
        2,
        "argument",
    )
    # The server still applies the policy's 4: the disagreement says the thresholds differ.
    only_failed(report, "sweep_agreement")
    assert "different thresholds" in report.gate("sweep_agreement").detail
