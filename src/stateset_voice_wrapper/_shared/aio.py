"""asyncio helpers, loaded on first use: sync-only programs never import asyncio."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["asyncio_sleep", "run_in_thread"]

T = TypeVar("T")


async def asyncio_sleep(seconds: float) -> None:
    """``asyncio.sleep``, imported on first use."""
    import asyncio

    await asyncio.sleep(seconds)


async def run_in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (a store write) in a worker thread, off the event loop."""
    import asyncio

    return await asyncio.to_thread(fn, *args, **kwargs)
