"""Receive webhooks safely: Twilio request signatures, StateSet delivery signatures, typed events.

Twilio (inbound calls reaching your server)::

    from stateset_voice_wrapper.webhooks import InvalidSignatureError, verify_twilio_signature

    try:
        verify_twilio_signature(
            auth_token=TWILIO_AUTH_TOKEN,
            url="https://hooks.example.com/twilio/inbound",  # exactly as configured in Twilio
            params=form_params,                               # the POST form, all of it
            signature=headers.get("X-Twilio-Signature"),
        )
    except InvalidSignatureError:
        ...  # answer 401

StateSet deliveries (call, session and evaluation events)::

    from stateset_voice_wrapper.webhooks import construct_event, event_dedup_key

    event = construct_event(payload=raw_body, headers=headers, secrets=[WEBHOOK_SECRET])
    key = event_dedup_key(event)  # the event id; deduplicate on it

Ready-made stdlib apps: :func:`twilio_inbound_forwarder` (WSGI) and
:func:`twilio_inbound_forwarder_asgi` verify Twilio's signature and answer 307
to StateSet's incoming-call endpoint. See ``docs/webhooks.md``.

Importing this package does not import the generated models; they load on the
first parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..stores import RedisDedupStore, SqliteDedupStore
from ._asgi import twilio_inbound_forwarder_asgi, twilio_request_from_asgi, verify_asgi_request
from ._consumer import (
    EventLike,
    ExactlyOnceConsumer,
    ProcessResult,
    ProcessStatus,
)
from ._errors import InvalidEventError, InvalidSignatureError
from ._events import UnknownEvent, event_dedup_key, event_model_for, parse_event
from ._inbound import (
    DEFAULT_FORWARD_TO,
    InvalidContentLengthError,
    RequestBodyTooLargeError,
    TwilioRequest,
)
from ._signing import (
    compute_stateset_signature,
    compute_twilio_signature,
    stateset_signature_header,
)
from ._stateset import (
    DEFAULT_TOLERANCE_SECONDS,
    STATESET_SIGNATURE_HEADER,
    construct_event,
    verify_stateset_signature,
)
from ._telemetry import record_call_outcome
from ._twilio import (
    TWILIO_SIGNATURE_HEADER,
    is_valid_twilio_signature,
    reconstruct_url,
    verify_twilio_signature,
)
from ._wsgi import twilio_inbound_forwarder, twilio_request_from_wsgi, verify_wsgi_request

if TYPE_CHECKING:
    from ._events import KnownEvent, WebhookEvent

__all__ = [
    "DEFAULT_FORWARD_TO",
    "DEFAULT_TOLERANCE_SECONDS",
    "STATESET_SIGNATURE_HEADER",
    "TWILIO_SIGNATURE_HEADER",
    "EventLike",
    "ExactlyOnceConsumer",
    "InvalidContentLengthError",
    "InvalidEventError",
    "InvalidSignatureError",
    "KnownEvent",
    "ProcessResult",
    "ProcessStatus",
    "RedisDedupStore",
    "RequestBodyTooLargeError",
    "SqliteDedupStore",
    "TwilioRequest",
    "UnknownEvent",
    "WebhookEvent",
    "compute_stateset_signature",
    "compute_twilio_signature",
    "construct_event",
    "event_dedup_key",
    "event_model_for",
    "is_valid_twilio_signature",
    "parse_event",
    "reconstruct_url",
    "record_call_outcome",
    "stateset_signature_header",
    "twilio_inbound_forwarder",
    "twilio_inbound_forwarder_asgi",
    "twilio_request_from_asgi",
    "twilio_request_from_wsgi",
    "verify_asgi_request",
    "verify_stateset_signature",
    "verify_twilio_signature",
    "verify_wsgi_request",
]


#: The event unions name generated classes; they are built only when asked for.
_LAZY = ("KnownEvent", "WebhookEvent")


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from . import _events

        return getattr(_events, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
