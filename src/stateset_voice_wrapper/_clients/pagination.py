"""Pages of a listing, and lazy iteration over them: the one home of pagination.

:func:`page_from_envelope` turns a list envelope (``items``, ``total``, ``limit``, ``offset``,
``has_more``) into a :class:`Page`, checking it against the request that produced it.
:func:`iterate_pages` (sync) and :func:`aiterate_pages` (async, prefetching the next page while
the caller consumes the current one) follow the offsets they requested, never the server's, so
a server that repeats a page, moves its offset backwards or claims more items than it has ends
the listing with :class:`APIResponseValidationError` instead of looping or silently stopping
short. Only the current page (and, for async, the one being prefetched) is held in memory.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

import attrs

from .._shared.errors import APIResponseValidationError

__all__ = ["Page", "aiterate_pages", "iterate_pages", "page_from_envelope"]

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a list: the items and the envelope around them.

    Example::

        page = voice.call_logs.list_page(limit=50)
        print(len(page.items), "of", page.total, "next offset", page.next_offset)
    """

    items: list[T]
    total: int
    limit: int
    offset: int
    has_more: bool
    request_id: str | None = None

    @property
    def next_offset(self) -> int | None:
        """Offset of the next page, or None when this is the last one."""
        if not self.has_more:
            return None
        return self.offset + len(self.items)


def _inconsistent(detail: str, request_id: str | None) -> APIResponseValidationError:
    return APIResponseValidationError(
        f"inconsistent list page: {detail}; the listing was stopped", request_id=request_id
    )


def page_from_envelope(
    envelope: Any, *, limit: int, offset: int, request_id: str | None
) -> Page[Any]:
    """A :class:`Page` from a generated list model, checked against the requested window."""
    items = builtins.list(envelope.items)
    total, has_more = envelope.total, envelope.has_more
    if envelope.offset != offset:
        raise _inconsistent(f"asked for offset {offset}, got offset {envelope.offset}", request_id)
    if len(items) > limit:
        raise _inconsistent(f"asked for at most {limit} items, got {len(items)}", request_id)
    if total < 0:
        raise _inconsistent(f"total is {total}", request_id)
    end = offset + len(items)
    if has_more and not items:
        raise _inconsistent("has_more is true but the page is empty", request_id)
    if has_more and end >= total:
        raise _inconsistent(f"has_more is true but items end at {end} of total {total}", request_id)
    return Page(
        items=items,
        total=total,
        limit=envelope.limit,
        offset=envelope.offset,
        has_more=has_more,
        request_id=request_id,
    )


def _same_page(previous: Page[Any] | None, page: Page[Any]) -> bool:
    return previous is not None and bool(page.items) and page.items == previous.items


def iterate_pages(fetch: Callable[[int], Page[T]], start: int) -> Iterator[T]:
    """Yield every item, fetching the next page when the current one is used up."""
    offset: int | None = start
    previous: Page[T] | None = None
    while offset is not None:
        page = fetch(offset)
        if _same_page(previous, page):
            raise _inconsistent(
                f"the page at offset {offset} repeats the previous one", page.request_id
            )
        yield from page.items
        previous, offset = page, page.next_offset


async def aiterate_pages(
    fetch: Callable[[int], Awaitable[Page[T]]], start: int
) -> AsyncIterator[T]:
    """Yield every item; the next page is fetched while the caller consumes the current one."""
    import asyncio  # here, not at module level: sync users never load asyncio

    page = await fetch(start)
    previous: Page[T] | None = None
    while True:
        if _same_page(previous, page):
            raise _inconsistent(
                f"the page at offset {page.offset} repeats the previous one", page.request_id
            )
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
        previous, page = page, await pending
