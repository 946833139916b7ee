from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TwilioVoiceWebhook")


@_attrs_define
class TwilioVoiceWebhook:
    """Twilio's voice webhook parameters (form-encoded), as Twilio posts them for an inbound call.

    Attributes:
        call_sid (str):
        account_sid (str):
        from_ (str):
        to (str):
        call_status (str):
        direction (str):
        api_version (str | Unset):
        caller_name (str | Unset):
        forwarded_from (str | Unset):
    """

    call_sid: str
    account_sid: str
    from_: str
    to: str
    call_status: str
    direction: str
    api_version: str | Unset = UNSET
    caller_name: str | Unset = UNSET
    forwarded_from: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        call_sid = self.call_sid

        account_sid = self.account_sid

        from_ = self.from_

        to = self.to

        call_status = self.call_status

        direction = self.direction

        api_version = self.api_version

        caller_name = self.caller_name

        forwarded_from = self.forwarded_from

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "CallSid": call_sid,
                "AccountSid": account_sid,
                "From": from_,
                "To": to,
                "CallStatus": call_status,
                "Direction": direction,
            }
        )
        if api_version is not UNSET:
            field_dict["ApiVersion"] = api_version
        if caller_name is not UNSET:
            field_dict["CallerName"] = caller_name
        if forwarded_from is not UNSET:
            field_dict["ForwardedFrom"] = forwarded_from

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        call_sid = d.pop("CallSid")

        account_sid = d.pop("AccountSid")

        from_ = d.pop("From")

        to = d.pop("To")

        call_status = d.pop("CallStatus")

        direction = d.pop("Direction")

        api_version = d.pop("ApiVersion", UNSET)

        caller_name = d.pop("CallerName", UNSET)

        forwarded_from = d.pop("ForwardedFrom", UNSET)

        twilio_voice_webhook = cls(
            call_sid=call_sid,
            account_sid=account_sid,
            from_=from_,
            to=to,
            call_status=call_status,
            direction=direction,
            api_version=api_version,
            caller_name=caller_name,
            forwarded_from=forwarded_from,
        )

        twilio_voice_webhook.additional_properties = d
        return twilio_voice_webhook

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
