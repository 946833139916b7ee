"""The attempt in progress, as the deadline guard below httpcore sees it.

The transport creates one :class:`AttemptGuard` per attempt and puts it in a context variable
for the attempt's duration (same thread, same asyncio task); the guarded network streams of
``deadline`` read it on every socket operation. Kept apart from ``deadline`` so that importing
the package does not import httpcore.
"""

from __future__ import annotations

import contextvars
import time

__all__ = ["AttemptGuard", "current_guard", "enter", "leave"]


class AttemptGuard:
    """One attempt's expiry (``time.monotonic()`` seconds, or None) and what it has done."""

    __slots__ = ("deadline_hit", "expires", "instrumented", "wrote")

    def __init__(self, expires: float | None) -> None:
        self.expires = expires
        #: A request byte was handed to the socket: the server may have seen the request.
        self.wrote = False
        #: A guarded stream served this attempt, so ``wrote`` is known (not just assumed).
        self.instrumented = False
        #: The guard cut an operation short because the deadline arrived.
        self.deadline_hit = False

    def cap(self, timeout: float | None, error: type[Exception]) -> float | None:
        """``timeout`` capped at the time left; raise ``error`` when none is left."""
        self.instrumented = True
        if self.expires is None:
            return timeout
        left = self.expires - time.monotonic()
        if left <= 0:
            self.deadline_hit = True
            raise error("the request's deadline passed")
        return left if timeout is None or left < timeout else timeout

    def note_timeout(self) -> None:
        """A capped operation timed out: the deadline did it if no time is left now."""
        if self.expires is not None and self.expires - time.monotonic() <= 0.001:
            self.deadline_hit = True


_CURRENT: contextvars.ContextVar[AttemptGuard | None] = contextvars.ContextVar(
    "stateset_voice_attempt_guard", default=None
)


def current_guard() -> AttemptGuard | None:
    return _CURRENT.get()


#: Make a guard the current one (returns the token for :data:`leave`), and put the previous
#: one back: the context variable's own methods, which cost no Python call on each attempt.
enter = _CURRENT.set
leave = _CURRENT.reset
