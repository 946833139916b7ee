from enum import StrEnum


class TranscriptTurnSpeaker(StrEnum):
    AGENT = "agent"
    CALLER = "caller"
    OPERATOR = "operator"
    SYSTEM = "system"

    def __str__(self) -> str:
        return str(self.value)
