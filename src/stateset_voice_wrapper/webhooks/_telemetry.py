"""The webhook side's metrics: signature verdicts, deliveries, and the calls' final statuses.

Recorded through the floor's switch (``_shared/telemetry.py``): nothing is imported or counted
unless telemetry is on for the process (``configure_telemetry()`` or
``STATESET_VOICE_TELEMETRY=1``). Every attribute value is from a closed set (a verdict, a
delivery status, an event type of the contract's catalog, a status of its ``CallStatus`` enum),
so no label carries a phone number or a secret, and cardinality stays bounded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from .._shared import telemetry
from .._shared.call_status import FINAL_CALL_STATUSES, IN_PROGRESS_CALL_STATUSES
from ._errors import InvalidSignatureError

__all__ = [
    "NOT_FINAL_CALL_STATUSES",
    "counted",
    "counted_verification",
    "final_call_statuses",
    "record_call_outcome",
    "record_delivery",
]

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

#: The statuses of a call still under way (``_shared/call_status.py`` is the one home).
NOT_FINAL_CALL_STATUSES: Final = IN_PROGRESS_CALL_STATUSES

#: What a value outside the contract's set is recorded as.
OTHER: Final = "_OTHER"


def final_call_statuses() -> frozenset[str]:
    """The contract's final call statuses (``tests/test_call_status.py`` holds them to its
    ``CallStatus`` enum)."""
    return FINAL_CALL_STATUSES


@functools.cache
def _event_types() -> frozenset[str]:
    import stateset_voice_facts as facts

    return frozenset(facts.EVENTS)


def counted_verification(source: str) -> Callable[[F], F]:
    """Count each call of a verifier by verdict: ``valid``, or the failure's ``reason``."""

    def decorate(verify: F) -> F:
        @functools.wraps(verify)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if not telemetry.telemetry_enabled():
                return verify(*args, **kwargs)
            try:
                result = verify(*args, **kwargs)
            except InvalidSignatureError as exc:
                _add_verdict(source, exc.reason)
                raise
            _add_verdict(source, "valid")
            return result

        return counted  # type: ignore[return-value]

    return decorate


def _add_verdict(source: str, verdict: str) -> None:
    telemetry.add(
        "stateset_voice.webhook.verifications",
        {"stateset_voice.webhook.source": source, "stateset_voice.webhook.verdict": verdict},
    )


def _get(value: object, name: str) -> object:
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def _text(value: object) -> str | None:
    value = getattr(value, "value", value)  # a generated enum keeps its raw value
    return value if isinstance(value, str) else None


def record_call_outcome(status: str) -> None:
    """Count one call that reached ``status``, a final status of the contract's ``CallStatus``
    (``completed``, ``no-answer``, ``busy``, ``failed``, ``canceled``).

    :class:`ExactlyOnceConsumer` does this by itself for each handled ``call.*`` event whose
    ``data.status`` is final; call it when your consumer learns a call's outcome another way
    (from a call log, or an event it handles without the consumer). A status outside the
    contract's enum is counted as ``_OTHER``; one that is not final is ignored. Example::

        from stateset_voice_wrapper.webhooks import record_call_outcome

        record_call_outcome(call_log.status.value)
    """
    if not telemetry.telemetry_enabled():
        return
    if status in NOT_FINAL_CALL_STATUSES:
        return
    shown = status if status in final_call_statuses() else OTHER
    telemetry.add("stateset_voice.call.outcomes", {"stateset_voice.call.status": shown})


def record_delivery(status: str, event: object) -> None:
    """Count one delivery the consumer saw; a handled ``call.*`` event with a final
    ``data.status`` also counts as that call's outcome."""
    if not telemetry.telemetry_enabled():
        return
    event_type = _text(_get(event, "type"))
    shown = event_type if event_type in _event_types() else OTHER
    telemetry.add(
        "stateset_voice.webhook.deliveries",
        {
            "stateset_voice.webhook.delivery.status": status,
            "stateset_voice.webhook.event.type": shown,
        },
    )
    if status == "handled" and event_type is not None and event_type.startswith("call."):
        call_status = _text(_get(_get(event, "data"), "status"))
        if call_status is not None:
            record_call_outcome(call_status)


def counted(result: R, event: object) -> R:
    """Count one delivery :class:`ExactlyOnceConsumer` processed (``None``: the handler
    raised) and hand ``result`` back; the consumer's one hook."""
    if telemetry.telemetry_enabled():
        status = getattr(result, "status", None)
        record_delivery("failed" if status is None else str(status.value), event)
    return result
