"""Pages of a listing, and lazy iteration over them: one sync loop, one async loop with prefetch.

Both follow :attr:`Page.next_offset`, which decides when a listing ends (``has_more`` false,
``total`` reached, or an empty page), so they cannot disagree. Only the current page (and, for
async, the one being prefetched) is held in memory, however long the listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Generic, TypeVar

import attrs

__all__ = ["Page", "aiterate_pages", "iterate_pages"]

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a list: the items and the envelope around them."""

    items: list[T]
    total: int
    limit: int
    offset: int
    has_more: bool
    request_id: str | None = None

    @property
    def next_offset(self) -> int | None:
        """Offset of the next page, or None when this is the last one.

        An empty page ends iteration even if the server claims more, so a misbehaving server
        cannot make a loop spin forever.
        """
        if not self.items:
            return None
        nxt = self.offset + len(self.items)
        if not self.has_more or nxt >= self.total:
            return None
        return nxt


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
