"""Lazy iteration over limit/offset pages: one sync loop, one async loop with prefetch.

Both follow :attr:`Page.next_offset`, which decides when a listing ends (``has_more`` false,
``total`` reached, or an empty page), so they cannot disagree. Only the current page (and, for
async, the one being prefetched) is held in memory, however long the listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from ._clientcore import Page

__all__ = ["aiterate_pages", "arun_blocking", "iterate_pages", "run_blocking"]

T = TypeVar("T")


def iterate_pages(fetch: Callable[[int], Page[T]], start: int) -> Iterator[T]:
    """Yield every item, fetching the next page when the current one is used up."""
    offset: int | None = start
    while offset is not None:
        page = fetch(offset)
        yield from page.items
        offset = page.next_offset


async def aiterate_pages(
    fetch: Callable[[int], Awaitable[Page[T]]], start: int
) -> AsyncIterator[T]:
    """Yield every item; the next page is fetched while the caller consumes the current one."""
    import asyncio  # here, not at module level: sync users never load asyncio

    page = await fetch(start)
    while True:
        nxt = page.next_offset
        pending = asyncio.ensure_future(fetch(nxt)) if nxt is not None else None
        try:
            for item in page.items:
                yield item
        except BaseException:
            if pending is not None:
                pending.cancel()
            raise
        if pending is None:
            return
        page = await pending


def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (the sync twin of :func:`arun_blocking`)."""
    return fn(*args, **kwargs)


async def arun_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (a ledger write) in a worker thread, off the event loop."""
    import asyncio

    return await asyncio.to_thread(fn, *args, **kwargs)
