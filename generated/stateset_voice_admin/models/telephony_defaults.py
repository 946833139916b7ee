from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TelephonyDefaults")


@_attrs_define
class TelephonyDefaults:
    """Telephony defaults for the tenant's calls.

    Attributes:
        default_from_number (str | Unset): Caller ID used when make-call omits `from`.
        recording_enabled (bool | Unset):
        max_call_duration_seconds (int | Unset):
        answering_machine_detection (bool | Unset):
    """

    default_from_number: str | Unset = UNSET
    recording_enabled: bool | Unset = UNSET
    max_call_duration_seconds: int | Unset = UNSET
    answering_machine_detection: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        default_from_number = self.default_from_number

        recording_enabled = self.recording_enabled

        max_call_duration_seconds = self.max_call_duration_seconds

        answering_machine_detection = self.answering_machine_detection

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if default_from_number is not UNSET:
            field_dict["default_from_number"] = default_from_number
        if recording_enabled is not UNSET:
            field_dict["recording_enabled"] = recording_enabled
        if max_call_duration_seconds is not UNSET:
            field_dict["max_call_duration_seconds"] = max_call_duration_seconds
        if answering_machine_detection is not UNSET:
            field_dict["answering_machine_detection"] = answering_machine_detection

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        default_from_number = d.pop("default_from_number", UNSET)

        recording_enabled = d.pop("recording_enabled", UNSET)

        max_call_duration_seconds = d.pop("max_call_duration_seconds", UNSET)

        answering_machine_detection = d.pop("answering_machine_detection", UNSET)

        telephony_defaults = cls(
            default_from_number=default_from_number,
            recording_enabled=recording_enabled,
            max_call_duration_seconds=max_call_duration_seconds,
            answering_machine_detection=answering_machine_detection,
        )

        telephony_defaults.additional_properties = d
        return telephony_defaults

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
