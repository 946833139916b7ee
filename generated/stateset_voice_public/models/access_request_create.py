from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AccessRequestCreate")


@_attrs_define
class AccessRequestCreate:
    """
    Attributes:
        company (str):
        contact_name (str):
        email (str):
        use_case (str): The Voice AI Agent workflow to build.
        expected_monthly_minutes (int | Unset):
        launch_timeline (str | Unset): When production traffic should start, e.g. `Q1 2027`.
    """

    company: str
    contact_name: str
    email: str
    use_case: str
    expected_monthly_minutes: int | Unset = UNSET
    launch_timeline: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        company = self.company

        contact_name = self.contact_name

        email = self.email

        use_case = self.use_case

        expected_monthly_minutes = self.expected_monthly_minutes

        launch_timeline = self.launch_timeline

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "company": company,
                "contact_name": contact_name,
                "email": email,
                "use_case": use_case,
            }
        )
        if expected_monthly_minutes is not UNSET:
            field_dict["expected_monthly_minutes"] = expected_monthly_minutes
        if launch_timeline is not UNSET:
            field_dict["launch_timeline"] = launch_timeline

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        company = d.pop("company")

        contact_name = d.pop("contact_name")

        email = d.pop("email")

        use_case = d.pop("use_case")

        expected_monthly_minutes = d.pop("expected_monthly_minutes", UNSET)

        launch_timeline = d.pop("launch_timeline", UNSET)

        access_request_create = cls(
            company=company,
            contact_name=contact_name,
            email=email,
            use_case=use_case,
            expected_monthly_minutes=expected_monthly_minutes,
            launch_timeline=launch_timeline,
        )

        access_request_create.additional_properties = d
        return access_request_create

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
