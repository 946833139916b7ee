"""Contains all the data models used in inputs/outputs"""

from .access_request import AccessRequest
from .access_request_create import AccessRequestCreate
from .access_request_status import AccessRequestStatus
from .api_error import ApiError
from .call import Call
from .call_answered_event import CallAnsweredEvent
from .call_completed_event import CallCompletedEvent
from .call_direction import CallDirection
from .call_event_data import CallEventData
from .call_failed_event import CallFailedEvent
from .call_log import CallLog
from .call_log_list import CallLogList
from .call_metadata import CallMetadata
from .call_queued_event import CallQueuedEvent
from .call_ringing_event import CallRingingEvent
from .call_status import CallStatus
from .evaluation import Evaluation
from .evaluation_completed_event import EvaluationCompletedEvent
from .evaluation_criterion import EvaluationCriterion
from .evaluation_evaluator import EvaluationEvaluator
from .evaluation_event_data import EvaluationEventData
from .evaluation_list import EvaluationList
from .field_error import FieldError
from .make_call_request import MakeCallRequest
from .qa_state import QaState
from .readiness import Readiness
from .readiness_check import ReadinessCheck
from .readiness_check_status import ReadinessCheckStatus
from .readiness_status import ReadinessStatus
from .session_ended_event import SessionEndedEvent
from .session_escalated_event import SessionEscalatedEvent
from .session_event_data import SessionEventData
from .session_started_event import SessionStartedEvent
from .tool_call import ToolCall
from .tool_call_arguments import ToolCallArguments
from .tool_call_result import ToolCallResult
from .tool_call_status import ToolCallStatus
from .transcript_turn import TranscriptTurn
from .transcript_turn_speaker import TranscriptTurnSpeaker
from .twilio_voice_webhook import TwilioVoiceWebhook
from .voice_session import VoiceSession
from .voice_session_list import VoiceSessionList
from .voice_session_status import VoiceSessionStatus
from .webhook_event_envelope import WebhookEventEnvelope
from .webhook_event_envelope_data import WebhookEventEnvelopeData
from .webhook_event_type import WebhookEventType

__all__ = (
    "AccessRequest",
    "AccessRequestCreate",
    "AccessRequestStatus",
    "ApiError",
    "Call",
    "CallAnsweredEvent",
    "CallCompletedEvent",
    "CallDirection",
    "CallEventData",
    "CallFailedEvent",
    "CallLog",
    "CallLogList",
    "CallMetadata",
    "CallQueuedEvent",
    "CallRingingEvent",
    "CallStatus",
    "Evaluation",
    "EvaluationCompletedEvent",
    "EvaluationCriterion",
    "EvaluationEvaluator",
    "EvaluationEventData",
    "EvaluationList",
    "FieldError",
    "MakeCallRequest",
    "QaState",
    "Readiness",
    "ReadinessCheck",
    "ReadinessCheckStatus",
    "ReadinessStatus",
    "SessionEndedEvent",
    "SessionEscalatedEvent",
    "SessionEventData",
    "SessionStartedEvent",
    "ToolCall",
    "ToolCallArguments",
    "ToolCallResult",
    "ToolCallStatus",
    "TranscriptTurn",
    "TranscriptTurnSpeaker",
    "TwilioVoiceWebhook",
    "VoiceSession",
    "VoiceSessionList",
    "VoiceSessionStatus",
    "WebhookEventEnvelope",
    "WebhookEventEnvelopeData",
    "WebhookEventType",
)
