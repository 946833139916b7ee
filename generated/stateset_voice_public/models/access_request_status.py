from enum import StrEnum


class AccessRequestStatus(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    IN_REVIEW = "in_review"
    RECEIVED = "received"

    def __str__(self) -> str:
        return str(self.value)
