from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.call_direction import CallDirection
from ..models.call_status import CallStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.call_metadata import CallMetadata


T = TypeVar("T", bound="CallEventData")


@_attrs_define
class CallEventData:
    """
    Attributes:
        call_id (str):
        status (CallStatus): Lifecycle of a call: queued -> ringing -> in-progress -> completed, or an early end (no-
            answer, busy, failed, canceled).
        direction (CallDirection):
        agent_key (str):
        duration_seconds (int | None | Unset):
        failure_reason (None | str | Unset):
        metadata (CallMetadata | Unset): Caller-defined key/value pairs (at most 50 keys; JSON scalars), echoed on call
            logs and webhook events.
    """

    call_id: str
    status: CallStatus
    direction: CallDirection
    agent_key: str
    duration_seconds: int | None | Unset = UNSET
    failure_reason: None | str | Unset = UNSET
    metadata: CallMetadata | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        call_id = self.call_id

        status = self.status.value

        direction = self.direction.value

        agent_key = self.agent_key

        duration_seconds: int | None | Unset
        if isinstance(self.duration_seconds, Unset):
            duration_seconds = UNSET
        else:
            duration_seconds = self.duration_seconds

        failure_reason: None | str | Unset
        if isinstance(self.failure_reason, Unset):
            failure_reason = UNSET
        else:
            failure_reason = self.failure_reason

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
                "agent_key": agent_key,
            }
        )
        if duration_seconds is not UNSET:
            field_dict["duration_seconds"] = duration_seconds
        if failure_reason is not UNSET:
            field_dict["failure_reason"] = failure_reason
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

        agent_key = d.pop("agent_key")

        def _parse_duration_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        duration_seconds = _parse_duration_seconds(d.pop("duration_seconds", UNSET))

        def _parse_failure_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        failure_reason = _parse_failure_reason(d.pop("failure_reason", UNSET))

        _metadata = d.pop("metadata", UNSET)
        metadata: CallMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = CallMetadata.from_dict(_metadata)

        call_event_data = cls(
            call_id=call_id,
            status=status,
            direction=direction,
            agent_key=agent_key,
            duration_seconds=duration_seconds,
            failure_reason=failure_reason,
            metadata=metadata,
        )

        call_event_data.additional_properties = d
        return call_event_data

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
