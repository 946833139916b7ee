"""Placing a run's synthetic calls: one business key per call, each create through the ledger.

The keys derive from the run ID (``launch-<run_id>-<n>``) and every parameter of a call derives
from the run's options, so re-running the same run sends the same creates: the client's ledger
answers the keys it recorded without a request, and the server answers any other key it has
seen with the call it created. Nothing is ever placed twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from .. import (
    APIConnectionError,
    APIResponseValidationError,
    IdempotencyConflictError,
    InternalServerError,
    OutsideCallingHoursError,
    RateLimitError,
    StateSetVoiceError,
    response_info,
)
from ._errors import LaunchInputError
from ._intents import IntentSpec

if TYPE_CHECKING:
    from .. import VoiceClient

__all__ = ["Placement", "PlannedCall", "business_key", "check_run_id", "place_calls", "plan_calls"]

_RUN_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
#: Failures of one create that say nothing about the next one: the call is reported as not
#: placed and the run goes on. Anything else (a refused key, a conflict, a bad argument, a
#: broken ledger) would fail every create alike, and is raised.
_PER_CALL_FAILURES: Final = (
    APIConnectionError,
    InternalServerError,
    RateLimitError,
    APIResponseValidationError,
    OutsideCallingHoursError,
)


def _callee_pattern() -> re.Pattern[str]:
    """The contract's pattern for make-call's ``to`` (from the generated facts)."""
    import stateset_voice_facts as facts

    pattern = facts.SCHEMAS["public"]["MakeCallRequest"]["properties"]["to"]["pattern"]
    return re.compile(str(pattern))


def check_run_id(run_id: str) -> str:
    """``run_id`` if it can name a run: 1 to 64 letters, digits, ``_``, ``.`` or ``-``."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise LaunchInputError(
            "run_id must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter"
            " or digit",
            parameter="run_id",
        )
    return run_id


def business_key(run_id: str, n: int) -> str:
    """The idempotency key of the run's ``n``-th call (from 1): ``launch-<run_id>-<n>``."""
    return f"launch-{run_id}-{n}"


@attrs.frozen(kw_only=True)
class PlannedCall:
    n: int
    key: str
    intent: str | None
    to: str
    greeting: str | None
    metadata: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class Placement:
    """What the create of one planned call answered."""

    planned: PlannedCall
    call: Mapping[str, Any] | None
    source: str
    error: Mapping[str, Any] | None = None
    latency_ms: float | None = None


def plan_calls(
    *,
    run_id: str,
    calls: int,
    to: Sequence[str],
    greeting: str | None,
    intents: Sequence[IntentSpec],
) -> list[PlannedCall]:
    """The run's calls, intents taken in turn and numbers in turn (an intent's ``to`` wins)."""
    callee = _callee_pattern()
    plan = []
    for n in range(1, calls + 1):
        spec = intents[(n - 1) % len(intents)] if intents else None
        number = spec.to if spec is not None and spec.to else (to[(n - 1) % len(to)] if to else "")
        if not number:
            raise LaunchInputError(
                "no number to call: give `to`, or a `to` for every intent", parameter="to"
            )
        if not callee.search(number):  # all checked before the first is placed
            where = f"intents.{spec.name}.to" if spec is not None and spec.to else "to"
            raise LaunchInputError(f"{where} must be an E.164 number", parameter="to")
        key = business_key(run_id, n)
        metadata: dict[str, Any] = dict(spec.metadata) if spec is not None else {}
        metadata.update(launch_run=run_id, launch_key=key)
        if spec is not None:
            metadata["launch_intent"] = spec.name
        plan.append(
            PlannedCall(
                n=n,
                key=key,
                intent=None if spec is None else spec.name,
                to=number,
                greeting=spec.greeting if spec is not None and spec.greeting else greeting,
                metadata=metadata,
            )
        )
    return plan


def _error(exc: StateSetVoiceError) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": exc.message,  # redacted by the library: no number, no credential
        "status": exc.status_code,
        "code": exc.code,
        "request_id": exc.request_id,
    }


def place_calls(
    voice: VoiceClient,
    plan: Sequence[PlannedCall],
    *,
    from_: str,
    agent_key: str,
    clock: Callable[[], float],
    on_progress: Callable[[str], None] | None = None,
) -> list[Placement]:
    """Create each planned call with its business key; a failure of one is kept, not raised."""
    placements = []
    for planned in plan:
        started = clock()
        try:
            with response_info() as info:
                call = voice.calls.create(
                    to=planned.to,
                    from_=from_,
                    agent_key=agent_key,
                    greeting=planned.greeting,
                    metadata=planned.metadata,
                    idempotency_key=planned.key,
                )
        except IdempotencyConflictError as exc:
            raise IdempotencyConflictError(
                f"{exc.message}: a re-run of a launch check must use the run's original"
                " numbers, agent, greeting and intents; use a new run ID for new ones",
                idempotency_key=planned.key,
                status_code=exc.status_code,
                request_id=exc.request_id,
            ) from exc
        except _PER_CALL_FAILURES as exc:
            placements.append(
                Placement(planned=planned, call=None, source="not-placed", error=_error(exc))
            )
            continue
        if info.from_ledger:  # the ledger answered from its record: nothing was sent
            source, latency = "ledger", None
        else:
            source = "server-replay" if info.replayed else "placed"
            latency = round((clock() - started) * 1000, 3)
        placements.append(
            Placement(planned=planned, call=call.to_dict(), source=source, latency_ms=latency)
        )
    if on_progress is not None:
        sources: dict[str, int] = {}
        for p in placements:
            sources[p.source] = sources.get(p.source, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(sources.items()))
        on_progress(f"{len(placements)} synthetic calls: {summary}")
    return placements
