from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.tool_call_status import ToolCallStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.tool_call_arguments import ToolCallArguments
    from ..models.tool_call_result import ToolCallResult


T = TypeVar("T", bound="ToolCall")


@_attrs_define
class ToolCall:
    """A function/tool call the agent made during the session.

    Attributes:
        name (str):
        arguments (ToolCallArguments):
        status (ToolCallStatus):
        started_ms (int):
        result (None | ToolCallResult | Unset):
        duration_ms (int | Unset):
    """

    name: str
    arguments: ToolCallArguments
    status: ToolCallStatus
    started_ms: int
    result: None | ToolCallResult | Unset = UNSET
    duration_ms: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.tool_call_result import ToolCallResult  # noqa: PLC0415

        name = self.name

        arguments = self.arguments.to_dict()

        status = self.status.value

        started_ms = self.started_ms

        result: dict[str, Any] | None | Unset
        if isinstance(self.result, Unset):
            result = UNSET
        elif isinstance(self.result, ToolCallResult):
            result = self.result.to_dict()
        else:
            result = self.result

        duration_ms = self.duration_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "arguments": arguments,
                "status": status,
                "started_ms": started_ms,
            }
        )
        if result is not UNSET:
            field_dict["result"] = result
        if duration_ms is not UNSET:
            field_dict["duration_ms"] = duration_ms

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.tool_call_arguments import ToolCallArguments  # noqa: PLC0415
        from ..models.tool_call_result import ToolCallResult  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        arguments = ToolCallArguments.from_dict(d.pop("arguments"))

        status = ToolCallStatus(d.pop("status"))

        started_ms = d.pop("started_ms")

        def _parse_result(data: object) -> None | ToolCallResult | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = ToolCallResult.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ToolCallResult | Unset, data)

        result = _parse_result(d.pop("result", UNSET))

        duration_ms = d.pop("duration_ms", UNSET)

        tool_call = cls(
            name=name,
            arguments=arguments,
            status=status,
            started_ms=started_ms,
            result=result,
            duration_ms=duration_ms,
        )

        tool_call.additional_properties = d
        return tool_call

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
