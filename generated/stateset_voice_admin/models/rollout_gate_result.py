from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.rollout_gate_result_status import RolloutGateResultStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="RolloutGateResult")


@_attrs_define
class RolloutGateResult:
    """
    Attributes:
        gate (str): e.g. `synthetic_calls`, `signature_verification_rate`, `duplicate_outbound_calls`, `error_rate`,
            `approval`.
        status (RolloutGateResultStatus):
        observed (float):
        threshold (float):
        detail (None | str | Unset):
    """

    gate: str
    status: RolloutGateResultStatus
    observed: float
    threshold: float
    detail: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        gate = self.gate

        status = self.status.value

        observed = self.observed

        threshold = self.threshold

        detail: None | str | Unset
        if isinstance(self.detail, Unset):
            detail = UNSET
        else:
            detail = self.detail

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "gate": gate,
                "status": status,
                "observed": observed,
                "threshold": threshold,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        gate = d.pop("gate")

        status = RolloutGateResultStatus(d.pop("status"))

        observed = d.pop("observed")

        threshold = d.pop("threshold")

        def _parse_detail(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        detail = _parse_detail(d.pop("detail", UNSET))

        rollout_gate_result = cls(
            gate=gate,
            status=status,
            observed=observed,
            threshold=threshold,
            detail=detail,
        )

        rollout_gate_result.additional_properties = d
        return rollout_gate_result

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
