from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PhoneRouteUpdate")


@_attrs_define
class PhoneRouteUpdate:
    """Fields to change; omitted fields keep their value.

    Attributes:
        agent_key (str | Unset):
        fallback_number (None | str | Unset):
        enabled (bool | Unset):
    """

    agent_key: str | Unset = UNSET
    fallback_number: None | str | Unset = UNSET
    enabled: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        agent_key = self.agent_key

        fallback_number: None | str | Unset
        if isinstance(self.fallback_number, Unset):
            fallback_number = UNSET
        else:
            fallback_number = self.fallback_number

        enabled = self.enabled

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if agent_key is not UNSET:
            field_dict["agent_key"] = agent_key
        if fallback_number is not UNSET:
            field_dict["fallback_number"] = fallback_number
        if enabled is not UNSET:
            field_dict["enabled"] = enabled

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        agent_key = d.pop("agent_key", UNSET)

        def _parse_fallback_number(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        fallback_number = _parse_fallback_number(d.pop("fallback_number", UNSET))

        enabled = d.pop("enabled", UNSET)

        phone_route_update = cls(
            agent_key=agent_key,
            fallback_number=fallback_number,
            enabled=enabled,
        )

        phone_route_update.additional_properties = d
        return phone_route_update

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
