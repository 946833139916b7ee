from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.qa_state import QaState
from ..models.voice_session_status import VoiceSessionStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.tool_call import ToolCall
    from ..models.transcript_turn import TranscriptTurn


T = TypeVar("T", bound="VoiceSession")


@_attrs_define
class VoiceSession:
    """The realtime conversation of one call: transcript, tool calls, tags, QA and evaluation.

    Attributes:
        session_id (str):
        call_id (str):
        agent_key (str):
        status (VoiceSessionStatus):
        started_at (datetime.datetime):
        transcript (list[TranscriptTurn]):
        function_calls (list[ToolCall]):
        tags (list[str]):
        qa_state (QaState):
        escalated (bool):
        ended_at (datetime.datetime | None | Unset):
        evaluation_score (float | None | Unset): Latest evaluation score, 0 to 1.
        escalation_reason (None | str | Unset):
        summary (None | str | Unset):
    """

    session_id: str
    call_id: str
    agent_key: str
    status: VoiceSessionStatus
    started_at: datetime.datetime
    transcript: list[TranscriptTurn]
    function_calls: list[ToolCall]
    tags: list[str]
    qa_state: QaState
    escalated: bool
    ended_at: datetime.datetime | None | Unset = UNSET
    evaluation_score: float | None | Unset = UNSET
    escalation_reason: None | str | Unset = UNSET
    summary: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        call_id = self.call_id

        agent_key = self.agent_key

        status = self.status.value

        started_at = self.started_at.isoformat()

        transcript = []
        for transcript_item_data in self.transcript:
            transcript_item = transcript_item_data.to_dict()
            transcript.append(transcript_item)

        function_calls = []
        for function_calls_item_data in self.function_calls:
            function_calls_item = function_calls_item_data.to_dict()
            function_calls.append(function_calls_item)

        tags = self.tags

        qa_state = self.qa_state.value

        escalated = self.escalated

        ended_at: None | str | Unset
        if isinstance(self.ended_at, Unset):
            ended_at = UNSET
        elif isinstance(self.ended_at, datetime.datetime):
            ended_at = self.ended_at.isoformat()
        else:
            ended_at = self.ended_at

        evaluation_score: float | None | Unset
        if isinstance(self.evaluation_score, Unset):
            evaluation_score = UNSET
        else:
            evaluation_score = self.evaluation_score

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

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "call_id": call_id,
                "agent_key": agent_key,
                "status": status,
                "started_at": started_at,
                "transcript": transcript,
                "function_calls": function_calls,
                "tags": tags,
                "qa_state": qa_state,
                "escalated": escalated,
            }
        )
        if ended_at is not UNSET:
            field_dict["ended_at"] = ended_at
        if evaluation_score is not UNSET:
            field_dict["evaluation_score"] = evaluation_score
        if escalation_reason is not UNSET:
            field_dict["escalation_reason"] = escalation_reason
        if summary is not UNSET:
            field_dict["summary"] = summary

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.tool_call import ToolCall  # noqa: PLC0415
        from ..models.transcript_turn import TranscriptTurn  # noqa: PLC0415

        d = dict(src_dict)
        session_id = d.pop("session_id")

        call_id = d.pop("call_id")

        agent_key = d.pop("agent_key")

        status = VoiceSessionStatus(d.pop("status"))

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        transcript = []
        _transcript = d.pop("transcript")
        for transcript_item_data in _transcript:
            transcript_item = TranscriptTurn.from_dict(transcript_item_data)

            transcript.append(transcript_item)

        function_calls = []
        _function_calls = d.pop("function_calls")
        for function_calls_item_data in _function_calls:
            function_calls_item = ToolCall.from_dict(function_calls_item_data)

            function_calls.append(function_calls_item)

        tags = cast(list[str], d.pop("tags"))

        qa_state = QaState(d.pop("qa_state"))

        escalated = d.pop("escalated")

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

        def _parse_evaluation_score(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        evaluation_score = _parse_evaluation_score(d.pop("evaluation_score", UNSET))

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

        voice_session = cls(
            session_id=session_id,
            call_id=call_id,
            agent_key=agent_key,
            status=status,
            started_at=started_at,
            transcript=transcript,
            function_calls=function_calls,
            tags=tags,
            qa_state=qa_state,
            escalated=escalated,
            ended_at=ended_at,
            evaluation_score=evaluation_score,
            escalation_reason=escalation_reason,
            summary=summary,
        )

        voice_session.additional_properties = d
        return voice_session

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
