"""The gates as pure functions: reconciled calls and counted deliveries in, verdicts out.

Nothing here does I/O, so each gate's rule is tested on data alone. ``Threshold`` pairs a
value with where it came from (an argument, the tenant's rollout policy, or the gate itself).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

import attrs

from ._deliveries import FINAL_EVENTS, DeliveryTally
from ._intents import IntentSpec
from ._model import GateResult, IntentResult, SweepComparison, SyntheticCall

__all__ = [
    "SERVER_GATES",
    "Threshold",
    "duplicates_gate",
    "final_status_gate",
    "intent_results",
    "intents_gate",
    "signature_gate",
    "sweep_comparison",
    "sweep_gate",
    "synthetic_calls_gate",
    "webhook_delivery_gate",
]

#: The check's gates that the server's rollout sweep judges too, and the sweep's name for each.
SERVER_GATES: Final = {
    "duplicate_outbound_calls": "duplicate_outbound_calls",
    "signature_verification": "signature_verification_rate",
    "synthetic_calls": "synthetic_calls",
}
_EVIDENCE_LIMIT: Final = 50  # keys named per gate; the calls table has the rest


@attrs.frozen
class Threshold:
    value: float | int
    source: str


def _skipped(
    gate: str,
    detail: str,
    *,
    measured: float | int | None = 0,
    threshold: float | int | None = 0,
    comparison: str = ">=",
) -> GateResult:
    """A gate that had nothing to judge (it neither passes nor fails the check)."""
    return GateResult(
        gate=gate,
        verdict="skipped",
        measured=measured,
        threshold=threshold,
        comparison=comparison,
        threshold_source="fixed",
        detail=detail,
    )


def _verdict(ok: bool) -> str:
    return "passed" if ok else "failed"


def _ref(call: SyntheticCall, **extra: Any) -> dict[str, Any]:
    return {"key": call.key, "call_id": call.call_id, **extra}


def duplicates_gate(calls: Sequence[SyntheticCall], limit: Threshold) -> GateResult:
    """Calls beyond the first per business key, from the ledger's answer and the call logs."""
    doubled = [c for c in calls if len(c.call_ids) > 1]
    extra = sum(len(c.call_ids) - 1 for c in doubled)
    unplanned = [c for c in calls if c.source == "found"]
    detail = (
        "every business key has exactly one call"
        if not doubled
        else f"{len(doubled)} business key(s) have more than one call ({extra} extra)"
    )
    evidence: dict[str, Any] = {
        "duplicates": [{"key": c.key, "call_ids": list(c.call_ids)} for c in doubled][
            :_EVIDENCE_LIMIT
        ]
    }
    if unplanned:
        evidence["unplanned_keys"] = [
            {"key": c.key, "call_ids": list(c.call_ids)} for c in unplanned
        ][:_EVIDENCE_LIMIT]
        detail += f"; {len(unplanned)} call(s) carry this run's ID under keys it did not place"
    return GateResult(
        gate="duplicate_outbound_calls",
        verdict=_verdict(extra <= limit.value),
        measured=extra,
        threshold=limit.value,
        comparison="<=",
        threshold_source=limit.source,
        detail=detail,
        evidence=evidence,
    )


def final_status_gate(calls: Sequence[SyntheticCall], timeout: float) -> GateResult:
    """Every call that exists reached a final status within the timeout."""
    placed = [c for c in calls if c.call_id is not None]
    stuck = [c for c in placed if not c.final]
    if not placed:
        return _skipped("final_status", "no call was placed")
    detail = f"{len(placed) - len(stuck)} of {len(placed)} calls reached a final status"
    if stuck:
        detail += f" within {timeout:g} s; {len(stuck)} did not"
    return GateResult(
        gate="final_status",
        verdict=_verdict(not stuck),
        measured=len(placed) - len(stuck),
        threshold=len(placed),
        comparison=">=",
        threshold_source="fixed",
        detail=detail,
        evidence={
            "not_final": [_ref(c, status=c.status) for c in stuck][:_EVIDENCE_LIMIT],
        },
    )


def webhook_delivery_gate(calls: Sequence[SyntheticCall]) -> GateResult:
    """Every call that ended had its final event (call.completed or call.failed) delivered."""
    ended = [c for c in calls if c.final]
    missing = [c for c in ended if not FINAL_EVENTS & set(c.webhook_events)]
    if not ended:
        return _skipped("webhook_delivery", "no call reached a final status")
    detail = (
        f"{len(ended) - len(missing)} of {len(ended)} ended calls had their final event delivered"
    )
    return GateResult(
        gate="webhook_delivery",
        verdict=_verdict(not missing),
        measured=len(ended) - len(missing),
        threshold=len(ended),
        comparison=">=",
        threshold_source="fixed",
        detail=detail,
        evidence={
            "missing_final_event": [_ref(c, received=list(c.webhook_events)) for c in missing][
                :_EVIDENCE_LIMIT
            ],
        },
    )


def signature_gate(tally: DeliveryTally, minimum: Threshold, *, placed: bool) -> GateResult:
    """The share of the run's deliveries whose StateSet-Signature verified."""
    rate = tally.verification_rate
    evidence = tally.to_dict()
    if rate is None:
        return GateResult(
            gate="signature_verification",
            verdict="failed" if placed else "skipped",
            measured=None,
            threshold=minimum.value,
            comparison=">=",
            threshold_source=minimum.source,
            detail="no deliveries were received for the run's calls"
            if placed
            else "no call was placed, so no delivery was expected",
            evidence=evidence,
        )
    unverified = tally.considered - tally.verified
    detail = f"{tally.verified} of {tally.considered} deliveries verified"
    if unverified:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(tally.failures.items()))
        detail += f" ({reasons})"
    return GateResult(
        gate="signature_verification",
        verdict=_verdict(rate >= minimum.value),
        measured=round(rate, 4),
        threshold=minimum.value,
        comparison=">=",
        threshold_source=minimum.source,
        detail=detail,
        evidence=evidence,
    )


def synthetic_calls_gate(
    calls: Sequence[SyntheticCall], minimum: Threshold, *, requested: int
) -> GateResult:
    """How many of the run's business keys have a completed call."""
    planned = [c for c in calls if c.source != "found"]
    completed = [c for c in planned if c.status == "completed"]
    others = [c for c in planned if c.status != "completed"]
    why = Counter(c.outcome or ("not placed" if c.call_id is None else "not final") for c in others)
    detail = f"{len(completed)} of {requested} synthetic calls completed"
    if why:
        detail += " (" + ", ".join(f"{n} {k}" for k, n in sorted(why.items())) + ")"
    if minimum.value > requested:
        detail += f"; the gate needs {minimum.value:g}, more than the {requested} requested"
    return GateResult(
        gate="synthetic_calls",
        verdict=_verdict(len(completed) >= minimum.value),
        measured=len(completed),
        threshold=minimum.value,
        comparison=">=",
        threshold_source=minimum.source,
        detail=detail,
        evidence={
            "not_completed": [
                _ref(
                    c,
                    outcome=c.outcome,
                    status=c.status,
                    error=None if c.error is None else c.error.get("type"),
                )
                for c in others
            ][:_EVIDENCE_LIMIT],
        },
    )


def _intent_failure(call: SyntheticCall, spec: IntentSpec) -> str | None:
    """Why one call does not meet its intent's expectation, or None when it does."""
    if call.call_id is None:
        kind = call.error.get("type") if call.error else "error"
        return f"not placed ({kind})"
    if not call.final:
        return "no final status"
    if call.outcome != spec.expected_outcome:
        return f"outcome {call.outcome}, expected {spec.expected_outcome}"
    missing = [t for t in spec.expected_tags if t not in call.tags]
    if missing:
        return f"session lacks tag(s) {', '.join(missing)}"
    evaluation = call.evaluation
    if spec.min_evaluation_score is not None or spec.required_criteria:
        if evaluation is None:
            return "no evaluation"
        score = float(evaluation.get("score") or 0.0)
        if spec.min_evaluation_score is not None and score < spec.min_evaluation_score:
            return f"evaluation score {score:g} < {spec.min_evaluation_score:g}"
        passed = {c.get("name"): c.get("passed") for c in evaluation.get("criteria", [])}
        failed = [name for name in spec.required_criteria if passed.get(name) is not True]
        if failed:
            return f"criteria not passed: {', '.join(failed)}"
    return None


def intent_results(
    calls: Sequence[SyntheticCall], intents: Sequence[IntentSpec]
) -> tuple[IntentResult, ...]:
    """Each intent's calls, their outcomes and whether each met the intent's expectation."""
    results = []
    for spec in intents:
        mine = [c for c in calls if c.intent == spec.name and c.source != "found"]
        failures = []
        for call in mine:
            why = _intent_failure(call, spec)
            if why is not None:
                failures.append({"key": call.key, "call_id": call.call_id or "", "reason": why})
        evaluated = [c.evaluation for c in mine if c.evaluation is not None]
        rate = (
            round(sum(1 for e in evaluated if e.get("passed")) / len(evaluated), 4)
            if evaluated
            else None
        )
        outcomes = Counter(
            c.outcome or ("not placed" if c.call_id is None else "not final") for c in mine
        )
        results.append(
            IntentResult(
                intent=spec.name,
                expected_outcome=spec.expected_outcome,
                calls=len(mine),
                matched=len(mine) - len(failures),
                outcomes=dict(sorted(outcomes.items())),
                evaluation_pass_rate=rate,
                failures=tuple(failures),
            )
        )
    return tuple(results)


def intents_gate(results: Sequence[IntentResult]) -> GateResult:
    """Every supported intent has synthetic calls, and each reached the expected outcome."""
    if not results:
        return _skipped("intents", "no intents were given", measured=None, threshold=None)
    failed = [r for r in results if not r.passed]
    detail = f"{len(results) - len(failed)} of {len(results)} intents met their expected outcome"
    if failed:
        detail += ": " + ", ".join(f"{r.intent} {r.matched}/{r.calls}" for r in failed)
    return GateResult(
        gate="intents",
        verdict=_verdict(not failed),
        measured=len(results) - len(failed),
        threshold=len(results),
        comparison=">=",
        threshold_source="fixed",
        detail=detail,
        evidence={
            "failed_intents": [
                {"intent": r.intent, "failures": [dict(f) for f in r.failures][:_EVIDENCE_LIMIT]}
                for r in failed
            ]
        },
    )


def sweep_comparison(
    gates: Sequence[GateResult], sweep: dict[str, Any]
) -> tuple[SweepComparison, ...]:
    """The check's verdict beside the server's for every gate both judge."""
    server = {g.get("gate"): g for g in sweep.get("gates") or [] if isinstance(g, dict)}
    rows = []
    for gate in gates:
        name = SERVER_GATES.get(gate.gate)
        if name is None:
            continue
        theirs = server.get(name) or {}
        rows.append(
            SweepComparison(
                gate=gate.gate,
                server_gate=name,
                client=gate.verdict,
                server=theirs.get("status"),
                client_measured=gate.measured,
                client_threshold=gate.threshold,
                server_observed=theirs.get("observed"),
                server_threshold=theirs.get("threshold"),
            )
        )
    return tuple(rows)


def _disagreement(row: SweepComparison) -> str:
    text = (
        f"{row.gate}: client {row.client} ({row.client_measured} vs {row.client_threshold}),"
        f" server {row.server} ({row.server_observed} vs {row.server_threshold})"
    )
    if row.client_threshold != row.server_threshold:
        text += ", with different thresholds"
    return text


def sweep_gate(rows: Sequence[SweepComparison], decision: str | None) -> GateResult:
    """The server's dry-run sweep judges the shared gates as the check measured them."""
    judged = [r for r in rows if r.agrees is not None]
    disagree = [r for r in judged if r.agrees is False]
    if not judged:
        return _skipped(
            "sweep_agreement",
            "the sweep judged none of the check's gates",
            measured=None,
            comparison="<=",
        )
    agreed = len(judged) - len(disagree)
    detail = (
        f"the server's sweep (decision {decision}) agrees on {agreed} of {len(judged)} shared gates"
    )
    if disagree:
        detail += ": " + "; ".join(_disagreement(r) for r in disagree)
    return GateResult(
        gate="sweep_agreement",
        verdict=_verdict(not disagree),
        measured=len(disagree),
        threshold=0,
        comparison="<=",
        threshold_source="fixed",
        detail=detail,
        evidence={"disagreements": [r.to_dict() for r in disagree]},
    )
