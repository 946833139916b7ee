from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.evaluation_evaluator import EvaluationEvaluator

if TYPE_CHECKING:
    from ..models.evaluation_criterion import EvaluationCriterion


T = TypeVar("T", bound="Evaluation")


@_attrs_define
class Evaluation:
    """A QA evaluation of one voice session.

    Attributes:
        evaluation_id (str):
        session_id (str):
        call_id (str):
        score (float):
        passed (bool):
        evaluator (EvaluationEvaluator):
        criteria (list[EvaluationCriterion]):
        created_at (datetime.datetime):
    """

    evaluation_id: str
    session_id: str
    call_id: str
    score: float
    passed: bool
    evaluator: EvaluationEvaluator
    criteria: list[EvaluationCriterion]
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        evaluation_id = self.evaluation_id

        session_id = self.session_id

        call_id = self.call_id

        score = self.score

        passed = self.passed

        evaluator = self.evaluator.value

        criteria = []
        for criteria_item_data in self.criteria:
            criteria_item = criteria_item_data.to_dict()
            criteria.append(criteria_item)

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "evaluation_id": evaluation_id,
                "session_id": session_id,
                "call_id": call_id,
                "score": score,
                "passed": passed,
                "evaluator": evaluator,
                "criteria": criteria,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.evaluation_criterion import EvaluationCriterion  # noqa: PLC0415

        d = dict(src_dict)
        evaluation_id = d.pop("evaluation_id")

        session_id = d.pop("session_id")

        call_id = d.pop("call_id")

        score = d.pop("score")

        passed = d.pop("passed")

        evaluator = EvaluationEvaluator(d.pop("evaluator"))

        criteria = []
        _criteria = d.pop("criteria")
        for criteria_item_data in _criteria:
            criteria_item = EvaluationCriterion.from_dict(criteria_item_data)

            criteria.append(criteria_item)

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        evaluation = cls(
            evaluation_id=evaluation_id,
            session_id=session_id,
            call_id=call_id,
            score=score,
            passed=passed,
            evaluator=evaluator,
            criteria=criteria,
            created_at=created_at,
        )

        evaluation.additional_properties = d
        return evaluation

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
