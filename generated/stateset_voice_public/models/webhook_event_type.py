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
