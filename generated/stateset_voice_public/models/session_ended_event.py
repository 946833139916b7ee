from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.session_event_data import SessionEventData


T = TypeVar("T", bound="SessionEndedEvent")


@_attrs_define
class SessionEndedEvent:
    """`session.ended`: The voice session ended; the transcript is final.

    Attributes:
        id (str): Unique event identifier; identical on every redelivery. Deduplicate on it.
        type_ (Literal['session.ended']):
        api_version (str): Payload version.
        occurred_at (datetime.datetime): When the event happened (not when it was delivered).
        tenant_id (str):
        data (SessionEventData):
        call_id (None | str | Unset): Call the event concerns, when any.
        session_id (None | str | Unset): Voice session the event concerns, when any.
    """

    id: str
    type_: Literal["session.ended"]
    api_version: str
    occurred_at: datetime.datetime
    tenant_id: str
    data: SessionEventData
    call_id: None | str | Unset = UNSET
    session_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        type_ = self.type_

        api_version = self.api_version

        occurred_at = self.occurred_at.isoformat()

        tenant_id = self.tenant_id

        data = self.data.to_dict()

        call_id: None | str | Unset
        if isinstance(self.call_id, Unset):
            call_id = UNSET
        else:
            call_id = self.call_id

        session_id: None | str | Unset
        if isinstance(self.session_id, Unset):
            session_id = UNSET
        else:
            session_id = self.session_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "type": type_,
                "api_version": api_version,
                "occurred_at": occurred_at,
                "tenant_id": tenant_id,
                "data": data,
            }
        )
        if call_id is not UNSET:
            field_dict["call_id"] = call_id
        if session_id is not UNSET:
            field_dict["session_id"] = session_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.session_event_data import SessionEventData  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        type_ = cast(Literal["session.ended"], d.pop("type"))
        if type_ != "session.ended":
            raise ValueError(f"type must match const 'session.ended', got '{type_}'")

        api_version = d.pop("api_version")

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        tenant_id = d.pop("tenant_id")

        data = SessionEventData.from_dict(d.pop("data"))

        def _parse_call_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        call_id = _parse_call_id(d.pop("call_id", UNSET))

        def _parse_session_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        session_id = _parse_session_id(d.pop("session_id", UNSET))

        session_ended_event = cls(
            id=id,
            type_=type_,
            api_version=api_version,
            occurred_at=occurred_at,
            tenant_id=tenant_id,
            data=data,
            call_id=call_id,
            session_id=session_id,
        )

        session_ended_event.additional_properties = d
        return session_ended_event

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
