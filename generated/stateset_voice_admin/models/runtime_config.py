from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.telephony_defaults import TelephonyDefaults


T = TypeVar("T", bound="RuntimeConfig")


@_attrs_define
class RuntimeConfig:
    """
    Attributes:
        tenant_id (str):
        model (str):
        voice (str):
        system_prompt_key (str):
        revision (int): Incremented on every update.
        updated_at (datetime.datetime):
        webhook_url (None | str | Unset):
        telephony (TelephonyDefaults | Unset): Telephony defaults for the tenant's calls.
    """

    tenant_id: str
    model: str
    voice: str
    system_prompt_key: str
    revision: int
    updated_at: datetime.datetime
    webhook_url: None | str | Unset = UNSET
    telephony: TelephonyDefaults | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tenant_id = self.tenant_id

        model = self.model

        voice = self.voice

        system_prompt_key = self.system_prompt_key

        revision = self.revision

        updated_at = self.updated_at.isoformat()

        webhook_url: None | str | Unset
        if isinstance(self.webhook_url, Unset):
            webhook_url = UNSET
        else:
            webhook_url = self.webhook_url

        telephony: dict[str, Any] | Unset = UNSET
        if not isinstance(self.telephony, Unset):
            telephony = self.telephony.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "tenant_id": tenant_id,
                "model": model,
                "voice": voice,
                "system_prompt_key": system_prompt_key,
                "revision": revision,
                "updated_at": updated_at,
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
        tenant_id = d.pop("tenant_id")

        model = d.pop("model")

        voice = d.pop("voice")

        system_prompt_key = d.pop("system_prompt_key")

        revision = d.pop("revision")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_webhook_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        webhook_url = _parse_webhook_url(d.pop("webhook_url", UNSET))

        _telephony = d.pop("telephony", UNSET)
        telephony: TelephonyDefaults | Unset
        if isinstance(_telephony, Unset):
            telephony = UNSET
        else:
            telephony = TelephonyDefaults.from_dict(_telephony)

        runtime_config = cls(
            tenant_id=tenant_id,
            model=model,
            voice=voice,
            system_prompt_key=system_prompt_key,
            revision=revision,
            updated_at=updated_at,
            webhook_url=webhook_url,
            telephony=telephony,
        )

        runtime_config.additional_properties = d
        return runtime_config

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
