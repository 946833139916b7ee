from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AgentVersionCreate")


@_attrs_define
class AgentVersionCreate:
    """
    Attributes:
        agent_key (str):
        model (str):
        voice (str):
        system_prompt_key (str):
        tenant_id (str | Unset): Tenant that owns the agent.
        notes (str | Unset):
    """

    agent_key: str
    model: str
    voice: str
    system_prompt_key: str
    tenant_id: str | Unset = UNSET
    notes: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        agent_key = self.agent_key

        model = self.model

        voice = self.voice

        system_prompt_key = self.system_prompt_key

        tenant_id = self.tenant_id

        notes = self.notes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "agent_key": agent_key,
                "model": model,
                "voice": voice,
                "system_prompt_key": system_prompt_key,
            }
        )
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id
        if notes is not UNSET:
            field_dict["notes"] = notes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        agent_key = d.pop("agent_key")

        model = d.pop("model")

        voice = d.pop("voice")

        system_prompt_key = d.pop("system_prompt_key")

        tenant_id = d.pop("tenant_id", UNSET)

        notes = d.pop("notes", UNSET)

        agent_version_create = cls(
            agent_key=agent_key,
            model=model,
            voice=voice,
            system_prompt_key=system_prompt_key,
            tenant_id=tenant_id,
            notes=notes,
        )

        agent_version_create.additional_properties = d
        return agent_version_create

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
