from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.call_direction import CallDirection
from ..models.call_status import CallStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.call_metadata import CallMetadata


T = TypeVar("T", bound="CallLog")


@_attrs_define
class CallLog:
    """Operational record of one call.

    Attributes:
        call_id (str):
        status (CallStatus): Lifecycle of a call: queued -> ringing -> in-progress -> completed, or an early end (no-
            answer, busy, failed, canceled).
        direction (CallDirection):
        to (str): E.164 phone number, e.g. `+15555555678`.
        from_ (str): E.164 phone number, e.g. `+15555555678`.
        agent_key (str):
        duration_seconds (int | None): Talk time; null until the call ends.
        escalated (bool): Whether the call was handed to a human operator.
        created_at (datetime.datetime):
        session_id (None | str | Unset):
        escalation_reason (None | str | Unset):
        summary (None | str | Unset):
        started_at (datetime.datetime | None | Unset):
        ended_at (datetime.datetime | None | Unset):
        metadata (CallMetadata | Unset): Caller-defined key/value pairs (at most 50 keys; JSON scalars), echoed on call
            logs and webhook events.
    """

    call_id: str
    status: CallStatus
    direction: CallDirection
    to: str
    from_: str
    agent_key: str
    duration_seconds: int | None
    escalated: bool
    created_at: datetime.datetime
    session_id: None | str | Unset = UNSET
    escalation_reason: None | str | Unset = UNSET
    summary: None | str | Unset = UNSET
    started_at: datetime.datetime | None | Unset = UNSET
    ended_at: datetime.datetime | None | Unset = UNSET
    metadata: CallMetadata | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        call_id = self.call_id

        status = self.status.value

        direction = self.direction.value

        to = self.to

        from_ = self.from_

        agent_key = self.agent_key

        duration_seconds: int | None
        duration_seconds = self.duration_seconds

        escalated = self.escalated

        created_at = self.created_at.isoformat()

        session_id: None | str | Unset
        if isinstance(self.session_id, Unset):
            session_id = UNSET
        else:
            session_id = self.session_id

        escalation_reason: None | str | Unset
        if isinstance(self.escalation_reason, Unset):
            escalation_reason = UNSET
        else:
            escalation_reason = self.escalation_reason

        summary: None | str | Unset
        if isinstance(self.summary, Unset):
            summary = UNSET
        else:
            summary = self.summary

        started_at: None | str | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        elif isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        ended_at: None | str | Unset
        if isinstance(self.ended_at, Unset):
            ended_at = UNSET
        elif isinstance(self.ended_at, datetime.datetime):
            ended_at = self.ended_at.isoformat()
        else:
            ended_at = self.ended_at

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "call_id": call_id,
                "status": status,
                "direction": direction,
                "to": to,
                "from": from_,
                "agent_key": agent_key,
                "duration_seconds": duration_seconds,
                "escalated": escalated,
                "created_at": created_at,
            }
        )
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if escalation_reason is not UNSET:
            field_dict["escalation_reason"] = escalation_reason
        if summary is not UNSET:
            field_dict["summary"] = summary
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if ended_at is not UNSET:
            field_dict["ended_at"] = ended_at
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.call_metadata import CallMetadata  # noqa: PLC0415

        d = dict(src_dict)
        call_id = d.pop("call_id")

        status = CallStatus(d.pop("status"))

        direction = CallDirection(d.pop("direction"))

        to = d.pop("to")

        from_ = d.pop("from")

        agent_key = d.pop("agent_key")

        def _parse_duration_seconds(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        duration_seconds = _parse_duration_seconds(d.pop("duration_seconds"))

        escalated = d.pop("escalated")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_session_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        session_id = _parse_session_id(d.pop("session_id", UNSET))

        def _parse_escalation_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        escalation_reason = _parse_escalation_reason(d.pop("escalation_reason", UNSET))

        def _parse_summary(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        summary = _parse_summary(d.pop("summary", UNSET))

        def _parse_started_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))

        def _parse_ended_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ended_at_type_0 = datetime.datetime.fromisoformat(data)

                return ended_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        ended_at = _parse_ended_at(d.pop("ended_at", UNSET))

        _metadata = d.pop("metadata", UNSET)
        metadata: CallMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = CallMetadata.from_dict(_metadata)

        call_log = cls(
            call_id=call_id,
            status=status,
            direction=direction,
            to=to,
            from_=from_,
            agent_key=agent_key,
            duration_seconds=duration_seconds,
            escalated=escalated,
            created_at=created_at,
            session_id=session_id,
            escalation_reason=escalation_reason,
            summary=summary,
            started_at=started_at,
            ended_at=ended_at,
            metadata=metadata,
        )

        call_log.additional_properties = d
        return call_log

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
