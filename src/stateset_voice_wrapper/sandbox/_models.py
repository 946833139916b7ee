"""The sandbox's records, each with the JSON shape of its contract schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._shared.call_status import is_final_call_status
from ._util import JSON, isoformat


def _ts(value: float | None) -> str | None:
    return None if value is None else isoformat(value)


@dataclass(slots=True)
class Tenant:
    tenant_id: str
    name: str
    status: str
    created_at: float

    def to_json(self) -> JSON:
        return {
            "tenant_id": self.tenant_id,
            "name": self.name,
            "status": self.status,
            "created_at": isoformat(self.created_at),
        }


@dataclass(slots=True)
class RuntimeConfig:
    tenant_id: str
    settings: dict[str, Any]
    """The last ``RuntimeConfigUpdate`` body (model, voice, system_prompt_key, ...)."""
    revision: int
    updated_at: float

    @property
    def webhook_url(self) -> str | None:
        url = self.settings.get("webhook_url")
        return url if isinstance(url, str) else None

    def to_json(self) -> JSON:
        body: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "model": self.settings["model"],
            "voice": self.settings["voice"],
            "system_prompt_key": self.settings["system_prompt_key"],
            "webhook_url": self.webhook_url,
        }
        if "telephony" in self.settings:
            body["telephony"] = self.settings["telephony"]
        body["revision"] = self.revision
        body["updated_at"] = isoformat(self.updated_at)
        return body


@dataclass(slots=True)
class RolloutPolicy:
    tenant_id: str
    stage: str = "shadow"
    traffic_percent: int = 0
    min_synthetic_calls: int = 20
    min_signature_verification_rate: float = 0.95
    max_duplicate_outbound_calls: int = 0
    max_error_rate: float = 0.02
    require_approval: bool = True
    updated_at: float = 0.0

    def to_json(self) -> JSON:
        return {
            "tenant_id": self.tenant_id,
            "stage": self.stage,
            "traffic_percent": self.traffic_percent,
            "min_synthetic_calls": self.min_synthetic_calls,
            "min_signature_verification_rate": self.min_signature_verification_rate,
            "max_duplicate_outbound_calls": self.max_duplicate_outbound_calls,
            "max_error_rate": self.max_error_rate,
            "require_approval": self.require_approval,
            "updated_at": isoformat(self.updated_at),
        }


@dataclass(slots=True)
class Call:
    call_id: str
    tenant_id: str
    direction: str
    to: str
    from_: str
    agent_key: str
    greeting: str | None
    metadata: dict[str, Any]
    outcome: str
    """Final status the call is headed for (see :func:`~._content.outcome_for_number`)."""
    escalate: bool
    created_at: float
    """Sandbox-clock seconds; the JSON timestamps map it onto the wall clock."""
    seq: int
    status: str = "queued"
    next_due: float | None = None
    session_id: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    duration_seconds: int | None = None
    summary: str | None = None
    escalation_reason: str | None = None
    idempotency_key: str | None = None
    twilio_call_sid: str | None = None

    @property
    def terminal(self) -> bool:
        return is_final_call_status(self.status)

    def to_call_json(self, wall: float) -> JSON:
        """The ``Call`` schema (the make-call response)."""
        return {
            "call_id": self.call_id,
            "status": self.status,
            "to": self.to,
            "from": self.from_,
            "agent_key": self.agent_key,
            "session_id": self.session_id,
            "created_at": isoformat(wall + self.created_at),
            "metadata": self.metadata,
        }

    def to_log_json(self, wall: float) -> JSON:
        """The ``CallLog`` schema."""
        return {
            "call_id": self.call_id,
            "status": self.status,
            "direction": self.direction,
            "to": self.to,
            "from": self.from_,
            "agent_key": self.agent_key,
            "session_id": self.session_id,
            "duration_seconds": self.duration_seconds,
            "escalated": self.escalation_reason is not None,
            "escalation_reason": self.escalation_reason,
            "summary": self.summary,
            "created_at": isoformat(wall + self.created_at),
            "started_at": _ts(None if self.started_at is None else wall + self.started_at),
            "ended_at": _ts(None if self.ended_at is None else wall + self.ended_at),
            "metadata": self.metadata,
        }


@dataclass(slots=True)
class Session:
    session_id: str
    call_id: str
    tenant_id: str
    agent_key: str
    started_at: float
    seq: int
    status: str = "active"
    ended_at: float | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    function_calls: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    qa_state: str = "pending"
    evaluation_score: float | None = None
    escalation_reason: str | None = None
    summary: str | None = None

    def to_json(self, wall: float) -> JSON:
        return {
            "session_id": self.session_id,
            "call_id": self.call_id,
            "agent_key": self.agent_key,
            "status": self.status,
            "started_at": isoformat(wall + self.started_at),
            "ended_at": _ts(None if self.ended_at is None else wall + self.ended_at),
            "transcript": self.transcript,
            "function_calls": self.function_calls,
            "tags": self.tags,
            "qa_state": self.qa_state,
            "evaluation_score": self.evaluation_score,
            "escalated": self.escalation_reason is not None,
            "escalation_reason": self.escalation_reason,
            "summary": self.summary,
        }


@dataclass(slots=True)
class Evaluation:
    evaluation_id: str
    session_id: str
    call_id: str
    tenant_id: str
    score: float
    passed: bool
    criteria: list[dict[str, Any]]
    created_at: float
    seq: int

    def to_json(self, wall: float) -> JSON:
        return {
            "evaluation_id": self.evaluation_id,
            "session_id": self.session_id,
            "call_id": self.call_id,
            "score": self.score,
            "passed": self.passed,
            "evaluator": "automatic",
            "criteria": self.criteria,
            "created_at": isoformat(wall + self.created_at),
        }


@dataclass(slots=True)
class AgentVersion:
    version_id: str
    tenant_id: str
    agent_key: str
    version: int
    model: str
    voice: str
    system_prompt_key: str
    notes: str | None
    created_at: float
    seq: int
    status: str = "staged"
    approved_by: str | None = None
    approved_at: float | None = None
    published_at: float | None = None
    traffic_percent: int = 0

    def to_json(self) -> JSON:
        return {
            "version_id": self.version_id,
            "tenant_id": self.tenant_id,
            "agent_key": self.agent_key,
            "version": self.version,
            "status": self.status,
            "model": self.model,
            "voice": self.voice,
            "system_prompt_key": self.system_prompt_key,
            "notes": self.notes,
            "created_at": isoformat(self.created_at),
            "approved_by": self.approved_by,
            "approved_at": _ts(self.approved_at),
            "published_at": _ts(self.published_at),
            "traffic_percent": self.traffic_percent,
        }


@dataclass(slots=True)
class PhoneRoute:
    route_id: str
    phone_number: str
    tenant_id: str
    agent_key: str
    fallback_number: str | None
    enabled: bool
    created_at: float
    updated_at: float
    seq: int

    def to_json(self) -> JSON:
        return {
            "route_id": self.route_id,
            "phone_number": self.phone_number,
            "tenant_id": self.tenant_id,
            "agent_key": self.agent_key,
            "fallback_number": self.fallback_number,
            "enabled": self.enabled,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }
