from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PhoneRoute")


@_attrs_define
class PhoneRoute:
    """An inbound number mapped to a tenant and agent.

    Attributes:
        route_id (str):
        phone_number (str): E.164 phone number.
        tenant_id (str):
        agent_key (str):
        enabled (bool):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        fallback_number (None | str | Unset):
    """

    route_id: str
    phone_number: str
    tenant_id: str
    agent_key: str
    enabled: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    fallback_number: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        route_id = self.route_id

        phone_number = self.phone_number

        tenant_id = self.tenant_id

        agent_key = self.agent_key

        enabled = self.enabled

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        fallback_number: None | str | Unset
        if isinstance(self.fallback_number, Unset):
            fallback_number = UNSET
        else:
            fallback_number = self.fallback_number

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "route_id": route_id,
                "phone_number": phone_number,
                "tenant_id": tenant_id,
                "agent_key": agent_key,
                "enabled": enabled,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if fallback_number is not UNSET:
            field_dict["fallback_number"] = fallback_number

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        route_id = d.pop("route_id")

        phone_number = d.pop("phone_number")

        tenant_id = d.pop("tenant_id")

        agent_key = d.pop("agent_key")

        enabled = d.pop("enabled")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_fallback_number(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        fallback_number = _parse_fallback_number(d.pop("fallback_number", UNSET))

        phone_route = cls(
            route_id=route_id,
            phone_number=phone_number,
            tenant_id=tenant_id,
            agent_key=agent_key,
            enabled=enabled,
            created_at=created_at,
            updated_at=updated_at,
            fallback_number=fallback_number,
        )

        phone_route.additional_properties = d
        return phone_route

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
