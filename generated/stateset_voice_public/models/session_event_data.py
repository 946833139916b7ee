from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.voice_session_status import VoiceSessionStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="SessionEventData")


@_attrs_define
class SessionEventData:
    """
    Attributes:
        session_id (str):
        call_id (str):
        agent_key (str):
        status (VoiceSessionStatus):
        summary (None | str | Unset):
        escalation_reason (None | str | Unset):
        tags (list[str] | Unset):
    """

    session_id: str
    call_id: str
    agent_key: str
    status: VoiceSessionStatus
    summary: None | str | Unset = UNSET
    escalation_reason: None | str | Unset = UNSET
    tags: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        call_id = self.call_id

        agent_key = self.agent_key

        status = self.status.value

        summary: None | str | Unset
        if isinstance(self.summary, Unset):
            summary = UNSET
        else:
            summary = self.summary

        escalation_reason: None | str | Unset
        if isinstance(self.escalation_reason, Unset):
            escalation_reason = UNSET
        else:
            escalation_reason = self.escalation_reason

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "call_id": call_id,
                "agent_key": agent_key,
                "status": status,
            }
        )
        if summary is not UNSET:
            field_dict["summary"] = summary
        if escalation_reason is not UNSET:
            field_dict["escalation_reason"] = escalation_reason
        if tags is not UNSET:
            field_dict["tags"] = tags

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        session_id = d.pop("session_id")

        call_id = d.pop("call_id")

        agent_key = d.pop("agent_key")

        status = VoiceSessionStatus(d.pop("status"))

        def _parse_summary(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        summary = _parse_summary(d.pop("summary", UNSET))

        def _parse_escalation_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        escalation_reason = _parse_escalation_reason(d.pop("escalation_reason", UNSET))

        tags = cast(list[str], d.pop("tags", UNSET))

        session_event_data = cls(
            session_id=session_id,
            call_id=call_id,
            agent_key=agent_key,
            status=status,
            summary=summary,
            escalation_reason=escalation_reason,
            tags=tags,
        )

        session_event_data.additional_properties = d
        return session_event_data

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
