"""What a launch check found: the gates, the calls, the deliveries and the server's sweep.

Every class here is data (attrs, frozen) with a ``to_dict()`` that is the documented JSON
schema (``docs/launch-check.md``). No phone number is ever stored: a call's ``to`` is masked
when the record is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

__all__ = [
    "GATES",
    "REPORT_SCHEMA",
    "GateResult",
    "IntentResult",
    "LaunchReport",
    "SweepComparison",
    "SyntheticCall",
]

#: The report format; a change that could break a reader gets a new version.
REPORT_SCHEMA: Final = "stateset-voice/launch-check/v1"

#: Every gate, most basic first: when several fail, the first one is the cause to fix first
#: (the CLI's exit code names it).
GATES: Final = (
    "duplicate_outbound_calls",
    "final_status",
    "webhook_delivery",
    "signature_verification",
    "synthetic_calls",
    "intents",
    "sweep_agreement",
)


@attrs.frozen(kw_only=True)
class GateResult:
    """One gate: what was measured against which threshold, the verdict and the evidence.

    ``verdict`` is ``"passed"``, ``"failed"`` or ``"skipped"`` (nothing to judge, e.g. no
    intents were given). ``comparison`` reads ``measured <comparison> threshold``;
    ``threshold_source`` says where the threshold came from: ``"argument"``, the tenant's
    rollout ``"policy"``, or ``"fixed"`` (the gate's own definition, e.g. every call final).
    ``evidence`` names the business keys and call IDs behind a failure.
    """

    gate: str
    verdict: str
    measured: float | int | None
    threshold: float | int | None
    comparison: str
    threshold_source: str
    detail: str
    evidence: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def failed(self) -> bool:
        return self.verdict == "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "verdict": self.verdict,
            "measured": self.measured,
            "threshold": self.threshold,
            "comparison": self.comparison,
            "threshold_source": self.threshold_source,
            "detail": self.detail,
            "evidence": dict(self.evidence),
        }


@attrs.frozen(kw_only=True)
class SyntheticCall:
    """One business key of the run and what became of its call.

    ``source`` is ``"placed"`` (sent by this invocation), ``"ledger"`` (recorded by an earlier
    invocation of the same run: nothing was sent), ``"server-replay"`` (the server answered
    the key with the call it had already created), ``"not-placed"`` (the create failed:
    ``error``) or ``"found"`` (a call carrying the run's metadata that this run did not
    place). ``call_ids`` lists every call the API holds for the key: more than one is a
    duplicate outbound call.
    """

    key: str
    n: int | None
    intent: str | None
    to: str | None
    source: str
    call_id: str | None
    call_ids: tuple[str, ...] = ()
    status: str | None = None
    outcome: str | None = None
    escalated: bool | None = None
    session_id: str | None = None
    tags: tuple[str, ...] = ()
    qa_state: str | None = None
    evaluation: Mapping[str, Any] | None = None
    create_latency_ms: float | None = None
    time_to_final_seconds: float | None = None
    duration_seconds: int | None = None
    webhook_events: tuple[str, ...] = ()
    error: Mapping[str, Any] | None = None

    @property
    def final(self) -> bool:
        return self.outcome is not None

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        for name in ("call_ids", "tags", "webhook_events"):
            data[name] = list(data[name])
        for name in ("evaluation", "error"):
            data[name] = None if data[name] is None else dict(data[name])
        data["final"] = self.final
        return data


@attrs.frozen(kw_only=True)
class IntentResult:
    """One supported intent: its calls, their outcomes, and whether each met the expectation."""

    intent: str
    expected_outcome: str
    calls: int
    matched: int
    outcomes: Mapping[str, int]
    evaluation_pass_rate: float | None
    failures: tuple[Mapping[str, str], ...] = ()

    @property
    def passed(self) -> bool:
        return self.calls > 0 and self.matched == self.calls

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "expected_outcome": self.expected_outcome,
            "calls": self.calls,
            "matched": self.matched,
            "passed": self.passed,
            "outcomes": dict(self.outcomes),
            "evaluation_pass_rate": self.evaluation_pass_rate,
            "failures": [dict(f) for f in self.failures],
        }


@attrs.frozen(kw_only=True)
class SweepComparison:
    """A gate both sides judge: the check's verdict beside the server's sweep status."""

    gate: str
    server_gate: str
    client: str
    server: str | None
    client_measured: float | None = None
    client_threshold: float | None = None
    server_observed: float | None = None
    server_threshold: float | None = None

    @property
    def agrees(self) -> bool | None:
        """None when one side did not judge the gate (skipped, or absent from the sweep)."""
        if self.server is None or self.client == "skipped":
            return None
        server_passed = self.server != "failed"  # a server "warning" does not block
        return server_passed == (self.client == "passed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "server_gate": self.server_gate,
            "client": self.client,
            "server": self.server,
            "client_measured": self.client_measured,
            "client_threshold": self.client_threshold,
            "server_observed": self.server_observed,
            "server_threshold": self.server_threshold,
            "agrees": self.agrees,
        }


@attrs.frozen(kw_only=True)
class LaunchReport:
    """The whole result of :func:`launch_check`; ``to_dict()`` is its JSON form."""

    run_id: str
    tenant_id: str
    agent_key: str
    started_at: str
    finished_at: str
    calls_requested: int
    gates: tuple[GateResult, ...]
    calls: tuple[SyntheticCall, ...]
    deliveries: Mapping[str, Any]
    evaluations: Mapping[str, Any]
    outcomes: Mapping[str, int]
    latency: Mapping[str, Any]
    intents: tuple[IntentResult, ...]
    policy: Mapping[str, Any]
    sweep: Mapping[str, Any]
    comparison: tuple[SweepComparison, ...]

    @property
    def passed(self) -> bool:
        """True when no gate failed."""
        return not self.failed_gates

    @property
    def failed_gates(self) -> tuple[str, ...]:
        """The failed gates' names, most basic first (see :data:`GATES`)."""
        return tuple(g.gate for g in self.gates if g.failed)

    def gate(self, name: str) -> GateResult:
        """The result of one gate by name (``report.gate("signature_verification")``)."""
        for result in self.gates:
            if result.gate == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "run_id": self.run_id,
            "tenant_id": self.tenant_id,
            "agent_key": self.agent_key,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "calls_requested": self.calls_requested,
            "passed": self.passed,
            "failed_gates": list(self.failed_gates),
            "gates": [g.to_dict() for g in self.gates],
            "calls": [c.to_dict() for c in self.calls],
            "deliveries": dict(self.deliveries),
            "evaluations": dict(self.evaluations),
            "outcomes": dict(self.outcomes),
            "latency": dict(self.latency),
            "intents": [i.to_dict() for i in self.intents],
            "policy": dict(self.policy),
            "sweep": {
                **dict(self.sweep),
                "comparison": [c.to_dict() for c in self.comparison],
            },
        }
