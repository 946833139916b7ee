from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.rollout_sweep_result_decision import RolloutSweepResultDecision
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.rollout_gate_result import RolloutGateResult


T = TypeVar("T", bound="RolloutSweepResult")


@_attrs_define
class RolloutSweepResult:
    """
    Attributes:
        sweep_id (str):
        evaluated_at (datetime.datetime):
        dry_run (bool):
        decision (RolloutSweepResultDecision):
        gates (list[RolloutGateResult]):
        tenant_id (None | str | Unset):
    """

    sweep_id: str
    evaluated_at: datetime.datetime
    dry_run: bool
    decision: RolloutSweepResultDecision
    gates: list[RolloutGateResult]
    tenant_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        sweep_id = self.sweep_id

        evaluated_at = self.evaluated_at.isoformat()

        dry_run = self.dry_run

        decision = self.decision.value

        gates = []
        for gates_item_data in self.gates:
            gates_item = gates_item_data.to_dict()
            gates.append(gates_item)

        tenant_id: None | str | Unset
        if isinstance(self.tenant_id, Unset):
            tenant_id = UNSET
        else:
            tenant_id = self.tenant_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sweep_id": sweep_id,
                "evaluated_at": evaluated_at,
                "dry_run": dry_run,
                "decision": decision,
                "gates": gates,
            }
        )
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.rollout_gate_result import RolloutGateResult  # noqa: PLC0415

        d = dict(src_dict)
        sweep_id = d.pop("sweep_id")

        evaluated_at = datetime.datetime.fromisoformat(d.pop("evaluated_at"))

        dry_run = d.pop("dry_run")

        decision = RolloutSweepResultDecision(d.pop("decision"))

        gates = []
        _gates = d.pop("gates")
        for gates_item_data in _gates:
            gates_item = RolloutGateResult.from_dict(gates_item_data)

            gates.append(gates_item)

        def _parse_tenant_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tenant_id = _parse_tenant_id(d.pop("tenant_id", UNSET))

        rollout_sweep_result = cls(
            sweep_id=sweep_id,
            evaluated_at=evaluated_at,
            dry_run=dry_run,
            decision=decision,
            gates=gates,
            tenant_id=tenant_id,
        )

        rollout_sweep_result.additional_properties = d
        return rollout_sweep_result

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
