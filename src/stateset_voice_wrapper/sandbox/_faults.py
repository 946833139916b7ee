"""Fault injection: which request fails how (a pure, seeded plan) and how the failure is sent.

A fault is described by a :class:`FaultRule`. For every request to a contract operation the
plan walks its rules in order; a matching rule fires with probability ``rate`` (drawn from the
sandbox's seeded fault stream, so a seeded run fails the same requests every time). Latency
rules add up; the first error rule that fires decides the request's fate.

Error kinds, and what the client sees:

``429`` / ``503``  JSON ApiError with ``Retry-After`` and ``retry_after``
``500`` / ``502`` / ``504``  JSON ApiError
``html``           a ``text/html`` proxy error page (status 502 unless ``status`` says otherwise)
``drop``           the connection closes before any response byte
``reset``          status line, headers, ``Content-Length`` and half the body, then the close

``when`` places the fault: ``before`` the operation runs (nothing happened), ``during`` it
(after the ``Idempotency-Key`` was reserved: latency here keeps the key "in progress"), or
``after`` it ran (the call exists, its response is recorded for replay, and the answer is lost:
the case that makes idempotency keys matter). ``any`` picks ``before`` or ``after`` at random.
"""

from __future__ import annotations

import fnmatch
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from ._constants import DEFAULT_RETRY_AFTER_SECONDS

ERROR_KINDS: Final = ("429", "500", "502", "503", "504", "drop", "reset", "html")
"""Every error class; ``kind="mixed"`` picks one of these uniformly at random."""
FAULT_KINDS: Final = (*ERROR_KINDS, "latency", "mixed")
PHASES: Final = ("before", "during", "after", "any")

Phase = Literal["before", "during", "after"]
MAX_LATENCY_MS: Final = 600_000
"""Longest injected latency: ten minutes, far past any client timeout worth testing."""
MAX_RETRY_AFTER_SECONDS: Final = 86_400
_INTEGER_FIELDS: Final = ("latency_ms", "retry_after", "status")


def _check_types(rule: FaultRule) -> None:
    """Refuse values of the wrong JSON type (a rule often arrives as JSON from a client)."""
    if not isinstance(rule.kind, str) or not isinstance(rule.when, str):
        raise TypeError("fault kind and when must be strings")
    for name in ("path", "method"):
        if getattr(rule, name) is not None and not isinstance(getattr(rule, name), str):
            raise TypeError(f"fault {name} must be a string or null")
    if isinstance(rule.rate, bool) or not isinstance(rule.rate, int | float):
        raise TypeError("fault rate must be a number")
    if not math.isfinite(rule.rate):
        raise ValueError("fault rate must be a finite number")
    for name in _INTEGER_FIELDS:
        value = getattr(rule, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"fault {name} must be an integer")
    if rule.times is not None and (isinstance(rule.times, bool) or not isinstance(rule.times, int)):
        raise TypeError("fault times must be an integer or null")


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRule:
    """One fault: what, how often, where and when.

    Example: ``FaultRule(kind="drop", path="/api/v1/make-call", when="after", times=1)`` creates
    the next call and then closes the connection without answering.
    """

    kind: str
    """One of ``429 500 502 503 504 drop reset html latency mixed``."""
    rate: float = 1.0
    """Probability in [0, 1] that a matching request gets the fault."""
    path: str | None = None
    """Glob over the request path (``/api/v1/admin/*``); None matches every operation."""
    method: str | None = None
    """HTTP method to match (case-insensitive); None matches any."""
    when: str = "before"
    """``before``, ``during``, ``after`` or ``any`` (see the module docstring)."""
    times: int | None = None
    """Fire at most this many times, then never again; None means no limit."""
    latency_ms: int = 0
    """Added delay for ``kind="latency"``."""
    retry_after: int = DEFAULT_RETRY_AFTER_SECONDS
    """``Retry-After`` seconds of ``429`` and ``503`` faults."""
    status: int = 502
    """HTTP status of the ``html`` proxy page."""

    def __post_init__(self) -> None:
        _check_types(self)
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        if self.when not in PHASES:
            raise ValueError(f"unknown fault phase {self.when!r}; expected one of {PHASES}")
        if self.times is not None and self.times < 0:
            raise ValueError("fault times must be >= 0")
        if not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency_ms must be between 0 and {MAX_LATENCY_MS}")
        if not 0 <= self.retry_after <= MAX_RETRY_AFTER_SECONDS:
            raise ValueError(f"retry_after must be between 0 and {MAX_RETRY_AFTER_SECONDS}")
        if not 400 <= self.status <= 599:
            raise ValueError("html fault status must be a 4xx or 5xx status")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from JSON (the ``POST /_sandbox/faults`` body); unknown keys fail."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault rule fields: {', '.join(sorted(unknown))}")
        if "kind" not in data:
            raise ValueError("a fault rule needs a 'kind'")
        values = dict(data)
        values["kind"] = str(values["kind"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


@dataclass(frozen=True, slots=True)
class FaultError:
    """The error fault chosen for one request."""

    kind: str
    phase: Phase
    retry_after: int
    status: int


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """Everything injected into one request: latency per phase, and at most one error."""

    latency_ms: dict[str, int] = field(default_factory=dict)
    error: FaultError | None = None

    def delay(self, phase: Phase) -> float:
        return self.latency_ms.get(phase, 0) / 1000.0


NO_FAULT: Final = FaultDecision()


class FaultPlan:
    """The active rules, their remaining ``times`` budget and the seeded random stream."""

    def __init__(self, rng: random.Random, rules: Sequence[FaultRule] = ()) -> None:
        self._rng = rng
        self.fired: dict[str, int] = {}
        self.replace(rules)

    def replace(self, rules: Sequence[FaultRule]) -> None:
        self.rules = list(rules)
        self._left = [rule.times for rule in self.rules]

    def add(self, rules: Sequence[FaultRule]) -> None:
        self.rules.extend(rules)
        self._left.extend(rule.times for rule in rules)

    def describe(self) -> dict[str, Any]:
        return {
            "rules": [
                {**rule.to_dict(), "times_left": left}
                for rule, left in zip(self.rules, self._left, strict=True)
            ],
            "fired": dict(self.fired),
        }

    def decide(self, method: str, path: str) -> FaultDecision:
        if not self.rules:
            return NO_FAULT
        latency: dict[str, int] = {}
        error: FaultError | None = None
        for index, rule in enumerate(self.rules):
            is_latency = rule.kind == "latency"
            if (error is not None and not is_latency) or self._left[index] == 0:
                continue
            if not rule.matches(method, path) or self._rng.random() >= rule.rate:
                continue
            left = self._left[index]
            if left is not None:
                self._left[index] = left - 1
            phase = self._phase(rule.when)
            if is_latency:
                latency[phase] = latency.get(phase, 0) + rule.latency_ms
                self.fired["latency"] = self.fired.get("latency", 0) + 1
                continue
            kind = self._rng.choice(ERROR_KINDS) if rule.kind == "mixed" else rule.kind
            error = FaultError(
                kind=kind, phase=phase, retry_after=rule.retry_after, status=rule.status
            )
            self.fired[kind] = self.fired.get(kind, 0) + 1
        return FaultDecision(latency_ms=latency, error=error)

    def _phase(self, when: str) -> Phase:
        if when == "any":
            return "before" if self._rng.random() < 0.5 else "after"
        if when == "during":
            return "during"
        return "after" if when == "after" else "before"
