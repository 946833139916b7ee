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


def deadline_scope(seconds: float | None) -> contextlib.AbstractContextManager[Any]:
    """A hard bound on the block: ``anyio.fail_after(seconds)`` (a cancel scope, so the
    block is cancelled at the deadline whatever it awaits), or a scope that does nothing when
    there is no deadline.

    anyio (a dependency of httpx, whose async backend httpcore runs on) rather than
    ``asyncio.timeout``: httpcore shields its connection clean-up with anyio cancel scopes,
    which an anyio deadline respects and a bare ``task.cancel()`` does not; cancelled inside
    that clean-up, a connection would stay checked out of the pool. It also works under trio.
    """
    if seconds is None:
        return contextlib.nullcontext()
    import anyio

    return anyio.fail_after(max(seconds, 0.0))


def scope_expired(scope: object) -> bool:
    """Whether a scope from :func:`deadline_scope` ran out (its TimeoutError is ours)."""
    return bool(getattr(scope, "cancelled_caught", False))
