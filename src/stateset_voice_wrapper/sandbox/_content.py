"""Deterministic call outcomes and conversation content.

Outcome rule (outbound calls), on the last digit of the ``to`` number:

======  ===========================================================
digit   the call ...
======  ===========================================================
``7``   rings, nobody answers: ends ``no-answer``
``8``   rings, the carrier fails it: ends ``failed``
``9``   rings, the line is busy: ends ``busy``
``6``   is answered, the caller asks for a person: ``completed``, escalated
other   is answered: ``completed``
======  ===========================================================

Inbound calls are always answered; one whose ``From`` number ends in ``6`` is escalated.
Everything said in a session (transcript, tool calls, tags, summary, evaluation) is a function
of the agent key, the greeting and the metadata, so the same request always yields the same
conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ._util import stable_hash

_UNANSWERED: Final = {"7": "no-answer", "8": "failed", "9": "busy"}
FAILURE_REASONS: Final = {
    "no-answer": "The callee did not answer.",
    "failed": "The carrier could not connect the call.",
    "busy": "The line was busy.",
}
PASS_MARK: Final = 0.7


def outcome_for_number(to: str) -> tuple[str, bool]:
    """Return ``(final status, escalated?)`` of an outbound call to ``to``.

    >>> outcome_for_number("+15555550107"), outcome_for_number("+15555550106")
    (('no-answer', False), ('completed', True))
    """
    last = to[-1:]
    if last in _UNANSWERED:
        return _UNANSWERED[last], False
    return "completed", last == "6"


@dataclass(frozen=True, slots=True)
class _Scenario:
    tag: str
    caller_reply: str
    tool: str
    tool_result: dict[str, Any]
    caller_close: str
    summary: str


_SCENARIOS: Final = (
    _Scenario(
        "appointment",
        "Yes, Tuesday at ten works for me.",
        "confirm_appointment",
        {"confirmed": True},
        "Great, thank you.",
        "Customer confirmed the appointment.",
    ),
    _Scenario(
        "reschedule",
        "Could we move it to Thursday afternoon instead?",
        "reschedule_appointment",
        {"rescheduled": True, "new_slot": "Thursday 15:00"},
        "Thursday at three is perfect.",
        "Customer rescheduled the appointment to Thursday 15:00.",
    ),
    _Scenario(
        "billing",
        "I have a question about my last invoice.",
        "lookup_invoice",
        {"balance_due": 0, "status": "paid"},
        "Okay, that clears it up.",
        "Customer asked about an invoice; it is already paid.",
    ),
    _Scenario(
        "order_status",
        "Where is my order?",
        "lookup_order",
        {"status": "shipped", "eta_days": 2},
        "Thanks, I'll watch for it.",
        "Customer asked for an order status; it ships in two days.",
    ),
)


@dataclass(frozen=True, slots=True)
class Conversation:
    """What a session holds once it has ended, and its evaluation."""

    transcript: list[dict[str, Any]]
    function_calls: list[dict[str, Any]]
    tags: list[str]
    summary: str
    escalation_reason: str | None
    duration_seconds: int
    criteria: list[dict[str, Any]]
    score: float

    @property
    def passed(self) -> bool:
        return self.score >= PASS_MARK


def opening_turn(*, agent_key: str, greeting: str | None) -> dict[str, Any]:
    """The agent's first turn: the greeting, or a default one naming the agent."""
    text = greeting or f"Hi, this is the {agent_key.replace('_', ' ')} assistant."
    return {"speaker": "agent", "text": text, "start_ms": 0, "end_ms": 3000, "confidence": None}


def conversation(
    *,
    agent_key: str,
    greeting: str | None,
    metadata: dict[str, Any],
    escalate: bool,
    direction: str,
) -> Conversation:
    """The whole conversation of one answered call, derived from its inputs alone."""
    seed = stable_hash(agent_key, greeting or "", repr(sorted(metadata.items())))
    scenario = _SCENARIOS[seed % len(_SCENARIOS)]
    confidence = 0.8 + (seed >> 8) % 20 / 100
    arguments = {k: v for k, v in metadata.items() if isinstance(v, str | int | float | bool)}
    turns = [
        opening_turn(agent_key=agent_key, greeting=greeting),
        {
            "speaker": "caller",
            "text": scenario.caller_reply,
            "start_ms": 3800,
            "end_ms": 6200,
            "confidence": confidence,
        },
        {
            "speaker": "agent",
            "text": "Let me check that for you.",
            "start_ms": 6600,
            "end_ms": 8000,
            "confidence": None,
        },
    ]
    tools = [
        {
            "name": scenario.tool,
            "arguments": arguments,
            "result": scenario.tool_result,
            "status": "succeeded",
            "started_ms": 8100,
            "duration_ms": 150 + seed % 300,
        }
    ]
    tags = [scenario.tag, direction]
    escalation_reason: str | None = None
    summary = scenario.summary
    if escalate:
        escalation_reason = "Caller asked to speak with a person."
        turns.append(
            {
                "speaker": "caller",
                "text": "Actually, can I talk to a real person?",
                "start_ms": 9000,
                "end_ms": 10800,
                "confidence": confidence,
            }
        )
        tools.append(
            {
                "name": "transfer_to_operator",
                "arguments": {"reason": "caller_request"},
                "result": {"transferred": True},
                "status": "succeeded",
                "started_ms": 11000,
                "duration_ms": 90,
            }
        )
        turns.append(
            {
                "speaker": "operator",
                "text": "Hi, this is the front desk, how can I help?",
                "start_ms": 14000,
                "end_ms": 16000,
                "confidence": None,
            }
        )
        tags.append("escalated")
        summary += " The caller was handed to an operator."
    else:
        turns.append(
            {
                "speaker": "caller",
                "text": scenario.caller_close,
                "start_ms": 9000,
                "end_ms": 10400,
                "confidence": confidence,
            }
        )
        tags.append("resolved")
    intent = 1.0 if not escalate else 0.6
    tone = round(0.6 + (seed >> 16) % 40 / 100, 2)
    compliance = round(0.7 + (seed >> 24) % 30 / 100, 2)
    criteria = [
        {"name": "intent_resolved", "score": intent, "passed": intent >= PASS_MARK, "notes": None},
        {"name": "tone", "score": tone, "passed": tone >= PASS_MARK, "notes": None},
        {
            "name": "compliance",
            "score": compliance,
            "passed": compliance >= PASS_MARK,
            "notes": None,
        },
    ]
    score = round((intent + tone + compliance) / 3, 2)
    return Conversation(
        transcript=turns,
        function_calls=tools,
        tags=tags,
        summary=summary,
        escalation_reason=escalation_reason,
        duration_seconds=30 + seed % 150,
        criteria=criteria,
        score=score,
    )
