"""Parse StateSet webhook deliveries into the generated event models.

The event catalog is the contract's: ``stateset_voice_facts.EVENTS`` (generated from the
contract's ``webhooks``) maps each event type to its generated model, and nothing here lists
it. A type the catalog does not know yet is kept as an :class:`UnknownEvent` (the contract
requires consumers not to drop them) and logged.

The generated ``from_dict`` methods trust their input (a string where a number belongs goes
straight through), so payloads are first checked against the contract's schema for the event
(JSON types, required fields, nullability; a new enum value or field is kept, as in API
responses). Malformed payloads raise :class:`InvalidEventError` with the path of the offending
field and never its value.

The generated models are imported on first use, not at import time: importing them costs far
more than the package's import budget.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import hashlib
import json
import logging
import operator
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs
import stateset_voice_facts as facts

from .._shared.schema import response_checker
from ._errors import InvalidEventError

if TYPE_CHECKING:
    from stateset_voice_facts import KnownEvent
    from stateset_voice_public.models import WebhookEventEnvelope

__all__ = [
    "KnownEvent",
    "UnknownEvent",
    "WebhookEvent",
    "event_dedup_key",
    "event_model_for",
    "parse_event",
]

_logger = logging.getLogger("stateset_voice").getChild("webhooks")
_MAX_LOGGED_TYPE: Final = 100
_MISSING: Final = object()
#: The schema an event of a type outside the catalog is checked against.
_ENVELOPE: Final = "WebhookEventEnvelope"


@functools.cache
def _event_classes() -> Mapping[str, type[KnownEvent]]:
    """The event catalog: ``type`` string -> generated model class, from the facts."""
    from stateset_voice_public import models

    return types.MappingProxyType(
        {event_type: getattr(models, event["model"]) for event_type, event in facts.EVENTS.items()}
    )


def event_model_for(event_type: str) -> type[KnownEvent] | None:
    """The generated model class for ``event_type``, or ``None`` for a type not in the catalog.

    >>> event_model_for("call.completed").__name__
    'CallCompletedEvent'
    >>> event_model_for("call.teleported") is None
    True
    """
    return _event_classes().get(event_type)


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event whose ``type`` this version of the client does not know, kept whole.

    It exposes the same envelope fields as the typed events (``id``, ``type_``,
    ``call_id``...), ``data`` as a plain dict, and the generated
    ``WebhookEventEnvelope`` it was parsed into. Its repr shows the id and type
    only, since ``data`` may carry personal data.

    >>> event = parse_event({"id": "evt_1", "type": "call.teleported", "api_version": "v",
    ...     "occurred_at": "2026-11-20T15:05:45Z", "tenant_id": "ten_1", "data": {"to": "mars"}})
    >>> event
    UnknownEvent(id='evt_1', type_='call.teleported')
    >>> event.data
    {'to': 'mars'}
    """

    envelope: WebhookEventEnvelope = field(repr=False)

    def __repr__(self) -> str:
        return f"UnknownEvent(id={self.id!r}, type_={self.type_!r})"

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def type_(self) -> str:
        return self.envelope.type_

    @property
    def api_version(self) -> str:
        return self.envelope.api_version

    @property
    def occurred_at(self) -> datetime.datetime:
        return self.envelope.occurred_at

    @property
    def tenant_id(self) -> str:
        return self.envelope.tenant_id

    @property
    def call_id(self) -> str | None:
        value = self.envelope.call_id
        return value if isinstance(value, str) else None

    @property
    def session_id(self) -> str | None:
        value = self.envelope.session_id
        return value if isinstance(value, str) else None

    @property
    def data(self) -> dict[str, Any]:
        return self.envelope.data.additional_properties

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready data, unknown fields included."""
        return self.envelope.to_dict()


if TYPE_CHECKING:
    WebhookEvent: TypeAlias = KnownEvent | UnknownEvent
    """What :func:`parse_event` returns: a catalog model, or :class:`UnknownEvent`."""


def __getattr__(name: str) -> object:
    # KnownEvent / WebhookEvent are unions of generated classes, built on first access
    # so that importing this module does not import the generated models.
    if name == "KnownEvent":
        return functools.reduce(operator.or_, _event_classes().values())
    if name == "WebhookEvent":
        return functools.reduce(operator.or_, _event_classes().values()) | UnknownEvent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _problem(document: Mapping[str, Any], schema_name: str) -> str | None:
    """What is wrong with ``document`` against the contract's schema, or None."""
    try:
        return response_checker("public", {"$ref": schema_name})(document, "event")
    except RecursionError:
        return "the event is nested too deeply"


# --- parsing --------------------------------------------------------------------------------


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _decode(payload: bytes | bytearray | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(payload, Mapping):
        return dict(payload)
    if not isinstance(payload, bytes | bytearray | str):
        raise InvalidEventError(
            f"event payload must be bytes, str or a mapping, not {type(payload).__name__}"
        )
    try:
        decoded = json.loads(payload, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise InvalidEventError("event payload is not valid JSON") from exc
    if not isinstance(decoded, dict):
        raise InvalidEventError("event payload must be a JSON object")
    return decoded


def parse_event(payload: bytes | bytearray | str | Mapping[str, Any]) -> WebhookEvent:
    """Parse a delivery body into its typed event (this does not check the signature).

    Returns the generated model for the event's ``type`` (``CallCompletedEvent``
    for ``"call.completed"``...) or an :class:`UnknownEvent` for a type not in
    the catalog, logged at WARNING on ``stateset_voice.webhooks``. A missing or
    null ``id`` is read as ``""`` (see :func:`event_dedup_key`). Raises
    :class:`InvalidEventError` when the payload is not JSON, not an object, or
    lacks or mistypes a field. Use :func:`construct_event` for deliveries from
    the network: it verifies the signature first.

    >>> event = parse_event(b'''{"id": "evt_1", "type": "call.completed", "api_version": "2026-11-01",
    ...   "occurred_at": "2026-11-20T15:05:45Z", "tenant_id": "ten_1", "call_id": "call_1",
    ...   "data": {"call_id": "call_1", "status": "completed", "direction": "outbound",
    ...            "agent_key": "front_desk", "duration_seconds": 42}}''')
    >>> type(event).__name__, event.data.duration_seconds
    ('CallCompletedEvent', 42)
    """
    from stateset_voice_public.models import WebhookEventEnvelope

    document = _decode(payload)
    if document.get("id", None) is None:
        document["id"] = ""
    event_type = document.get("type", _MISSING)
    if event_type is _MISSING:
        raise InvalidEventError("missing required field 'type'")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidEventError("field 'type' must be a non-empty string")

    model = event_model_for(event_type)
    error = _problem(document, facts.EVENTS[event_type]["model"] if model else _ENVELOPE)
    if error is not None:
        raise InvalidEventError(f"invalid {event_type[:_MAX_LOGGED_TYPE]!r} event: {error}")
    try:
        if model is None:
            envelope = WebhookEventEnvelope.from_dict(document)
        else:
            return model.from_dict(document)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # pragma: no cover
        # The structural check above should make this unreachable; keep the promise anyway.
        raise InvalidEventError(f"invalid {event_type[:_MAX_LOGGED_TYPE]!r} event") from exc
    _logger.warning(
        "keeping webhook event of unknown type %r as UnknownEvent (event id %r)",
        event_type[:_MAX_LOGGED_TYPE],
        envelope.id[:_MAX_LOGGED_TYPE],
    )
    return UnknownEvent(envelope)


def _field(event: object, name: str) -> object:
    return event.get(name) if isinstance(event, Mapping) else getattr(event, name, None)


def _text(event: object, *names: str) -> str | None:
    """The first of ``names`` that ``event`` has as a non-empty string (attribute or key)."""
    for name in names:
        value = _field(event, name)
        if isinstance(value, str) and value:
            return value
    return None


def _digest_default(value: object) -> object:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    # Anything else has no canonical form (a repr may differ between processes).
    raise InvalidEventError(
        f"cannot deduplicate an event without an id holding a {type(value).__name__} value"
    )


def _payload_document(event: object) -> dict[str, Any]:
    """The event as JSON-ready data, the same for a parsed event and its mapping."""
    if isinstance(event, Mapping):
        from stateset_voice_public.models import WebhookEventEnvelope

        document = dict(event)
        if document.get("id") is None:
            document["id"] = ""
        event_type = document.get("type")
        model = event_model_for(event_type) if isinstance(event_type, str) else None
        cls = model or WebhookEventEnvelope
        schema = facts.EVENTS[str(event_type)]["model"] if model is not None else _ENVELOPE
        if _problem(document, schema) is None:
            # A well-formed event: the exact data parse_event's model would give (dates and
            # unknown fields normalised alike), without parse_event's unknown-type warning.
            try:
                return dict(cls.from_dict(document).to_dict())
            except (KeyError, TypeError, ValueError, AttributeError):  # pragma: no cover
                pass  # the check above should make this unreachable; digest it as given
        return document
    to_dict = getattr(event, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    if attrs.has(type(event)):
        return attrs.asdict(event)  # type: ignore[arg-type]
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        return dataclasses.asdict(event)
    raise InvalidEventError(
        "cannot deduplicate an event without an id that is not a mapping, a parsed event, "
        "or an attrs or dataclass instance: its payload cannot be read"
    )


def event_dedup_key(event: object) -> str:
    """The key that identifies one event across redeliveries (the consumer's dedup key).

    * An event with an ``id``: ``"id:<id>"``.
    * Without one (a missing or null ``id`` parses as ``""``): ``"fallback:<sha256>"``, the
      SHA-256 of the canonical JSON of the whole event (its type, its ``call_id`` or
      ``session_id``, and its payload), so distinct events never share a key and no fallback
      key can equal an ``id:`` key. Such an event needs a type and a ``call_id`` or
      ``session_id``.

    Parsed events (``type_``), mappings (``type``) and attrs or dataclass instances give the
    same key for the same event. Raises :class:`InvalidEventError` when the event has no id and
    no ``call_id``/``session_id`` (or no type).

    >>> event = parse_event({"type": "call.teleported", "api_version": "v", "call_id": "call_9",
    ...     "occurred_at": "2026-11-20T15:05:45Z", "tenant_id": "ten_1", "data": {}})
    >>> event_dedup_key(event)[:9]
    'fallback:'
    >>> event_dedup_key({"id": "evt_1", "type": "call.completed"})
    'id:evt_1'
    """
    event_id = _field(event, "id")
    if isinstance(event_id, str) and event_id:
        return f"id:{event_id}"
    if event_id not in (None, ""):
        raise InvalidEventError("an event id must be a string")
    if _text(event, "call_id", "session_id") is None:
        raise InvalidEventError("event has no id, call_id or session_id: it cannot be deduplicated")
    if _text(event, "type_", "type") is None:
        raise InvalidEventError("event has no id and no type: it cannot be deduplicated")
    document = _payload_document(event)
    if "type_" in document and "type" not in document:
        document["type"] = document.pop("type_")
    # Absent and null mean the same; an empty id is an absent one.
    canonical = {k: v for k, v in document.items() if v is not None and not (k == "id" and v == "")}
    try:
        text = json.dumps(
            canonical,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_digest_default,
        )
    except InvalidEventError:
        raise
    except (ValueError, TypeError, RecursionError) as exc:  # NaN, non-string keys, nesting
        raise InvalidEventError(
            "cannot deduplicate an event without an id: its payload is not JSON"
        ) from exc
    return "fallback:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
