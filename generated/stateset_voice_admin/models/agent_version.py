from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.agent_version_status import AgentVersionStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="AgentVersion")


@_attrs_define
class AgentVersion:
    """
    Attributes:
        version_id (str):
        tenant_id (str):
        agent_key (str):
        version (int):
        status (AgentVersionStatus): staged -> approved -> published; a published version is retired when another is
            published.
        model (str):
        voice (str):
        system_prompt_key (str):
        created_at (datetime.datetime):
        traffic_percent (int):
        notes (None | str | Unset):
        approved_by (None | str | Unset):
        approved_at (datetime.datetime | None | Unset):
        published_at (datetime.datetime | None | Unset):
    """

    version_id: str
    tenant_id: str
    agent_key: str
    version: int
    status: AgentVersionStatus
    model: str
    voice: str
    system_prompt_key: str
    created_at: datetime.datetime
    traffic_percent: int
    notes: None | str | Unset = UNSET
    approved_by: None | str | Unset = UNSET
    approved_at: datetime.datetime | None | Unset = UNSET
    published_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        version_id = self.version_id

        tenant_id = self.tenant_id

        agent_key = self.agent_key

        version = self.version

        status = self.status.value

        model = self.model

        voice = self.voice

        system_prompt_key = self.system_prompt_key

        created_at = self.created_at.isoformat()

        traffic_percent = self.traffic_percent

        notes: None | str | Unset
        if isinstance(self.notes, Unset):
            notes = UNSET
        else:
            notes = self.notes

        approved_by: None | str | Unset
        if isinstance(self.approved_by, Unset):
            approved_by = UNSET
        else:
            approved_by = self.approved_by

        approved_at: None | str | Unset
        if isinstance(self.approved_at, Unset):
            approved_at = UNSET
        elif isinstance(self.approved_at, datetime.datetime):
            approved_at = self.approved_at.isoformat()
        else:
            approved_at = self.approved_at

        published_at: None | str | Unset
        if isinstance(self.published_at, Unset):
            published_at = UNSET
        elif isinstance(self.published_at, datetime.datetime):
            published_at = self.published_at.isoformat()
        else:
            published_at = self.published_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "version_id": version_id,
                "tenant_id": tenant_id,
                "agent_key": agent_key,
                "version": version,
                "status": status,
                "model": model,
                "voice": voice,
                "system_prompt_key": system_prompt_key,
                "created_at": created_at,
                "traffic_percent": traffic_percent,
            }
        )
        if notes is not UNSET:
            field_dict["notes"] = notes
        if approved_by is not UNSET:
            field_dict["approved_by"] = approved_by
        if approved_at is not UNSET:
            field_dict["approved_at"] = approved_at
        if published_at is not UNSET:
            field_dict["published_at"] = published_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        version_id = d.pop("version_id")

        tenant_id = d.pop("tenant_id")

        agent_key = d.pop("agent_key")

        version = d.pop("version")

        status = AgentVersionStatus(d.pop("status"))

        model = d.pop("model")

        voice = d.pop("voice")

        system_prompt_key = d.pop("system_prompt_key")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        traffic_percent = d.pop("traffic_percent")

        def _parse_notes(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        notes = _parse_notes(d.pop("notes", UNSET))

        def _parse_approved_by(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        approved_by = _parse_approved_by(d.pop("approved_by", UNSET))

        def _parse_approved_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                approved_at_type_0 = datetime.datetime.fromisoformat(data)

                return approved_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        approved_at = _parse_approved_at(d.pop("approved_at", UNSET))

        def _parse_published_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                published_at_type_0 = datetime.datetime.fromisoformat(data)

                return published_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        published_at = _parse_published_at(d.pop("published_at", UNSET))

        agent_version = cls(
            version_id=version_id,
            tenant_id=tenant_id,
            agent_key=agent_key,
            version=version,
            status=status,
            model=model,
            voice=voice,
            system_prompt_key=system_prompt_key,
            created_at=created_at,
            traffic_percent=traffic_percent,
            notes=notes,
            approved_by=approved_by,
            approved_at=approved_at,
            published_at=published_at,
        )

        agent_version.additional_properties = d
        return agent_version

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
