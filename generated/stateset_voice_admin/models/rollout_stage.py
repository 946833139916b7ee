from enum import StrEnum


class RolloutStage(StrEnum):
    CANARY = "canary"
    GENERAL = "general"
    SHADOW = "shadow"

    def __str__(self) -> str:
        return str(self.value)
