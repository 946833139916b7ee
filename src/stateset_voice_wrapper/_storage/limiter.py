"""Limits on outbound calls shared by every worker: concurrent calls and the make-call rate.

Providers cap a tenant's *concurrent* calls (Telnyx ``concurrent_call_limit``, Retell
``reserved_concurrency``) and its request rate; a per-process limit lets N workers place N times
as many. A :class:`CallLimiter` counts in one place for all of them::

    limiter = RedisCallLimiter("redis://cache:6379/0", name="tenant-42", concurrency=10, rate=5)
    voice = VoiceClient(call_limiter=limiter)       # calls.create takes a permit before sending
    limiter.release_for_call(event.call_id)         # in the call.completed/call.failed handler

* **Concurrency**: ``concurrency`` permit slots on the lease machinery (``permits.py``). A permit
  is taken before a create is sent, released at once if the send fails, and attached to the
  call when it is placed; the call's end releases it (the webhook consumer's
  :meth:`~CallLimiter.release_for_call`, or a call-log poll). ``lease_seconds`` bounds what a
  crashed worker holds before its call is placed, ``call_lease_seconds`` what a call whose end
  is never reported holds.
* **Rate**: at most ``rate`` make-call requests in any ``rate_window`` seconds (``rate.py``).

:class:`RedisCallLimiter` shares the limits across hosts; :class:`InProcessCallLimiter` is the
same API in one process's memory (both in ``call_limiters.py``; the permit is in
``permits.py``). Waiting (``wait`` seconds, backoff on the given ``sleep``) ends in
:class:`ConcurrencyLimitError` or :class:`CallRateLimitError`; nothing was sent.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Self, TypeVar

from .._shared.aio import asyncio_sleep
from .._shared.errors import InvalidParameterError
from .._shared.redact import mask_phone_numbers
from .aio import run_to_completion, run_undoable
from .errors import CallRateLimitError, ConcurrencyLimitError
from .keys import _stored_key
from .leases import LeaseStoreBase
from .permits import ConcurrencyLimit, Permit, SlotHold, check_call_id
from .rate import RateWindow

__all__ = [
    "DEFAULT_CALL_LEASE_SECONDS",
    "DEFAULT_PERMIT_LEASE_SECONDS",
    "CallLimiter",
    "check_count",
    "check_wait",
]

_T = TypeVar("_T")

#: A permit not yet attached to a call (its create is being sent) outlives the client's 60 s
#: deadline, like a ledger claim; after it, a crashed worker's permit is free again.
DEFAULT_PERMIT_LEASE_SECONDS: float = 120.0
#: A permit attached to a call whose end is never reported is free again after this long.
DEFAULT_CALL_LEASE_SECONDS: float = 3600.0
#: While waiting for a permit, poll after this long (jittered), doubling up to the maximum.
_FIRST_POLL_SECONDS = 0.05
_MAX_POLL_SECONDS = 1.0


def check_count(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"{name} must be a whole number, 1 or more", parameter=name)
    return value


def check_wait(wait: float) -> float:
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not wait >= 0:
        raise InvalidParameterError("wait must be a number of seconds, zero or more")
    if not math.isfinite(wait):
        raise InvalidParameterError("wait must be finite")
    return float(wait)


class _Patience:
    """How much of a wait is left, and the next pause: jittered backoff, or a known delay."""

    def __init__(self, wait: float) -> None:
        self.remaining = wait
        self.waited = 0.0
        self._delay = _FIRST_POLL_SECONDS

    def pause(self, known: float | None = None) -> float | None:
        if self.remaining <= 0:
            return None
        if known is None:  # a permit may come free at any moment: poll, spread over workers
            step = self._delay * (0.5 + random.random() / 2)
            self._delay = min(self._delay * 2, _MAX_POLL_SECONDS)
        else:  # the rate window says when: a little after, so waiters do not all wake at once
            step = known + random.random() * min(known, _FIRST_POLL_SECONDS)
        step = min(step, self.remaining)
        self.remaining -= step
        self.waited += step
        return step


class CallLimiter:
    """Concurrency and request-rate limits on outbound calls; see the module docstring.

    Use :class:`RedisCallLimiter` (a fleet) or :class:`InProcessCallLimiter` (one process).
    """

    def __init__(
        self,
        store: LeaseStoreBase,
        window: RateWindow | None,
        *,
        name: str,
        concurrency: int | None,
        rate: int | None,
        rate_window: float,
        lease_seconds: float,
        wait: float,
        clock: Callable[[], float],
        blocking: bool,
    ) -> None:
        self.name = name
        #: The name as messages show it: a limit named after a caller ID shows no number.
        self.shown_name = mask_phone_numbers(name)
        self.concurrency = concurrency
        self.rate = rate
        self.rate_window = rate_window
        self.lease_seconds = lease_seconds
        self.call_lease_seconds = store.retention_seconds
        self.wait = wait
        self.store = store
        self._window = window
        self._clock = clock
        self._blocking = blocking  # store calls do I/O: async code runs them in a thread
        self._rate_key = _stored_key(name, "rate")
        self._slots = (
            None
            if concurrency is None
            else ConcurrencyLimit(store, name=name, limit=concurrency, lease_seconds=lease_seconds)
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.shown_name!r}, concurrency={self.concurrency}, "
            f"rate={self.rate}, rate_window={self.rate_window})"
        )

    def _slots_or_fail(self) -> ConcurrencyLimit:
        assert self._slots is not None
        return self._slots

    # -- taking a permit ----------------------------------------------------------------------

    def acquire(
        self, *, wait: float | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> Permit:
        """A permit: a free concurrency slot, then a place in the rate window.

        Waits up to ``wait`` seconds (default: the limiter's ``wait``) of ``sleep``, then raises
        :class:`ConcurrencyLimitError` or :class:`CallRateLimitError`. A store failure raises
        :class:`StoreError`. Example::

            permit = limiter.acquire(wait=5.0)
            try:
                call = place_the_call()
            except BaseException:
                permit.release()
                raise
            permit.attach(call.call_id)
        """
        patience = _Patience(self.wait if wait is None else check_wait(wait))
        hold: SlotHold | None = None
        if self._slots is not None:
            while (hold := self._slots.try_take()) is None:
                pause = patience.pause()
                if pause is None:
                    raise self._no_permit(patience.waited)
                sleep(pause)
        try:
            while True:
                now, retry = self._try_admit()
                if retry is None:
                    return Permit(self, hold, now)
                pause = patience.pause(retry)
                if pause is None:
                    raise self._rate_full(patience.waited, retry)
                sleep(pause)
        except BaseException:
            if hold is not None:
                Permit(self, hold, 0.0).release()
            raise

    async def aacquire(
        self, *, wait: float | None = None, sleep: Callable[[float], Awaitable[None]] | None = None
    ) -> Permit:
        """:meth:`acquire` for async code (store calls run in a worker thread). A slot claimed
        for a task that was cancelled meanwhile is released as soon as it exists."""
        pause_for = asyncio_sleep if sleep is None else sleep
        patience = _Patience(self.wait if wait is None else check_wait(wait))
        hold: SlotHold | None = None
        slots = self._slots
        if slots is not None:
            while (hold := await self._atake(slots)) is None:
                pause = patience.pause()
                if pause is None:
                    raise self._no_permit(patience.waited)
                await pause_for(pause)
        try:
            while True:
                now, retry = await self._arun(self._try_admit, "a rate admission")
                if retry is None:
                    return Permit(self, hold, now)
                pause = patience.pause(retry)
                if pause is None:
                    raise self._rate_full(patience.waited, retry)
                await pause_for(pause)
        except BaseException:
            if hold is not None:
                await Permit(self, hold, 0.0).arelease()
            raise

    def _try_admit(self) -> tuple[float, float | None]:
        """(now, None): admitted at ``now``; (now, seconds): refused, a place frees that soon."""
        now = self._clock()
        if self._window is None or self.rate is None:
            return now, None
        return now, self._window.try_admit(
            self._rate_key, now=now, limit=self.rate, window=self.rate_window
        )

    async def _atake(self, slots: ConcurrencyLimit) -> SlotHold | None:
        if not self._blocking:
            return slots.try_take()

        def undo(hold: SlotHold | None) -> None:
            if hold is not None:
                slots.free(hold)

        return await run_undoable(
            slots.try_take, undo, what=f"releasing a cancelled permit of limit {self.shown_name!r}"
        )

    async def _arun(self, call: Callable[[], _T], what: str) -> _T:
        if not self._blocking:
            return call()
        return await run_to_completion(call, what=f"{what} of limit {self.shown_name!r}")

    def _no_permit(self, waited: float) -> ConcurrencyLimitError:
        return ConcurrencyLimitError(
            f"no permit of the concurrency limit {self.shown_name!r} was free (waited {waited:.3g} s); "
            "nothing was sent",
            limit=self.name,
            waited=waited,
        )

    def _rate_full(self, waited: float, retry_after: float) -> CallRateLimitError:
        return CallRateLimitError(
            f"the request rate limit {self.shown_name!r} was full (waited {waited:.3g} s); "
            "nothing was sent",
            limit=self.name,
            waited=waited,
            retry_after=retry_after,
        )

    # -- the call's end -----------------------------------------------------------------------

    def release_for_call(self, call_id: str) -> bool:
        """Release the permit of the call ``call_id``, from the webhook consumer's
        ``call.completed``/``call.failed`` handler (or a call-log poll).

        True if a permit was released; False if none was held for it (released already, or
        not attached yet: then it is released as soon as it is attached). Safe to call twice
        and for calls placed without the limiter. A store failure raises :class:`StoreError`:
        answer the delivery non-2xx, so that its redelivery tries again. Example::

            if event.type_ in ("call.completed", "call.failed"):
                limiter.release_for_call(event.call_id)
        """
        check_call_id(call_id)
        return self._slots is not None and self._slots.release_for_call(call_id)

    async def arelease_for_call(self, call_id: str) -> bool:
        """:meth:`release_for_call` from async code."""
        return await self._arun(lambda: self.release_for_call(call_id), "a release")

    def attached_calls(self) -> list[str]:
        """The IDs of the calls that hold a permit now (for a call-log poll)."""
        return [] if self._slots is None else self._slots.attached_calls()

    async def aattached_calls(self) -> list[str]:
        """:meth:`attached_calls` from async code."""
        return await self._arun(self.attached_calls, "a read")

    def in_use(self) -> int:
        """How many permits are held now (taken or attached), across every worker."""
        return 0 if self._slots is None else self._slots.in_use()

    def close(self) -> None:
        """Close the store (and the Redis client, if the limiter opened it)."""
        self.store.close()
        if self._window is not None:
            self._window.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
