from enum import StrEnum


class AgentVersionStatus(StrEnum):
    APPROVED = "approved"
    PUBLISHED = "published"
    RETIRED = "retired"
    STAGED = "staged"

    def __str__(self) -> str:
        return str(self.value)
