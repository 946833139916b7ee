from enum import StrEnum


class EvaluationEvaluator(StrEnum):
    AUTOMATIC = "automatic"
    HUMAN = "human"

    def __str__(self) -> str:
        return str(self.value)
