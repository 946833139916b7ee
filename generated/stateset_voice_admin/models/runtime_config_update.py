from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.telephony_defaults import TelephonyDefaults


T = TypeVar("T", bound="RuntimeConfigUpdate")


@_attrs_define
class RuntimeConfigUpdate:
    """The tenant's runtime behaviour: replaces the whole configuration.

    Attributes:
        model (str): Realtime model, e.g. `gpt-realtime`.
        voice (str): Voice, e.g. `alloy`.
        system_prompt_key (str): Key of the approved system prompt.
        webhook_url (str | Unset): Where webhook events are delivered (https).
        telephony (TelephonyDefaults | Unset): Telephony defaults for the tenant's calls.
    """

    model: str
    voice: str
    system_prompt_key: str
    webhook_url: str | Unset = UNSET
    telephony: TelephonyDefaults | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        voice = self.voice

        system_prompt_key = self.system_prompt_key

        webhook_url = self.webhook_url

        telephony: dict[str, Any] | Unset = UNSET
        if not isinstance(self.telephony, Unset):
            telephony = self.telephony.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "voice": voice,
                "system_prompt_key": system_prompt_key,
            }
        )
        if webhook_url is not UNSET:
            field_dict["webhook_url"] = webhook_url
        if telephony is not UNSET:
            field_dict["telephony"] = telephony

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.telephony_defaults import TelephonyDefaults  # noqa: PLC0415

        d = dict(src_dict)
        model = d.pop("model")

        voice = d.pop("voice")

        system_prompt_key = d.pop("system_prompt_key")

        webhook_url = d.pop("webhook_url", UNSET)

        _telephony = d.pop("telephony", UNSET)
        telephony: TelephonyDefaults | Unset
        if isinstance(_telephony, Unset):
            telephony = UNSET
        else:
            telephony = TelephonyDefaults.from_dict(_telephony)

        runtime_config_update = cls(
            model=model,
            voice=voice,
            system_prompt_key=system_prompt_key,
            webhook_url=webhook_url,
            telephony=telephony,
        )

        runtime_config_update.additional_properties = d
        return runtime_config_update

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
