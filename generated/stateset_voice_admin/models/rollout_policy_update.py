from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.rollout_stage import RolloutStage
from ..types import UNSET, Unset

T = TypeVar("T", bound="RolloutPolicyUpdate")


@_attrs_define
class RolloutPolicyUpdate:
    """Launch gates evaluated by the rollout-governance sweep.

    Attributes:
        stage (RolloutStage):
        traffic_percent (int):
        min_synthetic_calls (int | Unset):  Default: 20.
        min_signature_verification_rate (float | Unset):  Default: 0.95.
        max_duplicate_outbound_calls (int | Unset):  Default: 0.
        max_error_rate (float | Unset):  Default: 0.02.
        require_approval (bool | Unset):  Default: True.
    """

    stage: RolloutStage
    traffic_percent: int
    min_synthetic_calls: int | Unset = 20
    min_signature_verification_rate: float | Unset = 0.95
    max_duplicate_outbound_calls: int | Unset = 0
    max_error_rate: float | Unset = 0.02
    require_approval: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        stage = self.stage.value

        traffic_percent = self.traffic_percent

        min_synthetic_calls = self.min_synthetic_calls

        min_signature_verification_rate = self.min_signature_verification_rate

        max_duplicate_outbound_calls = self.max_duplicate_outbound_calls

        max_error_rate = self.max_error_rate

        require_approval = self.require_approval

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "stage": stage,
                "traffic_percent": traffic_percent,
            }
        )
        if min_synthetic_calls is not UNSET:
            field_dict["min_synthetic_calls"] = min_synthetic_calls
        if min_signature_verification_rate is not UNSET:
            field_dict["min_signature_verification_rate"] = (
                min_signature_verification_rate
            )
        if max_duplicate_outbound_calls is not UNSET:
            field_dict["max_duplicate_outbound_calls"] = max_duplicate_outbound_calls
        if max_error_rate is not UNSET:
            field_dict["max_error_rate"] = max_error_rate
        if require_approval is not UNSET:
            field_dict["require_approval"] = require_approval

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        stage = RolloutStage(d.pop("stage"))

        traffic_percent = d.pop("traffic_percent")

        min_synthetic_calls = d.pop("min_synthetic_calls", UNSET)

        min_signature_verification_rate = d.pop(
            "min_signature_verification_rate", UNSET
        )

        max_duplicate_outbound_calls = d.pop("max_duplicate_outbound_calls", UNSET)

        max_error_rate = d.pop("max_error_rate", UNSET)

        require_approval = d.pop("require_approval", UNSET)

        rollout_policy_update = cls(
            stage=stage,
            traffic_percent=traffic_percent,
            min_synthetic_calls=min_synthetic_calls,
            min_signature_verification_rate=min_signature_verification_rate,
            max_duplicate_outbound_calls=max_duplicate_outbound_calls,
            max_error_rate=max_error_rate,
            require_approval=require_approval,
        )

        rollout_policy_update.additional_properties = d
        return rollout_policy_update

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
