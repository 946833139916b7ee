from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RolloutSweepRequest")


@_attrs_define
class RolloutSweepRequest:
    """
    Attributes:
        tenant_id (str | Unset): Limit the sweep to one tenant; all tenants when omitted.
        agent_key (str | Unset):
        dry_run (bool | Unset): Evaluate only; never change traffic. Default: True.
    """

    tenant_id: str | Unset = UNSET
    agent_key: str | Unset = UNSET
    dry_run: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tenant_id = self.tenant_id

        agent_key = self.agent_key

        dry_run = self.dry_run

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id
        if agent_key is not UNSET:
            field_dict["agent_key"] = agent_key
        if dry_run is not UNSET:
            field_dict["dry_run"] = dry_run

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        tenant_id = d.pop("tenant_id", UNSET)

        agent_key = d.pop("agent_key", UNSET)

        dry_run = d.pop("dry_run", UNSET)

        rollout_sweep_request = cls(
            tenant_id=tenant_id,
            agent_key=agent_key,
            dry_run=dry_run,
        )

        rollout_sweep_request.additional_properties = d
        return rollout_sweep_request

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
