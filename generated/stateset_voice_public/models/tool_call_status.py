from enum import StrEnum


class ToolCallStatus(StrEnum):
    FAILED = "failed"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ToolCallStatus | None":
        """Keep a value this contract does not list (forward compatibility): ``.value`` is the raw
        string, and the pseudo-member is not among the class's members."""
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "<unknown>"
        member._value_ = value
        return member
