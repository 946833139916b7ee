"""Lease-store calls from async code that stay correct when the awaiting task is cancelled.

A store call runs in a worker thread, and cancelling the task that awaits it does not stop the
thread. Without care, a cancelled ``claim`` still takes the key in its thread and nobody ever
releases it (every retry is "in flight" until the lease expires), and a cancelled ``complete``
may never run at all if the thread pool had not started it yet. So:

* :func:`aclaim` releases a claim that its caller never received (the task was cancelled
  first), then lets the cancellation propagate at once;
* :func:`acomplete`, :func:`arelease` and :func:`run_to_completion` shield the thread: the
  operation finishes in the background and only the wait is cancelled.

asyncio is imported on first use: sync-only programs never load it.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .leases import Claimed, ClaimOutcome, LeaseStore

if TYPE_CHECKING:
    import asyncio

__all__ = ["aclaim", "acomplete", "arelease", "run_to_completion", "run_undoable"]

_T = TypeVar("_T")
_log = logging.getLogger("stateset_voice.stores")


class _Handoff:
    """Who owns a worker thread's result: the awaiting task, or (once it is cancelled) the undo."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.delivered = False
        self.abandoned = False


def _quietly(what: str, fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:
        _log.warning("%s failed after its caller was cancelled", what, exc_info=True)


def _in_thread(fn: Callable[[], _T]) -> asyncio.Future[_T]:
    import asyncio

    loop = asyncio.get_running_loop()
    return loop.run_in_executor(None, contextvars.copy_context().run, fn)


async def run_undoable(call: Callable[[], _T], undo: Callable[[_T], None], *, what: str) -> _T:
    """``call()`` in a worker thread; if the awaiting task is cancelled before it receives the
    result, ``undo(result)`` runs once the result exists (in a thread, errors logged)."""
    import asyncio

    handoff = _Handoff()

    def work() -> _T:
        result = call()
        with handoff.lock:
            if not handoff.abandoned:
                handoff.delivered = True
                return result
        _quietly(what, lambda: undo(result))  # the caller was cancelled while we ran
        return result

    future = _in_thread(work)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with handoff.lock:
            handoff.abandoned = True
            delivered = handoff.delivered
        if delivered:
            # The thread handed its result over, but the task was cancelled before taking it.
            future.add_done_callback(functools.partial(_undo_in_thread, undo, what))
        raise


def _undo_in_thread(undo: Callable[[_T], None], what: str, future: asyncio.Future[_T]) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    result = future.result()
    # Not the loop's executor: the loop may be shutting down; a plain thread always runs.
    threading.Thread(target=_quietly, args=(what, lambda: undo(result)), name=what).start()


async def run_to_completion(call: Callable[[], _T], *, what: str) -> _T:
    """``call()`` in a worker thread that finishes even if the awaiting task is cancelled (an
    error it raises after the cancellation is logged at WARNING)."""
    import asyncio

    future = _in_thread(call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(functools.partial(_log_late_failure, what))
        raise


def _log_late_failure(what: str, future: asyncio.Future[object]) -> None:
    if not future.cancelled() and future.exception() is not None:
        _log.warning("%s failed after its caller was cancelled", what, exc_info=future.exception())


async def aclaim(
    store: LeaseStore, key: str, *, fingerprint: str, lease_seconds: float
) -> ClaimOutcome:
    """``store.claim`` from async code: a claim whose caller was cancelled is released.

    >>> outcome = await aclaim(store, "job-1", fingerprint="v1", lease_seconds=60)  # doctest: +SKIP
    """

    def undo(outcome: ClaimOutcome) -> None:
        if isinstance(outcome, Claimed):
            store.release(key, token=outcome.token)

    return await run_undoable(
        lambda: store.claim(key, fingerprint=fingerprint, lease_seconds=lease_seconds),
        undo,
        what=f"releasing the cancelled claim of {key!r}",
    )


async def acomplete(store: LeaseStore, key: str, *, token: str, result: bytes) -> bool:
    """``store.complete`` from async code; it finishes even if the caller is cancelled."""
    return await run_to_completion(
        lambda: store.complete(key, token=token, result=result), what=f"completing {key!r}"
    )


async def arelease(store: LeaseStore, key: str, *, token: str, remember: bool = False) -> bool:
    """``store.release`` from async code; it finishes even if the caller is cancelled."""
    return await run_to_completion(
        lambda: store.release(key, token=token, remember=remember), what=f"releasing {key!r}"
    )
