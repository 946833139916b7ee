from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.call_metadata import CallMetadata


T = TypeVar("T", bound="MakeCallRequest")


@_attrs_define
class MakeCallRequest:
    """
    Attributes:
        to (str): Number to call, E.164.
        from_ (str): Caller ID: a number provisioned for the tenant, E.164.
        agent_key (str): The tenant's agent to run the call, e.g. `support_primary`.
        greeting (str | Unset): First sentence the agent speaks when the call is answered.
        metadata (CallMetadata | Unset): Caller-defined key/value pairs (at most 50 keys; JSON scalars), echoed on call
            logs and webhook events.
    """

    to: str
    from_: str
    agent_key: str
    greeting: str | Unset = UNSET
    metadata: CallMetadata | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        to = self.to

        from_ = self.from_

        agent_key = self.agent_key

        greeting = self.greeting

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "to": to,
                "from": from_,
                "agent_key": agent_key,
            }
        )
        if greeting is not UNSET:
            field_dict["greeting"] = greeting
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.call_metadata import CallMetadata  # noqa: PLC0415

        d = dict(src_dict)
        to = d.pop("to")

        from_ = d.pop("from")

        agent_key = d.pop("agent_key")

        greeting = d.pop("greeting", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: CallMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = CallMetadata.from_dict(_metadata)

        make_call_request = cls(
            to=to,
            from_=from_,
            agent_key=agent_key,
            greeting=greeting,
            metadata=metadata,
        )

        make_call_request.additional_properties = d
        return make_call_request

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
