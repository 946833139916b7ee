from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.transcript_turn_speaker import TranscriptTurnSpeaker
from ..types import UNSET, Unset

T = TypeVar("T", bound="TranscriptTurn")


@_attrs_define
class TranscriptTurn:
    """
    Attributes:
        speaker (TranscriptTurnSpeaker):
        text (str):
        start_ms (int): Offset from session start.
        end_ms (int | None | Unset):
        confidence (float | None | Unset): Speech recognition confidence for caller turns.
    """

    speaker: TranscriptTurnSpeaker
    text: str
    start_ms: int
    end_ms: int | None | Unset = UNSET
    confidence: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        speaker = self.speaker.value

        text = self.text

        start_ms = self.start_ms

        end_ms: int | None | Unset
        if isinstance(self.end_ms, Unset):
            end_ms = UNSET
        else:
            end_ms = self.end_ms

        confidence: float | None | Unset
        if isinstance(self.confidence, Unset):
            confidence = UNSET
        else:
            confidence = self.confidence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "speaker": speaker,
                "text": text,
                "start_ms": start_ms,
            }
        )
        if end_ms is not UNSET:
            field_dict["end_ms"] = end_ms
        if confidence is not UNSET:
            field_dict["confidence"] = confidence

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        speaker = TranscriptTurnSpeaker(d.pop("speaker"))

        text = d.pop("text")

        start_ms = d.pop("start_ms")

        def _parse_end_ms(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        end_ms = _parse_end_ms(d.pop("end_ms", UNSET))

        def _parse_confidence(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        confidence = _parse_confidence(d.pop("confidence", UNSET))

        transcript_turn = cls(
            speaker=speaker,
            text=text,
            start_ms=start_ms,
            end_ms=end_ms,
            confidence=confidence,
        )

        transcript_turn.additional_properties = d
        return transcript_turn

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
