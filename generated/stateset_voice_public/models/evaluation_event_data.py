from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EvaluationEventData")


@_attrs_define
class EvaluationEventData:
    """
    Attributes:
        evaluation_id (str):
        session_id (str):
        call_id (str):
        score (float):
        passed (bool):
    """

    evaluation_id: str
    session_id: str
    call_id: str
    score: float
    passed: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        evaluation_id = self.evaluation_id

        session_id = self.session_id

        call_id = self.call_id

        score = self.score

        passed = self.passed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "evaluation_id": evaluation_id,
                "session_id": session_id,
                "call_id": call_id,
                "score": score,
                "passed": passed,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        evaluation_id = d.pop("evaluation_id")

        session_id = d.pop("session_id")

        call_id = d.pop("call_id")

        score = d.pop("score")

        passed = d.pop("passed")

        evaluation_event_data = cls(
            evaluation_id=evaluation_id,
            session_id=session_id,
            call_id=call_id,
            score=score,
            passed=passed,
        )

        evaluation_event_data.additional_properties = d
        return evaluation_event_data

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
