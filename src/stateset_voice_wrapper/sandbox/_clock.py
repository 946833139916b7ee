"""The sandbox clock: what drives call transitions, real time or test-controlled."""

from __future__ import annotations

import time
from collections.abc import Callable


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
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += seconds

    def wall_now(self) -> float:
        return self.wall_start + self.now()
