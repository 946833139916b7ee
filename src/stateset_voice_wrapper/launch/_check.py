"""``launch_check``: the tutorial's launch gates, end to end, as one thin loop.

Place the run's synthetic calls (through the client's ledger), follow them in the call logs
until each has ended, collect their webhook deliveries, read sessions and evaluations, ask the
server for its dry-run rollout sweep, then judge every gate (``_gates``, pure functions).
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._shared.call_status import is_final_call_status
from ..webhooks import DEFAULT_TOLERANCE_SECONDS
from . import _gates
from ._deliveries import FINAL_EVENTS, DeliverySource, DeliveryTally, tally_deliveries
from ._errors import LaunchInputError
from ._intents import IntentSpec
from ._model import LaunchReport
from ._place import check_run_id, place_calls, plan_calls
from ._reconcile import (
    build_calls,
    evaluation_summary,
    fetch_evaluation,
    fetch_run_logs,
    fetch_session,
    latency_summary,
    outcome_counts,
)

if TYPE_CHECKING:
    from .. import AdminClient, VoiceClient

__all__ = ["DEFAULT_CALLS", "launch_check"]

#: The tutorial's launch gate: 20 synthetic calls.
DEFAULT_CALLS = 20
#: Calls created this long before the run's first call still count as the run's, whatever the
#: skew between this machine's clock, the API's nodes and the calls' timestamps.
_CLOCK_SKEW = datetime.timedelta(minutes=5)
_MAX_CALLS = 1000


def _iso(seconds: float) -> str:
    instant = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z")


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise LaunchInputError(f"{name} must be a positive number of seconds", parameter=name)
    if not math.isfinite(value):
        raise LaunchInputError(f"{name} must be finite", parameter=name)
    return float(value)


def _threshold(
    name: str, given: float | None, policy: dict[str, Any], *, low: float, high: float
) -> _gates.Threshold:
    if given is not None:
        if (
            isinstance(given, bool)
            or not isinstance(given, int | float)
            or not low <= given <= high
        ):
            raise LaunchInputError(f"{name} must be from {low:g} to {high:g}", parameter=name)
        return _gates.Threshold(given, "argument")
    return _gates.Threshold(policy[name], "policy")


def _created_after(started: float, placements: Sequence[Any]) -> datetime.datetime:
    earliest = datetime.datetime.fromtimestamp(started, tz=datetime.UTC)
    for placement in placements:
        if placement.call is not None:
            created = datetime.datetime.fromisoformat(str(placement.call["created_at"]))
            earliest = min(earliest, created)
    return earliest - _CLOCK_SKEW


def launch_check(
    *,
    voice: VoiceClient,
    admin: AdminClient,
    tenant_id: str,
    run_id: str,
    agent_key: str,
    from_: str,
    deliveries: DeliverySource,
    webhook_secrets: Sequence[str],
    to: str | Sequence[str] = (),
    calls: int = DEFAULT_CALLS,
    greeting: str | None = None,
    intents: Sequence[IntentSpec] = (),
    min_synthetic_calls: int | None = None,
    min_signature_verification_rate: float | None = None,
    max_duplicate_outbound_calls: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    timeout: float = 600.0,
    grace: float = 60.0,
    poll_interval: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wall_clock: Callable[[], float] = time.time,
    on_progress: Callable[[str], None] | None = None,
) -> LaunchReport:
    """Run the launch gates against ``tenant_id`` and report every one of them.

    Places ``calls`` synthetic calls from ``from_`` with ``agent_key`` to ``to`` (numbers
    taken in turn, or each intent's own), keyed ``launch-<run_id>-<n>``. Give ``voice`` a
    ledger (``VoiceClient(ledger=SqliteLedger(path))``): a re-run with the same ``run_id``
    then sends nothing for the keys already placed. It follows the calls in the call logs for
    up to ``timeout`` seconds, then waits up to ``grace`` more for their webhook deliveries
    (read from ``deliveries``, verified with ``webhook_secrets``) and evaluations, polling
    every ``poll_interval`` seconds of ``sleep`` as measured by ``clock`` (both injectable).

    The thresholds default to the tenant's rollout policy; the server's dry-run sweep is read
    at the end and set beside the check's own verdicts. Raises only for what makes the check
    impossible (a refused key, an unknown tenant, a conflicting re-run, a bad input); a call
    that fails is reported, not raised.

    Example::

        report = launch_check(voice=voice, admin=admin, tenant_id="ten_acme", run_id="r42",
                              agent_key="front_desk", from_="+15555551234",
                              to="+15555550101", deliveries=receiver,
                              webhook_secrets=[secret])
        print(report.passed, report.failed_gates)
    """
    check_run_id(run_id)
    if isinstance(calls, bool) or not isinstance(calls, int) or not 1 <= calls <= _MAX_CALLS:
        raise LaunchInputError(f"calls must be from 1 to {_MAX_CALLS}", parameter="calls")
    for name, value in (("timeout", timeout), ("grace", grace), ("poll_interval", poll_interval)):
        _positive(name, value)
    secrets = [webhook_secrets] if isinstance(webhook_secrets, str) else list(webhook_secrets)
    if not secrets or not all(isinstance(s, str) and s for s in secrets):
        raise LaunchInputError(
            "webhook_secrets must hold the endpoint's secret", parameter="webhook_secrets"
        )
    numbers = [to] if isinstance(to, str) else list(to)
    plan = plan_calls(run_id=run_id, calls=calls, to=numbers, greeting=greeting, intents=intents)
    note = on_progress or (lambda _message: None)

    policy = admin.rollout_governance.get_policy(tenant_id).to_dict()
    limits = {
        "synthetic": _threshold(
            "min_synthetic_calls", min_synthetic_calls, policy, low=0, high=_MAX_CALLS
        ),
        "signature": _threshold(
            "min_signature_verification_rate",
            min_signature_verification_rate,
            policy,
            low=0,
            high=1,
        ),
        "duplicates": _threshold(
            "max_duplicate_outbound_calls",
            max_duplicate_outbound_calls,
            policy,
            low=0,
            high=_MAX_CALLS,
        ),
    }

    deliveries.collect()  # an unreadable source fails now, before any call is placed
    started = wall_clock()
    placements = place_calls(
        voice, plan, from_=from_, agent_key=agent_key, clock=clock, on_progress=note
    )
    created_after = _created_after(started, placements)
    placed_ids = {p.call["call_id"] for p in placements if p.call is not None}

    logs: dict[str, dict[str, Any]] = {}
    evaluations: dict[str, dict[str, Any]] = {}
    tally = DeliveryTally()
    deadline = clock() + timeout
    ended_at: float | None = None
    last_note = ""
    while True:
        logs = fetch_run_logs(
            voice, run_id=run_id, agent_key=agent_key, created_after=created_after,
            call_ids=placed_ids,
        )  # fmt: skip
        run_ids = placed_ids | logs.keys()
        tally = tally_deliveries(
            deliveries.collect(), secrets=secrets, call_ids=run_ids, tolerance=tolerance,
            now=wall_clock,
        )  # fmt: skip
        unfinished = [i for i in run_ids if not is_final_call_status(logs.get(i, {}).get("status"))]
        if not unfinished:  # evaluations follow the end of a call; ask once all have ended
            for call_id in sorted(run_ids - evaluations.keys()):
                if logs[call_id].get("status") == "completed":
                    found = fetch_evaluation(voice, call_id)
                    if found is not None:
                        evaluations[call_id] = found
        awaiting_events = [
            i for i in run_ids if not FINAL_EVENTS & tally.events_by_call.get(i, frozenset())
        ]
        awaiting_evaluations = [
            i
            for i in run_ids
            if logs.get(i, {}).get("status") == "completed" and i not in evaluations
        ]
        message = (
            f"{len(run_ids) - len(unfinished)} of {len(run_ids)} calls ended;"
            f" {tally.considered} deliveries ({tally.verified} verified);"
            f" {len(evaluations)} evaluations"
        )
        if message != last_note:
            note(message)
            last_note = message
        if unfinished:
            if clock() >= deadline:
                note(f"gave up waiting after {timeout:g} s: {len(unfinished)} calls not ended")
                break
        elif not awaiting_events and not awaiting_evaluations:
            break
        else:
            ended_at = clock() if ended_at is None else ended_at
            if clock() - ended_at >= grace:
                note(f"stopped waiting for deliveries and evaluations after {grace:g} s")
                break
        sleep(poll_interval)

    sessions = {
        str(log["session_id"]): session
        for log in logs.values()
        if isinstance(log.get("session_id"), str)
        and (session := fetch_session(voice, str(log["session_id"]))) is not None
    }
    sweep = admin.rollout_governance.sweep(
        tenant_id=tenant_id, agent_key=agent_key, dry_run=True
    ).to_dict()
    records = build_calls(
        run_id=run_id,
        placements=placements,
        logs=logs,
        sessions=sessions,
        evaluations=evaluations,
        tally=tally,
    )
    results = _gates.intent_results(records, intents)
    gates = [
        _gates.duplicates_gate(records, limits["duplicates"]),
        _gates.final_status_gate(records, timeout),
        _gates.webhook_delivery_gate(records),
        _gates.signature_gate(tally, limits["signature"], placed=bool(run_ids)),
        _gates.synthetic_calls_gate(records, limits["synthetic"], requested=calls),
        _gates.intents_gate(results),
    ]
    comparison = _gates.sweep_comparison(gates, sweep)
    gates.append(_gates.sweep_gate(comparison, sweep.get("decision")))
    return LaunchReport(
        run_id=run_id,
        tenant_id=tenant_id,
        agent_key=agent_key,
        started_at=_iso(started),
        finished_at=_iso(wall_clock()),
        calls_requested=calls,
        gates=tuple(gates),
        calls=records,
        deliveries={"source": deliveries.description, **tally.to_dict()},
        evaluations=evaluation_summary(records),
        outcomes=outcome_counts(records),
        latency=latency_summary(records),
        intents=results,
        policy=policy,
        sweep={k: sweep.get(k) for k in ("sweep_id", "decision", "dry_run", "evaluated_at")}
        | {"gates": sweep.get("gates") or []},
        comparison=comparison,
    )
