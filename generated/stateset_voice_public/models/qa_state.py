from enum import StrEnum


class QaState(StrEnum):
    FAILED = "failed"
    IN_REVIEW = "in_review"
    PASSED = "passed"
    PENDING = "pending"

    def __str__(self) -> str:
        return str(self.value)
