from enum import StrEnum


class WebhookEventType(StrEnum):
    CALL_ANSWERED = "call.answered"
    CALL_COMPLETED = "call.completed"
    CALL_FAILED = "call.failed"
    CALL_QUEUED = "call.queued"
    CALL_RINGING = "call.ringing"
    EVALUATION_COMPLETED = "evaluation.completed"
    SESSION_ENDED = "session.ended"
    SESSION_ESCALATED = "session.escalated"
    SESSION_STARTED = "session.started"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "WebhookEventType | None":
        """Keep a value this contract does not list (forward compatibility): ``.value`` is the raw
        string, and the pseudo-member is not among the class's members."""
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "<unknown>"
        member._value_ = value
        return member
