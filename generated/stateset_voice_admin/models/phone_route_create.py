from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PhoneRouteCreate")


@_attrs_define
class PhoneRouteCreate:
    """
    Attributes:
        phone_number (str): Inbound number, E.164.
        tenant_id (str):
        agent_key (str):
        fallback_number (str | Unset): Where calls go when the agent is unavailable.
        enabled (bool | Unset):  Default: True.
    """

    phone_number: str
    tenant_id: str
    agent_key: str
    fallback_number: str | Unset = UNSET
    enabled: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        phone_number = self.phone_number

        tenant_id = self.tenant_id

        agent_key = self.agent_key

        fallback_number = self.fallback_number

        enabled = self.enabled

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "phone_number": phone_number,
                "tenant_id": tenant_id,
                "agent_key": agent_key,
            }
        )
        if fallback_number is not UNSET:
            field_dict["fallback_number"] = fallback_number
        if enabled is not UNSET:
            field_dict["enabled"] = enabled

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        phone_number = d.pop("phone_number")

        tenant_id = d.pop("tenant_id")

        agent_key = d.pop("agent_key")

        fallback_number = d.pop("fallback_number", UNSET)

        enabled = d.pop("enabled", UNSET)

        phone_route_create = cls(
            phone_number=phone_number,
            tenant_id=tenant_id,
            agent_key=agent_key,
            fallback_number=fallback_number,
            enabled=enabled,
        )

        phone_route_create.additional_properties = d
        return phone_route_create

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
