"""The sandbox clock: what drives call transitions, real time or test-controlled."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

MAX_OFFSET_SECONDS: Final = 100 * 365.25 * 86400
"""How far the clock may be moved forward in all: a century, which keeps every timestamp a
valid RFC 3339 date (a year below 10000) while covering any test of a 24-hour window."""


class SandboxClock:
    """Sandbox time in seconds since start: real time (when automatic) plus manual advances."""

    def __init__(self, *, auto: bool, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.auto = auto
        self._monotonic = monotonic
        self._start = monotonic()
        self._offset = 0.0
        self.wall_start = time.time()

    def now(self) -> float:
        real = self._monotonic() - self._start if self.auto else 0.0
        return real + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward (finite, >= 0, within a century in all)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise TypeError("the clock advances by a number of seconds")
        if not math.isfinite(seconds):
            raise ValueError("the clock advances by a finite number of seconds")
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        if self._offset + seconds > MAX_OFFSET_SECONDS:
            raise ValueError("the sandbox clock cannot move more than 100 years forward")
        self._offset += seconds

    def wall_now(self) -> float:
        return self.wall_start + self.now()
