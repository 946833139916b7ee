from enum import StrEnum


class VoiceSessionStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ESCALATED = "escalated"
    FAILED = "failed"

    def __str__(self) -> str:
        return str(self.value)
