"""Webhook deliveries: where the check reads them from, and what it makes of them.

A delivery is what reached a webhook endpoint: the raw body, the headers and when it arrived.
The check reads them from a :class:`DeliverySource`: its own :class:`WebhookReceiver`, a JSON
lines file (:class:`DeliveryFile`) or a directory of captures (:class:`DeliveryDirectory`).
One line of a file, or one ``.json`` file of a directory, is one delivery::

    {"body": "<the raw body, UTF-8>", "headers": {"StateSet-Signature": "t=...,v1=..."},
     "received_at": 1795000000.25}

``body_base64`` replaces ``body`` for a body that is not UTF-8; ``received_at`` (Unix seconds)
is optional. A signature's timestamp is judged against ``received_at`` when it is there, else
against the check's clock, so an old capture without it needs a wider ``tolerance``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from ..webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    InvalidEventError,
    InvalidSignatureError,
    construct_event,
    event_dedup_key,
)
from ._errors import LaunchInputError

__all__ = [
    "Delivery",
    "DeliveryDirectory",
    "DeliveryFile",
    "DeliverySource",
    "DeliveryTally",
    "read_deliveries",
    "tally_deliveries",
]

#: The events that say a call has ended: one of them is expected for every synthetic call.
FINAL_EVENTS = frozenset({"call.completed", "call.failed"})


@attrs.frozen(kw_only=True)
class Delivery:
    """One webhook request as received: raw ``body``, ``headers``, ``received_at`` (Unix s)."""

    body: bytes
    headers: Mapping[str, str] = attrs.field(factory=dict)
    received_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON-lines form (see the module docstring)."""
        record: dict[str, Any] = {"headers": dict(self.headers)}
        try:
            record["body"] = self.body.decode("utf-8")
        except UnicodeDecodeError:
            record["body_base64"] = base64.b64encode(self.body).decode("ascii")
        if self.received_at is not None:
            record["received_at"] = self.received_at
        return record

    @classmethod
    def from_json(cls, record: object) -> Delivery:
        """A delivery from its JSON-lines form; :class:`LaunchInputError` if it is not one."""
        if not isinstance(record, Mapping):
            raise LaunchInputError("a delivery must be a JSON object")
        headers = record.get("headers", {})
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise LaunchInputError("a delivery's headers must be an object of strings")
        if isinstance(record.get("body"), str):
            try:
                body = record["body"].encode("utf-8")
            except UnicodeEncodeError:
                raise LaunchInputError(
                    "a delivery's body is not valid Unicode text: give it as body_base64"
                ) from None
        elif isinstance(record.get("body_base64"), str):
            try:
                body = base64.b64decode(record["body_base64"], validate=True)
            except (binascii.Error, ValueError):
                raise LaunchInputError("a delivery's body_base64 is not base64") from None
        else:
            raise LaunchInputError("a delivery needs a body (a string) or a body_base64")
        received = record.get("received_at")
        if received is not None and (
            isinstance(received, bool)
            or not isinstance(received, int | float)
            or not math.isfinite(received)
        ):
            raise LaunchInputError("a delivery's received_at must be a number of Unix seconds")
        return cls(body=body, headers=dict(headers), received_at=received)


@runtime_checkable
class DeliverySource(Protocol):
    """Where the check reads deliveries: ``collect()`` returns every delivery so far.

    It is called once per poll, so a source may grow while the check runs. ``description``
    names it in the report.
    """

    @property
    def description(self) -> str: ...

    def collect(self) -> Sequence[Delivery]: ...


def read_deliveries(path: str | os.PathLike[str]) -> list[Delivery]:
    """Every delivery of a JSON-lines file.

    Blank lines are skipped, and so is a last line without its newline: a capture being
    written now is read whole on the next poll. Any other line that is not a delivery raises
    :class:`LaunchInputError` naming the file and line.
    """
    where = Path(path)
    try:
        text = where.read_bytes()
    except OSError as exc:
        raise LaunchInputError(
            f"cannot read the deliveries file {str(where)!r}: {exc.strerror}"
        ) from None
    lines = text.split(b"\n")
    if lines and lines[-1].strip():
        lines = lines[:-1]  # still being written
    found = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            found.append(Delivery.from_json(json.loads(line)))
        except (ValueError, LaunchInputError) as exc:
            why = str(exc) if isinstance(exc, LaunchInputError) else "not JSON"
            raise LaunchInputError(f"{str(where)!r} line {number}: {why}") from None
    return found


@attrs.frozen
class DeliveryFile:
    """Deliveries captured as JSON lines, one per line (re-read on every poll)."""

    path: str | os.PathLike[str]

    @property
    def description(self) -> str:
        return f"file {os.fspath(self.path)}"

    def collect(self) -> list[Delivery]:
        return read_deliveries(self.path)


@attrs.frozen
class DeliveryDirectory:
    """A directory of captures: each ``*.json`` file one delivery, each ``*.jsonl`` file many,
    read in file-name order (re-read on every poll)."""

    path: str | os.PathLike[str]

    @property
    def description(self) -> str:
        return f"directory {os.fspath(self.path)}"

    def collect(self) -> list[Delivery]:
        where = Path(self.path)
        if not where.is_dir():
            raise LaunchInputError(f"the deliveries directory {str(where)!r} does not exist")
        found: list[Delivery] = []
        for entry in sorted(where.iterdir()):
            if entry.suffix == ".jsonl":
                found.extend(read_deliveries(entry))
            elif entry.suffix == ".json":
                try:
                    found.append(Delivery.from_json(json.loads(entry.read_bytes())))
                except (OSError, ValueError, LaunchInputError) as exc:
                    why = str(exc) if isinstance(exc, LaunchInputError) else "not a JSON file"
                    raise LaunchInputError(f"{str(entry)!r}: {why}") from None
        return found


@attrs.frozen(kw_only=True)
class DeliveryTally:
    """What the deliveries say, counted for one run's calls.

    ``considered`` are the deliveries for the run's calls plus those that name no call (a
    body that cannot be read might be one of the run's); deliveries for other calls are only
    counted in ``other_calls``. ``verification_rate`` is ``verified / considered`` (None when
    nothing was considered). ``events_by_call`` holds the event types received per call,
    signed or not: whether an event arrived is a different question from whether it was
    genuine.
    """

    received: int = 0
    considered: int = 0
    other_calls: int = 0
    verified: int = 0
    failures: Mapping[str, int] = attrs.field(factory=dict)
    invalid_events: int = 0
    distinct_events: int = 0
    duplicates: int = 0
    events_by_call: Mapping[str, frozenset[str]] = attrs.field(factory=dict)

    @property
    def verification_rate(self) -> float | None:
        return self.verified / self.considered if self.considered else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "considered": self.considered,
            "other_calls": self.other_calls,
            "verified": self.verified,
            "unverified": self.considered - self.verified,
            "verification_rate": _round(self.verification_rate),
            "failures": dict(sorted(self.failures.items())),
            "invalid_events": self.invalid_events,
            "distinct_events": self.distinct_events,
            "duplicates": self.duplicates,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _event_fields(body: bytes) -> tuple[Mapping[str, Any] | None, str | None, str | None]:
    """(the event document, its call ID, its type) as far as the body can be read."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None, None
    if not isinstance(document, Mapping):
        return None, None, None
    data = document.get("data")
    call_id = document.get("call_id") or (
        data.get("call_id") if isinstance(data, Mapping) else None
    )
    kind = document.get("type")
    return (
        document,
        call_id if isinstance(call_id, str) else None,
        kind if isinstance(kind, str) else None,
    )


def _at(instant: float) -> Callable[[], float]:
    """A clock stopped at the moment a delivery arrived."""
    return lambda: instant


def _dedup_key(document: Mapping[str, Any] | None, body: bytes) -> str:
    if document is not None:
        try:
            return event_dedup_key(document)
        except InvalidEventError:
            pass
    return "body:" + hashlib.sha256(body).hexdigest()


def tally_deliveries(
    deliveries: Iterable[Delivery],
    *,
    secrets: Sequence[str],
    call_ids: Iterable[str],
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: Callable[[], float],
) -> DeliveryTally:
    """Verify every delivery (:func:`~stateset_voice_wrapper.webhooks.construct_event`) and
    count them for the run's ``call_ids``; repeats are told apart by
    :func:`~stateset_voice_wrapper.webhooks.event_dedup_key`."""
    run_calls = set(call_ids)
    received = considered = other = verified = invalid = 0
    failures: Counter[str] = Counter()
    keys: set[str] = set()
    events: dict[str, set[str]] = {}
    for delivery in deliveries:
        received += 1
        document, call_id, kind = _event_fields(delivery.body)
        if call_id is not None and call_id not in run_calls:
            other += 1
            continue
        considered += 1
        at = delivery.received_at
        try:
            construct_event(
                payload=delivery.body,
                headers=delivery.headers,
                secrets=secrets,
                tolerance=tolerance,
                now=now if at is None else _at(at),
            )
            verified += 1
        except InvalidSignatureError as exc:
            failures[exc.reason] += 1
        except InvalidEventError:
            verified += 1  # genuine, but not a well-formed event
            invalid += 1
        keys.add(_dedup_key(document, delivery.body))
        if call_id is not None and kind is not None:
            events.setdefault(call_id, set()).add(kind)
    return DeliveryTally(
        received=received,
        considered=considered,
        other_calls=other,
        verified=verified,
        failures=dict(failures),
        invalid_events=invalid,
        distinct_events=len(keys),
        duplicates=considered - len(keys),
        events_by_call={call: frozenset(kinds) for call, kinds in events.items()},
    )
