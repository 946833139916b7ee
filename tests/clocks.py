"""The tests' clock: time moves only when a test moves it, so nothing sleeps for real."""

from __future__ import annotations

#: A fixed instant (2027-01-15) far from any clock change; the clock starts there.
T0 = 1_800_000_000.0


class FakeClock:
    """A clock to inject (``clock=``): reads ``now``, moved by :meth:`advance` or by setting it."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
