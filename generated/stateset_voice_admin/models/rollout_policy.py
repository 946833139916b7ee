from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.rollout_stage import RolloutStage

T = TypeVar("T", bound="RolloutPolicy")


@_attrs_define
class RolloutPolicy:
    """
    Attributes:
        tenant_id (str):
        stage (RolloutStage):
        traffic_percent (int):
        min_synthetic_calls (int):
        min_signature_verification_rate (float):
        max_duplicate_outbound_calls (int):
        max_error_rate (float):
        require_approval (bool):
        updated_at (datetime.datetime):
    """

    tenant_id: str
    stage: RolloutStage
    traffic_percent: int
    min_synthetic_calls: int
    min_signature_verification_rate: float
    max_duplicate_outbound_calls: int
    max_error_rate: float
    require_approval: bool
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tenant_id = self.tenant_id

        stage = self.stage.value

        traffic_percent = self.traffic_percent

        min_synthetic_calls = self.min_synthetic_calls

        min_signature_verification_rate = self.min_signature_verification_rate

        max_duplicate_outbound_calls = self.max_duplicate_outbound_calls

        max_error_rate = self.max_error_rate

        require_approval = self.require_approval

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "tenant_id": tenant_id,
                "stage": stage,
                "traffic_percent": traffic_percent,
                "min_synthetic_calls": min_synthetic_calls,
                "min_signature_verification_rate": min_signature_verification_rate,
                "max_duplicate_outbound_calls": max_duplicate_outbound_calls,
                "max_error_rate": max_error_rate,
                "require_approval": require_approval,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        tenant_id = d.pop("tenant_id")

        stage = RolloutStage(d.pop("stage"))

        traffic_percent = d.pop("traffic_percent")

        min_synthetic_calls = d.pop("min_synthetic_calls")

        min_signature_verification_rate = d.pop("min_signature_verification_rate")

        max_duplicate_outbound_calls = d.pop("max_duplicate_outbound_calls")

        max_error_rate = d.pop("max_error_rate")

        require_approval = d.pop("require_approval")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        rollout_policy = cls(
            tenant_id=tenant_id,
            stage=stage,
            traffic_percent=traffic_percent,
            min_synthetic_calls=min_synthetic_calls,
            min_signature_verification_rate=min_signature_verification_rate,
            max_duplicate_outbound_calls=max_duplicate_outbound_calls,
            max_error_rate=max_error_rate,
            require_approval=require_approval,
            updated_at=updated_at,
        )

        rollout_policy.additional_properties = d
        return rollout_policy

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
