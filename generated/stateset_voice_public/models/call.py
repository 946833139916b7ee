from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.call_status import CallStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.call_metadata import CallMetadata


T = TypeVar("T", bound="Call")


@_attrs_define
class Call:
    """A call as created by make-call. Persist `call_id` with the business record: call logs, voice sessions and webhook
    events carry it.

        Attributes:
            call_id (str): Call identifier.
            status (CallStatus): Lifecycle of a call: queued -> ringing -> in-progress -> completed, or an early end (no-
                answer, busy, failed, canceled).
            to (str): E.164 phone number, e.g. `+15555555678`.
            from_ (str): E.164 phone number, e.g. `+15555555678`.
            agent_key (str):
            created_at (datetime.datetime):
            session_id (None | str | Unset): Voice session, once the call is answered.
            metadata (CallMetadata | Unset): Caller-defined key/value pairs (at most 50 keys; JSON scalars), echoed on call
                logs and webhook events.
    """

    call_id: str
    status: CallStatus
    to: str
    from_: str
    agent_key: str
    created_at: datetime.datetime
    session_id: None | str | Unset = UNSET
    metadata: CallMetadata | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        call_id = self.call_id

        status = self.status.value

        to = self.to

        from_ = self.from_

        agent_key = self.agent_key

        created_at = self.created_at.isoformat()

        session_id: None | str | Unset
        if isinstance(self.session_id, Unset):
            session_id = UNSET
        else:
            session_id = self.session_id

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "call_id": call_id,
                "status": status,
                "to": to,
                "from": from_,
                "agent_key": agent_key,
                "created_at": created_at,
            }
        )
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.call_metadata import CallMetadata  # noqa: PLC0415

        d = dict(src_dict)
        call_id = d.pop("call_id")

        status = CallStatus(d.pop("status"))

        to = d.pop("to")

        from_ = d.pop("from")

        agent_key = d.pop("agent_key")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_session_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        session_id = _parse_session_id(d.pop("session_id", UNSET))

        _metadata = d.pop("metadata", UNSET)
        metadata: CallMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = CallMetadata.from_dict(_metadata)

        call = cls(
            call_id=call_id,
            status=status,
            to=to,
            from_=from_,
            agent_key=agent_key,
            created_at=created_at,
            session_id=session_id,
            metadata=metadata,
        )

        call.additional_properties = d
        return call

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
