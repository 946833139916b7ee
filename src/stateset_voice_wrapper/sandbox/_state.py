"""The in-memory store and the call lifecycle, driven by the sandbox clock.

Every call moves one state per *step* of the sandbox clock::

    outbound  queued -> ringing -> in-progress -> completed
                               \\-> no-answer | busy | failed      (see _content.outcome_for_number)
    inbound   ringing -> in-progress -> completed

The clock advances with real time (``auto_advance=True``: one step is ``step_seconds``) and
through :meth:`Store.advance`, which moves it forward by any amount at once and applies every
transition that became due, in order. With ``auto_advance=False`` only ``advance`` moves it, so
a test decides exactly when each transition happens. Every transition emits the contract's
webhook events through the ``emit`` callback.

Timestamps: calls, sessions and evaluations keep sandbox-clock seconds and are shown as
``wall_start + t``; admin records keep plain Unix seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._access import AccessRequests
from ._clock import SandboxClock
from ._constants import DEFAULT_TENANT_ID, WEBHOOK_API_VERSION
from ._content import FAILURE_REASONS, conversation, opening_turn, outcome_for_number
from ._models import (
    AgentVersion,
    Call,
    Evaluation,
    PhoneRoute,
    RolloutPolicy,
    RuntimeConfig,
    Session,
    Tenant,
)
from ._util import JSON, IdFactory, isoformat

Emit = Callable[[dict[str, Any]], None]


class Store:
    """All sandbox data, and the transitions of every call."""

    def __init__(
        self,
        *,
        ids: IdFactory,
        clock: SandboxClock,
        step_seconds: float,
        emit: Emit,
        max_access_requests: int = 1_000,
        access_request_ttl_seconds: float = 24 * 3600.0,
        access_request_fields: Iterable[str] = (),
    ) -> None:
        if step_seconds <= 0:
            raise ValueError("step_seconds must be positive")
        self.ids = ids
        self.clock = clock
        self.step_seconds = step_seconds
        self._emit = emit
        self._seq = 0
        self.tenants: dict[str, Tenant] = {}
        self.configs: dict[str, RuntimeConfig] = {}
        self.policies: dict[str, RolloutPolicy] = {}
        self.calls: dict[str, Call] = {}
        self.sessions: dict[str, Session] = {}
        self.evaluations: dict[str, Evaluation] = {}
        self.agent_versions: dict[str, AgentVersion] = {}
        self.routes: dict[str, PhoneRoute] = {}
        self.access_requests = AccessRequests(
            clock=clock.now,
            max_requests=max_access_requests,
            ttl_seconds=access_request_ttl_seconds,
            fields=access_request_fields,
        )
        self.inbound_signatures = {"valid": 0, "invalid": 0}
        self.responses = {"total": 0, "server_errors": 0}
        self.default_webhook_url: str | None = None
        self._seed_tenants()

    # -- setup ---------------------------------------------------------------------------

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _seed_tenants(self) -> None:
        now = self.clock.wall_now()
        for tenant_id, name, status in (
            (DEFAULT_TENANT_ID, "Sandbox Tenant", "active"),
            ("ten_acme", "Acme Dental (sandbox)", "active"),
            ("ten_dormant", "Dormant Co (sandbox)", "suspended"),
        ):
            self.tenants[tenant_id] = Tenant(tenant_id, name, status, created_at=now)
            self.configs[tenant_id] = RuntimeConfig(
                tenant_id=tenant_id,
                settings={
                    "model": "gpt-realtime",
                    "voice": "alloy",
                    "system_prompt_key": "front_desk_v1",
                },
                revision=1,
                updated_at=now,
            )
            self.policies[tenant_id] = RolloutPolicy(tenant_id=tenant_id, updated_at=now)
        self.routes_add(
            phone_number="+15555551234",
            tenant_id=DEFAULT_TENANT_ID,
            agent_key="front_desk",
            fallback_number=None,
            enabled=True,
        )

    def routes_add(
        self,
        *,
        phone_number: str,
        tenant_id: str,
        agent_key: str,
        fallback_number: str | None,
        enabled: bool,
    ) -> PhoneRoute:
        now = self.clock.wall_now()
        route = PhoneRoute(
            route_id=self.ids.new("pr"),
            phone_number=phone_number,
            tenant_id=tenant_id,
            agent_key=agent_key,
            fallback_number=fallback_number,
            enabled=enabled,
            created_at=now,
            updated_at=now,
            seq=self.next_seq(),
        )
        self.routes[route.route_id] = route
        return route

    # -- calls ---------------------------------------------------------------------------

    def create_outbound_call(
        self,
        tenant_id: str,
        body: dict[str, Any],
        *,
        idempotency_key: str | None,
    ) -> Call:
        outcome, escalate = outcome_for_number(body["to"])
        now = self.clock.now()
        call = Call(
            call_id=self.ids.new("call"),
            tenant_id=tenant_id,
            direction="outbound",
            to=body["to"],
            from_=body["from"],
            agent_key=body["agent_key"],
            greeting=body.get("greeting"),
            metadata=dict(body.get("metadata") or {}),
            outcome=outcome,
            escalate=escalate,
            created_at=now,
            seq=self.next_seq(),
            status="queued",
            next_due=now + self.step_seconds,
            idempotency_key=idempotency_key,
        )
        self.calls[call.call_id] = call
        self._call_event("call.queued", call)
        return call

    def create_inbound_call(self, tenant_id: str, agent_key: str, params: dict[str, str]) -> Call:
        now = self.clock.now()
        caller = params.get("From", "")
        call = Call(
            call_id=self.ids.new("call"),
            tenant_id=tenant_id,
            direction="inbound",
            to=params.get("To", ""),
            from_=caller,
            agent_key=agent_key,
            greeting=None,
            metadata={"twilio_call_sid": params.get("CallSid", "")},
            outcome="completed",
            escalate=caller.endswith("6"),
            created_at=now,
            seq=self.next_seq(),
            status="ringing",
            next_due=now + self.step_seconds,
            twilio_call_sid=params.get("CallSid"),
        )
        self.calls[call.call_id] = call
        self._call_event("call.ringing", call)
        return call

    def find_call_by_twilio_sid(self, call_sid: str) -> Call | None:
        for call in self.calls.values():
            if call.twilio_call_sid == call_sid:
                return call
        return None

    def process_due(self) -> list[dict[str, Any]]:
        """Apply every transition due at the current sandbox time, earliest first."""
        now = self.clock.now()
        applied: list[dict[str, Any]] = []
        while True:
            due = [c for c in self.calls.values() if c.next_due is not None and c.next_due <= now]
            if not due:
                return applied
            call = min(due, key=lambda c: (c.next_due, c.seq))
            before = call.status
            self._step(call)
            applied.append({"call_id": call.call_id, "from": before, "to": call.status})

    def advance(self, seconds: float) -> list[dict[str, Any]]:
        self.clock.advance(seconds)
        return self.process_due()

    def settle(self) -> list[dict[str, Any]]:
        """Advance the clock until every call has ended."""
        applied: list[dict[str, Any]] = []
        while True:
            pending = [c.next_due for c in self.calls.values() if c.next_due is not None]
            if not pending:
                return applied
            applied.extend(self.advance(max(0.0, min(pending) - self.clock.now())))

    def _step(self, call: Call) -> None:
        assert call.next_due is not None
        at = call.next_due
        if call.status == "queued":
            call.status = "ringing"
            call.next_due = at + self.step_seconds
            self._call_event("call.ringing", call, at)
        elif call.status == "ringing" and call.outcome != "completed":
            call.status = call.outcome
            call.next_due = None
            call.ended_at = at
            call.duration_seconds = 0
            self._call_event("call.failed", call, at)
        elif call.status == "ringing":
            self._answer(call, at)
        else:
            self._finish(call, at)

    def _answer(self, call: Call, at: float) -> None:
        call.status = "in-progress"
        call.started_at = at
        call.next_due = at + self.step_seconds
        session = Session(
            session_id=self.ids.new("vs"),
            call_id=call.call_id,
            tenant_id=call.tenant_id,
            agent_key=call.agent_key,
            started_at=at,
            seq=self.next_seq(),
            transcript=[opening_turn(agent_key=call.agent_key, greeting=call.greeting)],
            tags=[call.direction],
        )
        self.sessions[session.session_id] = session
        call.session_id = session.session_id
        self._call_event("call.answered", call, at)
        self._session_event("session.started", session, at)

    def _finish(self, call: Call, at: float) -> None:
        talk = conversation(
            agent_key=call.agent_key,
            greeting=call.greeting,
            metadata=call.metadata,
            escalate=call.escalate,
            direction=call.direction,
        )
        session = self.sessions[call.session_id or ""]
        session.transcript = talk.transcript
        session.function_calls = talk.function_calls
        session.tags = talk.tags
        session.summary = talk.summary
        session.escalation_reason = talk.escalation_reason
        if talk.escalation_reason is not None:
            session.status = "escalated"
            self._session_event("session.escalated", session, at)
        else:
            session.status = "completed"
        session.ended_at = at
        call.status = "completed"
        call.next_due = None
        call.ended_at = at
        call.duration_seconds = talk.duration_seconds
        call.summary = talk.summary
        call.escalation_reason = talk.escalation_reason
        evaluation = Evaluation(
            evaluation_id=self.ids.new("ev"),
            session_id=session.session_id,
            call_id=call.call_id,
            tenant_id=call.tenant_id,
            score=talk.score,
            passed=talk.passed,
            criteria=talk.criteria,
            created_at=at,
            seq=self.next_seq(),
        )
        self.evaluations[evaluation.evaluation_id] = evaluation
        session.evaluation_score = talk.score
        session.qa_state = "passed" if talk.passed else "failed"
        self._call_event("call.completed", call, at)
        self._session_event("session.ended", session, at)
        self._event(
            "evaluation.completed",
            call.tenant_id,
            at,
            call_id=call.call_id,
            session_id=session.session_id,
            data={
                "evaluation_id": evaluation.evaluation_id,
                "session_id": session.session_id,
                "call_id": call.call_id,
                "score": evaluation.score,
                "passed": evaluation.passed,
            },
        )

    # -- events --------------------------------------------------------------------------

    def _event(
        self,
        event_type: str,
        tenant_id: str,
        at: float,
        *,
        call_id: str | None,
        session_id: str | None,
        data: dict[str, Any],
    ) -> None:
        self._emit(
            {
                "id": self.ids.new("evt"),
                "type": event_type,
                "api_version": WEBHOOK_API_VERSION,
                "occurred_at": isoformat(self.clock.wall_start + at),
                "tenant_id": tenant_id,
                "call_id": call_id,
                "session_id": session_id,
                "data": data,
            }
        )

    def _call_event(self, event_type: str, call: Call, at: float | None = None) -> None:
        self._event(
            event_type,
            call.tenant_id,
            call.created_at if at is None else at,
            call_id=call.call_id,
            session_id=call.session_id,
            data={
                "call_id": call.call_id,
                "status": call.status,
                "direction": call.direction,
                "agent_key": call.agent_key,
                "duration_seconds": call.duration_seconds,
                "failure_reason": FAILURE_REASONS.get(call.status),
                "metadata": call.metadata,
            },
        )

    def _session_event(self, event_type: str, session: Session, at: float) -> None:
        self._event(
            event_type,
            session.tenant_id,
            at,
            call_id=session.call_id,
            session_id=session.session_id,
            data={
                "session_id": session.session_id,
                "call_id": session.call_id,
                "agent_key": session.agent_key,
                "status": session.status,
                "summary": session.summary,
                "escalation_reason": session.escalation_reason,
                "tags": list(session.tags),
            },
        )

    # -- reads ---------------------------------------------------------------------------

    def webhook_url_for(self, tenant_id: str) -> str | None:
        """The tenant's runtime-config ``webhook_url``, else the sandbox-wide one."""
        config = self.configs.get(tenant_id)
        return (config.webhook_url if config else None) or self.default_webhook_url

    def wall(self) -> float:
        return self.clock.wall_start

    def call_json(self, call: Call) -> JSON:
        return call.to_call_json(self.clock.wall_start)
