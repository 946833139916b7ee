"""What the typed async clients share: one generated call per method, inside one
``request_options`` block, on one reliable connection pool.

Source of truth for ``_clients/_sync/base.py`` (``scripts/unasync`` writes it; ``make check`` fails if
the two differ). Edit this file, then run ``make unasync``.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ..._reliability.mapping import expect, parse_failure
from ..._reliability.options import ReliabilityConfig, ResponseInfo, TimeoutTypes, request_options
from ..._reliability.transport import ReliableTransport
from ..._shared.errors import StateSetVoiceError
from ..._storage.ledger import IdempotencyLedger
from ..pagination import Page, aiterate_pages
from ..settings import build_config, resolve_base_url
from ..validation import check_limit, check_offset

if TYPE_CHECKING:
    pass

__all__ = ["AsyncClientBase", "AsyncResource"]

T = TypeVar("T")


class AsyncResource:
    """Shared plumbing: one generated call inside one ``request_options`` block."""

    def __init__(self, owner: AsyncClientBase) -> None:
        self._owner = owner

    async def _call(
        self,
        what: str,
        endpoint: Callable[..., Awaitable[Any]],
        model: type[T],
        *,
        timeout: TimeoutTypes | None,
        deadline: float | None,
        max_retries: int | None,
        **kwargs: Any,
    ) -> tuple[T, ResponseInfo]:
        with request_options(
            timeout=timeout, deadline=deadline, max_retries=max_retries
        ) as options:
            record = options.records[-1]
            try:
                response = await endpoint(client=self._owner._generated, **kwargs)
            except StateSetVoiceError:
                raise
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                raise parse_failure(exc, record, what) from exc
        return expect(response.parsed, model, record, what), record

    def _iterate(
        self, list_page: Callable[..., Awaitable[Any]], page_size: int, **options: Any
    ) -> AsyncIterator[Any]:
        """Every item of a listing, lazily: ``list_page(limit=page_size, offset=..., **options)``
        page after page."""
        check_limit(page_size)

        async def fetch(offset: int) -> Page[Any]:
            result: Page[Any] = await list_page(limit=page_size, offset=offset, **options)
            return result

        return aiterate_pages(fetch, 0)

    async def _page(
        self,
        what: str,
        endpoint: Callable[..., Awaitable[Any]],
        model: type[Any],
        *,
        limit: int,
        offset: int,
        timeout: TimeoutTypes | None,
        deadline: float | None,
        max_retries: int | None,
        **filters: Any,
    ) -> Page[Any]:
        unset = {name: value for name, value in filters.items() if value is not None}
        envelope, record = await self._call(
            what,
            endpoint,
            model,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            limit=check_limit(limit),
            offset=check_offset(offset),
            **unset,
        )
        return Page(
            items=builtins.list(envelope.items),
            total=envelope.total,
            limit=envelope.limit,
            offset=envelope.offset,
            has_more=envelope.has_more,
            request_id=record.request_id,
        )


class AsyncClientBase:
    _generated: Any
    _ledger: IdempotencyLedger | None = None
    _ledger_wait: float = 0.0

    def __init__(
        self,
        *,
        generated_factory: Callable[..., Any],
        base_url: str | None,
        reliability: ReliabilityConfig | None,
        timeout: TimeoutTypes | None,
        deadline: float | None,
        max_retries: int | None,
        transport: httpx.AsyncBaseTransport | None,
        headers: Mapping[str, str] | None,
        auth: Mapping[str, Any],
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self._config = build_config(
            reliability, timeout=timeout, deadline=deadline, max_retries=max_retries
        )
        self._transport = ReliableTransport(config=self._config, async_transport=transport)
        # The generated AuthenticatedClient writes its auth header into the dict it is given:
        # hand it a private copy so credentials never leak into a caller's (or another client's) dict.
        self._generated = generated_factory(
            base_url=self.base_url,
            headers=dict(headers or {}),
            httpx_args={"transport": self._transport},
            **auth,
        )
        # Create the one connection pool now, so threads or tasks sharing the client never race to.
        self._generated.get_async_httpx_client()

    @property
    def reliability(self) -> ReliabilityConfig:
        """The client's reliability settings (timeouts, deadline, retries, budget)."""
        return self._config

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._generated.get_async_httpx_client().aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, key='***')"
