from enum import StrEnum


class RolloutSweepResultDecision(StrEnum):
    HOLD = "hold"
    PROMOTE = "promote"
    ROLLBACK = "rollback"

    def __str__(self) -> str:
        return str(self.value)
