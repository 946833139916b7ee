"""Supported intents: what each synthetic call is for, and the outcome it must reach.

The tutorial's acceptance criterion is that "each supported intent has a synthetic call,
expected transcript outcome, and approved escalation path". An intents file names them:

.. code-block:: json

    {"intents": {
        "appointment_confirmation": {
            "greeting": "Hi, this is Acme calling to confirm your appointment.",
            "expected_outcome": "resolved",
            "expected_tags": ["appointment"],
            "min_evaluation_score": 0.7,
            "required_criteria": ["compliance"]
        },
        "escalation": {"to": "+15555550106", "expected_outcome": "escalated"}
    }}

Only ``expected_outcome`` is required. The outcome of a call is read from its call log, in the
words of the tutorial's success signals: ``resolved`` (completed, not escalated), ``escalated``
(completed and handed to a person), or the status of a call that ended without a conversation
(``no-answer``, ``busy``, ``failed``, ``canceled``). Tags, the evaluation score and the
evaluation's criteria are what the API's sessions and evaluations expose. Unknown fields are
refused, so a misspelt expectation never silently passes.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from .._shared.call_status import is_final_call_status
from ._errors import LaunchInputError

__all__ = [
    "OUTCOMES",
    "RESERVED_METADATA",
    "IntentSpec",
    "load_intents",
    "outcome_of",
    "parse_intents",
]

#: Every outcome a call can have once it has ended.
OUTCOMES: Final = ("resolved", "escalated", "no-answer", "busy", "failed", "canceled")
#: Metadata keys the check writes on every synthetic call (an intent may not set them).
RESERVED_METADATA: Final = frozenset({"launch_run", "launch_key", "launch_intent"})

_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
_FIELDS: Final = frozenset(
    {
        "to",
        "greeting",
        "metadata",
        "expected_outcome",
        "expected_tags",
        "min_evaluation_score",
        "required_criteria",
    }
)
_MAX_INTENTS: Final = 50
_MAX_METADATA: Final = 40  # the contract allows 50 keys; the check adds three of its own
_MAX_FILE_BYTES: Final = 1 << 20


def outcome_of(status: str, escalated: bool) -> str | None:
    """The outcome of a call from its log, or None while it has not ended.

    >>> outcome_of("completed", False), outcome_of("completed", True), outcome_of("busy", False)
    ('resolved', 'escalated', 'busy')
    >>> outcome_of("ringing", False) is None
    True
    """
    if status == "completed":
        return "escalated" if escalated else "resolved"
    return status if is_final_call_status(status) else None


@attrs.frozen(kw_only=True)
class IntentSpec:
    """One supported intent: how its synthetic calls are placed and what they must reach.

    ``to``, ``greeting`` and ``metadata`` (JSON scalars) replace the check's defaults for the
    intent's calls. A call of the intent passes when its outcome is ``expected_outcome``, its
    session carries every ``expected_tags``, its evaluation scores at least
    ``min_evaluation_score`` and passes every ``required_criteria`` (each only when given).

    Example::

        IntentSpec(name="escalation", to="+15555550106", expected_outcome="escalated")
    """

    name: str
    expected_outcome: str
    to: str | None = None
    greeting: str | None = None
    metadata: Mapping[str, str | int | float | bool] = attrs.field(factory=dict)
    expected_tags: tuple[str, ...] = ()
    min_evaluation_score: float | None = None
    required_criteria: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        _check_intent(self)

    def to_dict(self) -> dict[str, Any]:
        """The intent as it appears in the report (``to`` is left out: it is a number)."""
        return {
            "intent": self.name,
            "expected_outcome": self.expected_outcome,
            "expected_tags": list(self.expected_tags),
            "min_evaluation_score": self.min_evaluation_score,
            "required_criteria": list(self.required_criteria),
        }


def _check_intent(spec: IntentSpec) -> None:
    where = f"intents.{spec.name}"
    if not isinstance(spec.name, str) or not _NAME.match(spec.name):
        raise LaunchInputError(
            "an intent name is 1 to 64 letters, digits, '_', '.' or '-', starting with a"
            " letter or digit"
        )
    if spec.expected_outcome not in OUTCOMES:
        raise LaunchInputError(f"{where}.expected_outcome must be one of {', '.join(OUTCOMES)}")
    for name in ("to", "greeting"):
        value = getattr(spec, name)
        if value is not None and (not isinstance(value, str) or not value):
            raise LaunchInputError(f"{where}.{name} must be a non-empty string")
    if not isinstance(spec.metadata, Mapping) or len(spec.metadata) > _MAX_METADATA:
        raise LaunchInputError(f"{where}.metadata must be an object of at most 40 keys")
    for key, value in spec.metadata.items():
        if key in RESERVED_METADATA:
            raise LaunchInputError(f"{where}.metadata may not set {key!r}: the check sets it")
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
            raise LaunchInputError(f"{where}.metadata values must be strings, numbers or booleans")
    for name in ("expected_tags", "required_criteria"):
        values = getattr(spec, name)
        if not isinstance(values, tuple) or not all(isinstance(v, str) and v for v in values):
            raise LaunchInputError(f"{where}.{name} must be a list of non-empty strings")
    score = spec.min_evaluation_score
    if score is not None and (
        isinstance(score, bool)
        or not isinstance(score, int | float)
        or not math.isfinite(score)
        or not 0 <= score <= 1
    ):
        raise LaunchInputError(f"{where}.min_evaluation_score must be a number from 0 to 1")


def parse_intents(document: Any, *, source: str = "intents") -> tuple[IntentSpec, ...]:
    """The intents of a decoded intents document (``{"intents": {name: {...}}}``), in order.

    Raises :class:`LaunchInputError` naming the first problem.
    """
    if not isinstance(document, Mapping) or set(document) != {"intents"}:
        raise LaunchInputError(f'{source}: expected an object {{"intents": {{...}}}}')
    table = document["intents"]
    if not isinstance(table, Mapping) or not table:
        raise LaunchInputError(f"{source}: intents must be a non-empty object")
    if len(table) > _MAX_INTENTS:
        raise LaunchInputError(f"{source}: at most {_MAX_INTENTS} intents")
    specs = []
    for name, fields in table.items():
        if not isinstance(fields, Mapping):
            raise LaunchInputError(f"{source}: intents.{name} must be an object")
        unknown = sorted(set(fields) - _FIELDS)
        if unknown:
            raise LaunchInputError(f"{source}: intents.{name}: unknown field {unknown[0]!r}")
        if "expected_outcome" not in fields:
            raise LaunchInputError(f"{source}: intents.{name}: expected_outcome is required")
        try:
            specs.append(
                IntentSpec(
                    name=name,
                    expected_outcome=fields["expected_outcome"],
                    to=fields.get("to"),
                    greeting=fields.get("greeting"),
                    metadata=fields.get("metadata") or {},
                    expected_tags=_strings(fields.get("expected_tags")),
                    min_evaluation_score=fields.get("min_evaluation_score"),
                    required_criteria=_strings(fields.get("required_criteria")),
                )
            )
        except LaunchInputError as exc:
            raise LaunchInputError(f"{source}: {exc}") from None
    return tuple(specs)


def _strings(value: object) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        return (None,)  # refused by the spec's check, naming the field
    return tuple(value)


def load_intents(path: str | os.PathLike[str]) -> tuple[IntentSpec, ...]:
    """Read an intents file (JSON, at most 1 MiB): see the module docstring for its form."""
    where = Path(path)
    try:
        with where.open("rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LaunchInputError(
            f"cannot read the intents file {str(where)!r}: {exc.strerror}"
        ) from None
    if len(raw) > _MAX_FILE_BYTES:
        raise LaunchInputError(f"the intents file {str(where)!r} is larger than 1 MiB")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LaunchInputError(f"the intents file {str(where)!r} is not JSON: {exc}") from None
    return parse_intents(document, source=str(where))
