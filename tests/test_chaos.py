"""The chaos run, short form: faults of every class and phase, and never a duplicate call.

``benchmarks/chaos.py`` runs 2,000 calls; these tests run 200 (and 100 without retries) through
the same function, with a recording no-op sleep (no backoff or ``Retry-After`` wait is slept)
and 1 ms latency faults. The run checks its invariants itself (``report.violations``); the
tests check them again from the sandbox's own records (request log, fault counters, creations
per key, call logs).
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from stateset_voice_wrapper import (
    APIConnectionError,
    InternalServerError,
    RateLimitError,
    StateSetVoiceError,
)
from stateset_voice_wrapper.sandbox import ERROR_KINDS, Sandbox

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

# benchmarks/ is not a package and not on sys.path under pytest; mypy (explicit_package_bases)
# names the module benchmarks.chaos.
if TYPE_CHECKING:
    from benchmarks.chaos import (
        WIRE_CLASSES,
        ChaosReport,
        call_key,
        run_chaos,
        run_wire_chaos,
    )
else:
    _PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "chaos.py"
    _SPEC = importlib.util.spec_from_file_location("benchmarks_chaos", _PATH)
    assert _SPEC is not None
    assert _SPEC.loader is not None
    _chaos = importlib.util.module_from_spec(_SPEC)
    sys.modules[_SPEC.name] = _chaos  # dataclasses look their module up while being built
    _SPEC.loader.exec_module(_chaos)
    ChaosReport, call_key, run_chaos = _chaos.ChaosReport, _chaos.call_key, _chaos.run_chaos
    run_wire_chaos, WIRE_CLASSES = _chaos.run_wire_chaos, _chaos.WIRE_CLASSES

MAKE_CALL = "/api/v1/make-call"
CALLS = 200
KEY_SEED = 7
# The sandbox's fault stream under this seed draws every error kind (at least 3 times each),
# every phase and latency within its first 200 requests, and every error kind within its first
# 100. Pass 1 makes at least one request per call, so every class fires whatever order the
# concurrent requests arrive in.
SANDBOX_SEED = 2
RETRY_AFTER = 1


class RecordingSleep:
    """The client's async sleep: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def fired(sandbox: Sandbox) -> dict[str, int]:
    response = httpx.get(
        sandbox.base_url + "/_sandbox/faults", headers={"x-admin-key": sandbox.admin_key}
    )
    counters: dict[str, int] = response.json()["fired"]
    return counters


def calls_in_store(sandbox: Sandbox) -> int:
    response = httpx.get(
        sandbox.base_url + "/api/v1/call-logs",
        params={"limit": 1},
        headers={"Authorization": f"Bearer {sandbox.runtime_key}"},
    )
    total: int = response.json()["total"]
    return total


def split_log(sandbox: Sandbox, report: ChaosReport) -> tuple[list[dict[str, Any]], ...]:
    """The make-call requests of pass 1 and of pass 2 (pass 2 sends each key exactly once)."""
    log = [r for r in sandbox.requests() if r["path"] == MAKE_CALL]
    assert len(log) == report.pass1.attempts + report.calls
    return log[: -report.calls], log[-report.calls :]


def chaos(sandbox: Sandbox, sleep: RecordingSleep, calls: int, **options: Any) -> ChaosReport:
    return run_chaos(
        sandbox,
        calls=calls,
        fault_rate=0.2,
        concurrency=8,
        seed=KEY_SEED,
        sleep=sleep,
        latency_ms=1,
        retry_after=RETRY_AFTER,
        **options,
    )


def assert_pass2_recovers_everything(
    report: ChaosReport, sandbox: Sandbox, pass2_log: list[dict[str, Any]]
) -> None:
    calls = report.calls
    keys = {call_key(KEY_SEED, i) for i in range(calls)}
    assert [r["fault"] for r in pass2_log if r["fault"]] == []
    assert report.pass2.succeeded == calls
    assert report.pass2.retries == 0
    assert Counter(r["idempotency_key"] for r in pass2_log) == dict.fromkeys(keys, 1)
    for first, second in zip(report.pass1.outcomes, report.pass2.outcomes, strict=True):
        assert second.key == first.key
        assert second.call_id is not None
        if first.call_id is not None:
            assert second.call_id == first.call_id
        # a call that already existed is replayed, never created again
        assert second.replayed == (first.key in report.creations_after_pass1)
    assert len({o.call_id for o in report.pass2.outcomes}) == calls
    assert sandbox.creations_per_key() == dict.fromkeys(keys, 1)
    assert calls_in_store(sandbox) == calls


def test_chaos_run_never_creates_a_duplicate_call(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = sandbox_factory(seed=SANDBOX_SEED)
    sleep = RecordingSleep()
    report = chaos(sandbox, sleep, CALLS)
    pass1_log, pass2_log = split_log(sandbox, report)

    # Every fault class and every phase fired in pass 1.
    faults = [str(r["fault"]) for r in pass1_log if r["fault"]]
    kinds = Counter(f.split("@")[0] for f in faults)
    assert set(kinds) == set(ERROR_KINDS)
    assert {f.split("@")[1] for f in faults} == {"before", "during", "after"}
    latency = fired(sandbox)["latency"]
    assert latency >= 1
    assert report.faults_by_class == {**{k: kinds[k] for k in ERROR_KINDS}, "latency": latency}

    # No key ever created more than one call.
    assert report.creations_after_pass1
    assert max(report.creations_after_pass1.values()) == 1

    # Pass 1: each call is a call, or a typed error carrying its key.
    for outcome in report.pass1.outcomes:
        if outcome.call_id is None:
            assert isinstance(outcome.error, StateSetVoiceError)
            assert outcome.error.idempotency_key == outcome.key
        else:
            assert outcome.error is None
            assert report.creations_after_pass1[outcome.key] == 1
    # Some lost answers were recovered within pass 1 by replaying the key.
    assert report.pass1.replayed >= 1

    # Retries: the client's count, the server's log and the injected sleep agree.
    assert report.pass1.retries >= 1
    assert len(pass1_log) == CALLS + report.pass1.retries
    assert report.pass1.server_requests == len(pass1_log)
    assert sleep.delays == [event.delay for event in report.pass1.retry_events]
    waits = [e.delay for e in report.pass1.retry_events if e.outcome in ("429", "503")]
    assert waits
    assert set(waits) == {float(RETRY_AFTER)}  # the faults' Retry-After, not a backoff

    assert_pass2_recovers_everything(report, sandbox, pass2_log)
    assert report.violations == []
    assert report.ok


EXPECTED_ERROR = {
    "429": RateLimitError,
    "500": InternalServerError,
    "502": InternalServerError,
    "503": InternalServerError,
    "504": InternalServerError,
    "html": InternalServerError,
    "drop": APIConnectionError,
    "reset": APIConnectionError,
}


def test_without_retries_every_fault_is_a_typed_error_and_the_key_recovers_it(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = sandbox_factory(seed=SANDBOX_SEED)
    sleep = RecordingSleep()
    report = chaos(sandbox, sleep, CALLS // 2, max_retries=0)
    pass1_log, pass2_log = split_log(sandbox, report)
    assert sleep.delays == []
    assert report.pass1.retries == 0
    assert len(pass1_log) == CALLS // 2  # one attempt per call
    fault_of: Mapping[str, str | None] = {r["idempotency_key"]: r["fault"] for r in pass1_log}
    assert {f.split("@")[0] for f in fault_of.values() if f} == set(ERROR_KINDS)

    for outcome in report.pass1.outcomes:
        fault = fault_of[outcome.key]
        if fault is None:
            assert outcome.call_id is not None
            continue
        kind, phase = fault.split("@")
        assert outcome.call_id is None
        assert type(outcome.error) is EXPECTED_ERROR[kind]
        assert isinstance(outcome.error, StateSetVoiceError)
        assert outcome.error.idempotency_key == outcome.key
        # Only an "after" fault leaves a call behind: created, then the answer was lost.
        assert report.creations_after_pass1.get(outcome.key, 0) == (1 if phase == "after" else 0)

    lost = sum(1 for fault in fault_of.values() if fault and fault.endswith("@after"))
    assert lost >= 1
    assert report.answers_lost == lost
    assert report.pass1.failed == sum(1 for fault in fault_of.values() if fault)
    assert_pass2_recovers_everything(report, sandbox, pass2_log)
    assert report.pass2.replayed == report.pass1.succeeded + lost
    assert report.ok


def test_wire_fault_classes_end_typed_within_the_deadline_and_recover() -> None:
    """The classes the sandbox cannot inject, from the raw-socket server: interim-response and
    header trickles and a late body stall end in APITimeoutError within the deadline's margin; a
    201 with a new enum value is a success keeping the raw value, one with wrong types an
    APIResponseValidationError; every one keeps its key, creates one call per key, and the
    second send recovers every key."""
    reports = run_wire_chaos(calls=12, fault_share=0.5, concurrency=4, deadline=0.5, seed=3)
    assert [r.fault_class for r in reports] == list(WIRE_CLASSES)
    for report in reports:
        assert report.faulted >= 1
        assert report.violations == [], report.violations
        assert report.recovered == report.calls
        assert report.max_creations_per_key == 1
        assert sum(report.outcomes.values()) == report.faulted
        assert report.expectation_met, report.outcomes
        assert report.outcomes == {report.expected: report.faulted}
