"""Reconciling a run from the API: its call logs, sessions and evaluations, per business key.

The API is the record of what happened: every call carrying the run's ID in its metadata
(``launch_run``) is the run's, whoever created it, and is counted under the business key its
metadata names (``launch_key``). A key with two calls is a duplicate outbound call even when
the ledger and the server each saw only one create.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import NotFoundError
from .._shared.redact import mask_phone_numbers
from ._deliveries import DeliveryTally
from ._intents import outcome_of
from ._model import SyntheticCall
from ._place import Placement

if TYPE_CHECKING:
    from .. import VoiceClient

__all__ = [
    "build_calls",
    "evaluation_summary",
    "fetch_evaluation",
    "fetch_run_logs",
    "fetch_session",
    "latency_summary",
    "outcome_counts",
]

JSON = dict[str, Any]


def _metadata(log: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = log.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def fetch_run_logs(
    voice: VoiceClient,
    *,
    run_id: str,
    agent_key: str,
    created_after: datetime.datetime,
    call_ids: Iterable[str],
) -> dict[str, JSON]:
    """The call logs of the run: every log since ``created_after`` whose metadata names the
    run, and each of ``call_ids`` (read one by one if the listing did not hold it).

    Offset pages of a list that grows while it is read can repeat an item; keying by call ID
    counts each call once.
    """
    wanted = set(call_ids)
    found: dict[str, JSON] = {}
    for log in voice.call_logs.list(
        created_after=created_after, agent_key=agent_key, page_size=200
    ):
        data = log.to_dict()
        if _metadata(data).get("launch_run") == run_id or data["call_id"] in wanted:
            found[data["call_id"]] = data
    for call_id in sorted(wanted - found.keys()):
        try:
            found[call_id] = voice.call_logs.get(call_id).to_dict()
        except NotFoundError:
            continue  # not (yet) in the logs: the final-status gate names it
    return found


def fetch_session(voice: VoiceClient, session_id: str) -> JSON | None:
    try:
        return voice.sessions.get(session_id).to_dict()
    except NotFoundError:
        return None


def fetch_evaluation(voice: VoiceClient, call_id: str) -> JSON | None:
    """The newest evaluation of a call, or None while it has none."""
    for evaluation in voice.evaluations.list(call_id=call_id, page_size=1):
        data = evaluation.to_dict()
        return {
            "evaluation_id": data.get("evaluation_id"),
            "score": data.get("score"),
            "passed": data.get("passed"),
            "criteria": [
                {"name": c.get("name"), "score": c.get("score"), "passed": c.get("passed")}
                for c in data.get("criteria") or []
            ],
        }
    return None


def _seconds_between(start: object, end: object) -> float | None:
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        began = datetime.datetime.fromisoformat(start)
        ended = datetime.datetime.fromisoformat(end)
    except ValueError:
        return None
    return round((ended - began).total_seconds(), 3)


def _mask(number: object) -> str | None:
    return mask_phone_numbers(number) if isinstance(number, str) and number else None


def _record(
    *,
    key: str,
    placement: Placement | None,
    logs: Sequence[JSON],
    sessions: Mapping[str, JSON],
    evaluations: Mapping[str, JSON],
    tally: DeliveryTally,
) -> SyntheticCall:
    placed = placement.call if placement is not None else None
    call_ids = {log["call_id"] for log in logs}
    if placed is not None:
        call_ids.add(placed["call_id"])
    call_id = placed["call_id"] if placed is not None else (logs[0]["call_id"] if logs else None)
    log = next((entry for entry in logs if entry["call_id"] == call_id), None)
    status = log.get("status") if log is not None else None
    escalated = log.get("escalated") if log is not None else None
    session_id = log.get("session_id") if log is not None else None
    session = sessions.get(session_id) if isinstance(session_id, str) else None
    to = placement.planned.to if placement is not None else (log or {}).get("to")
    return SyntheticCall(
        key=key,
        n=placement.planned.n if placement is not None else None,
        intent=placement.planned.intent
        if placement is not None
        else _metadata(log or {}).get("launch_intent"),
        to=_mask(to),
        source=placement.source if placement is not None else "found",
        call_id=call_id,
        call_ids=tuple(sorted(call_ids)),
        status=status,
        outcome=outcome_of(status, bool(escalated)) if isinstance(status, str) else None,
        escalated=escalated,
        session_id=session_id,
        tags=tuple(session.get("tags") or ()) if session is not None else (),
        qa_state=session.get("qa_state") if session is not None else None,
        evaluation=evaluations.get(call_id) if call_id is not None else None,
        create_latency_ms=placement.latency_ms if placement is not None else None,
        time_to_final_seconds=_seconds_between(log.get("created_at"), log.get("ended_at"))
        if log is not None
        else None,
        duration_seconds=log.get("duration_seconds") if log is not None else None,
        webhook_events=tuple(sorted(tally.events_by_call.get(call_id, ())))
        if call_id is not None
        else (),
        error=placement.error if placement is not None else None,
    )


def build_calls(
    *,
    run_id: str,
    placements: Sequence[Placement],
    logs: Mapping[str, JSON],
    sessions: Mapping[str, JSON],
    evaluations: Mapping[str, JSON],
    tally: DeliveryTally,
) -> tuple[SyntheticCall, ...]:
    """One record per business key: the planned ones in order, then keys found in the logs."""
    by_key: dict[str, list[JSON]] = {}
    placed_ids = {p.call["call_id"]: p.planned.key for p in placements if p.call is not None}
    for log in logs.values():
        metadata = _metadata(log)
        key = metadata.get("launch_key") if metadata.get("launch_run") == run_id else None
        if not isinstance(key, str):
            key = placed_ids.get(log["call_id"])
        if key is not None:
            by_key.setdefault(key, []).append(log)
    records = [
        _record(
            key=p.planned.key,
            placement=p,
            logs=sorted(by_key.get(p.planned.key, []), key=lambda log: str(log["call_id"])),
            sessions=sessions,
            evaluations=evaluations,
            tally=tally,
        )
        for p in placements
    ]
    planned = {p.planned.key for p in placements}
    for key in sorted(by_key.keys() - planned):
        records.append(
            _record(
                key=key,
                placement=None,
                logs=sorted(by_key[key], key=lambda log: str(log["call_id"])),
                sessions=sessions,
                evaluations=evaluations,
                tally=tally,
            )
        )
    return tuple(records)


def outcome_counts(calls: Sequence[SyntheticCall]) -> dict[str, int]:
    """How many calls ended each way (``not final``, ``not placed`` for the others)."""
    counts = Counter(
        c.outcome or ("not placed" if c.call_id is None else "not final") for c in calls
    )
    return dict(sorted(counts.items()))


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)) - 1, 0)
    return ordered[rank]


def latency_summary(calls: Sequence[SyntheticCall]) -> dict[str, Any]:
    """p50, p95 and max of the make-call latency and of the time from creation to the end."""

    def summary(values: list[float]) -> dict[str, Any] | None:
        if not values:
            return None
        return {
            "count": len(values),
            "p50": round(_percentile(values, 0.5), 3),
            "p95": round(_percentile(values, 0.95), 3),
            "max": round(max(values), 3),
        }

    return {
        "create_ms": summary(
            [c.create_latency_ms for c in calls if c.create_latency_ms is not None]
        ),
        "time_to_final_seconds": summary(
            [c.time_to_final_seconds for c in calls if c.time_to_final_seconds is not None]
        ),
    }


def evaluation_summary(calls: Sequence[SyntheticCall]) -> dict[str, Any]:
    """How many completed calls were evaluated and passed, and their sessions' QA states."""
    evaluated = [c.evaluation for c in calls if c.evaluation is not None]
    passed = sum(1 for e in evaluated if e.get("passed"))
    qa = Counter(c.qa_state for c in calls if c.qa_state is not None)
    return {
        "evaluated": len(evaluated),
        "passed": passed,
        "pass_rate": round(passed / len(evaluated), 4) if evaluated else None,
        "qa_states": dict(sorted(qa.items())),
    }
