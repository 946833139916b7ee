"""asyncio helpers, loaded on first use: sync-only programs never import asyncio."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["asyncio_sleep", "deadline_scope", "run_in_thread", "scope_expired"]

T = TypeVar("T")


async def asyncio_sleep(seconds: float) -> None:
    """``asyncio.sleep``, imported on first use."""
    import asyncio

    await asyncio.sleep(seconds)


async def run_in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (a store write) in a worker thread, off the event loop."""
    import asyncio

    return await asyncio.to_thread(fn, *args, **kwargs)


def deadline_scope(seconds: float | None) -> contextlib.AbstractAsyncContextManager[Any]:
    """``asyncio.timeout(seconds)`` when running under asyncio (a hard bound: the task is
    cancelled at the deadline, whatever it awaits); a scope that does nothing otherwise (no
    deadline, or another event loop such as trio)."""
    import asyncio

    if seconds is None or asyncio._get_running_loop() is None:
        return contextlib.nullcontext()
    return asyncio.timeout(max(seconds, 0.0))


def scope_expired(scope: object) -> bool:
    """Whether a scope from :func:`deadline_scope` ran out (its TimeoutError is ours)."""
    expired = getattr(scope, "expired", None)
    return bool(expired()) if callable(expired) else False
