"""The sync/async matrix in one place: the ``flavour`` fixture (tests/conftest.py) is a
:class:`Flavour`, and a test written once against it runs through the sync and the async API.

Each method does one thing the same way in both flavours and returns a plain value (or raises):
the async flavour awaits on an event loop it owns for the test (an :class:`asyncio.Runner`), so
a test body is plain sync code either way::

    def test_create(flavour: Flavour) -> None:
        voice = flavour.client("voice", KEY, base_url=URL)
        call = flavour.call(voice, lambda c: c.calls.create(to=TO, from_=FROM, agent_key="a"))

* :meth:`Flavour.client` builds ``VoiceClient``/``AsyncVoiceClient`` or
  ``AdminClient``/``AsyncAdminClient`` and closes it at teardown;
* :meth:`Flavour.run` and :meth:`Flavour.call` return a result, awaited in the async flavour;
* :meth:`Flavour.within` runs an operation inside the client's ``with``/``async with``;
* :meth:`Flavour.collect` drains a ``list()`` iterator (``for`` or ``async for``),
  :meth:`Flavour.take` draws its first items, :meth:`Flavour.drain` is ``collect`` not yet
  awaited (for a function given to ``call`` or ``within``);
* :meth:`Flavour.begin`, :meth:`Flavour.record`, :meth:`Flavour.abandon` are the ledger's
  ``begin``/``abegin``, ``record``/``arecord``, ``abandon``/``aabandon``;
* :meth:`Flavour.process` is the consumer's ``process``/``aprocess``;
* :meth:`Flavour.send` sends one raw request through a ``ReliableTransport`` under an
  ``httpx.Client`` or ``httpx.AsyncClient``.

Callbacks a test hands in (a ledger's ``sleep``, a consumer's handler) are plain functions;
the async flavour wraps them in coroutines. Code inside a callback runs on the loop in the async
flavour, so it uses the sync API of the *other* parties (another worker's ledger entry, a second
delivery): only the party under test changes flavour.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable
from typing import Any, Literal, TypeVar

import httpx

from stateset_voice_wrapper import (
    AdminClient,
    AsyncAdminClient,
    AsyncVoiceClient,
    ReliableTransport,
    VoiceClient,
)
from stateset_voice_wrapper.stores import (
    DEFAULT_LEDGER_SCOPE,
    Completed,
    IdempotencyLedger,
    LedgerEntry,
)
from stateset_voice_wrapper.webhooks import ExactlyOnceConsumer, ProcessResult

__all__ = ["FLAVOURS", "Flavour", "FlavourName", "Kind", "client_class"]

FlavourName = Literal["sync", "async"]
Kind = Literal["voice", "admin"]
FLAVOURS: tuple[FlavourName, FlavourName] = ("sync", "async")

_T = TypeVar("_T")
_E = TypeVar("_E")

_CLASSES: dict[tuple[FlavourName, Kind], type[Any]] = {
    ("sync", "voice"): VoiceClient,
    ("async", "voice"): AsyncVoiceClient,
    ("sync", "admin"): AdminClient,
    ("async", "admin"): AsyncAdminClient,
}


def client_class(flavour: FlavourName, kind: Kind = "voice") -> type[Any]:
    """``VoiceClient``/``AdminClient`` (sync) or their async twins."""
    return _CLASSES[(flavour, kind)]


class Flavour:
    """One side of the matrix; :meth:`close` (the fixture's teardown) closes what it opened."""

    def __init__(self, name: FlavourName) -> None:
        self.name: FlavourName = name
        self.is_async = name == "async"
        self._runner: asyncio.Runner | None = None
        self._clients: list[Any] = []
        self._http: dict[int, httpx.Client | httpx.AsyncClient] = {}

    def __repr__(self) -> str:
        return f"Flavour({self.name!r})"

    # -- awaiting ---------------------------------------------------------------------------

    def run(self, value: _T | Awaitable[_T]) -> _T:
        """``value`` itself (sync), or what it resolves to, awaited on this flavour's loop."""
        if not inspect.isawaitable(value):
            return value
        result: _T = self.wait(value)
        return result

    def wait(self, awaitable: Awaitable[_T]) -> _T:
        """What ``awaitable`` resolves to, awaited on this flavour's loop (async only)."""
        assert self.is_async, f"the sync flavour got an awaitable: {awaitable!r}"
        if self._runner is None:
            self._runner = asyncio.Runner()
        # The caller's context (request_options, response_info blocks) as the task's.
        return self._runner.run(_awaited(awaitable), context=contextvars.copy_context())

    def call(self, client: _E, fn: Callable[[_E], _T | Awaitable[_T]]) -> _T:
        """``fn(client)``: its result, or the exception it raises, in either flavour."""
        return self.run(fn(client))

    def within(self, client: _E, fn: Callable[[_E], _T | Awaitable[_T]]) -> _T:
        """``fn(client)`` inside the client's ``with`` or ``async with`` block."""
        if not self.is_async:
            with client as entered:  # type: ignore[attr-defined]
                return self.run(fn(entered))

        async def inside() -> _T:
            async with client as entered:  # type: ignore[attr-defined]
                result = fn(entered)
                return await result if inspect.isawaitable(result) else result

        return self.wait(inside())

    def take(self, items: Iterable[_T] | AsyncIterable[_T], n: int) -> list[_T]:
        """The first ``n`` items of a lazy iterator, drawing no further."""
        if self.is_async:
            assert isinstance(items, AsyncIterable), f"not an async iterable: {items!r}"
            iterator = aiter(items)
            return [self.wait(anext(iterator)) for _ in range(n)]
        assert isinstance(items, Iterable), f"not an iterable: {items!r}"
        sync_iterator = iter(items)
        return [next(sync_iterator) for _ in range(n)]

    def drain(self, items: Iterable[_T] | AsyncIterable[_T]) -> list[_T] | Awaitable[list[_T]]:
        """Every item of a lazy iterator, as a list (sync) or as a coroutine of one (async): for
        a function handed to :meth:`call` or :meth:`within`, which await it."""
        if self.is_async:
            assert isinstance(items, AsyncIterable), f"not an async iterable: {items!r}"
            aiterable: AsyncIterable[_T] = items

            async def drained() -> list[_T]:
                return [item async for item in aiterable]

            return drained()
        assert isinstance(items, Iterable), f"not an iterable: {items!r}"
        assert not isinstance(items, AsyncIterable)
        return list(items)

    def collect(self, items: Iterable[_T] | AsyncIterable[_T]) -> list[_T]:
        """Every item of a lazy iterator: ``for`` (sync) or ``async for`` (async)."""
        return self.run(self.drain(items))

    # -- clients ----------------------------------------------------------------------------

    def client_class(self, kind: Kind = "voice") -> type[Any]:
        """``VoiceClient``/``AdminClient`` or their async twins."""
        return client_class(self.name, kind)

    def client(self, kind: Kind = "voice", *args: Any, **kwargs: Any) -> Any:
        """A client of this flavour built with ``args``/``kwargs``; closed at teardown."""
        client = self.client_class(kind)(*args, **kwargs)
        self._clients.append(client)
        return client

    def close_client(self, client: Any) -> None:
        """``close()`` or ``aclose()``; closing twice is harmless."""
        if self.is_async:
            self.wait(client.aclose())
        else:
            client.close()

    # -- the idempotency ledger ---------------------------------------------------------------

    def begin(
        self,
        ledger: IdempotencyLedger,
        key: str,
        *,
        fingerprint: str,
        scope: str = DEFAULT_LEDGER_SCOPE,
        wait: float = 0.0,
        sleep: Callable[[float], None] | None = None,
    ) -> LedgerEntry | Completed:
        """``ledger.begin`` or ``ledger.abegin``; ``sleep`` (if any) is given to either."""
        if not self.is_async:
            if sleep is None:
                return ledger.begin(key, fingerprint=fingerprint, scope=scope, wait=wait)
            return ledger.begin(key, fingerprint=fingerprint, scope=scope, wait=wait, sleep=sleep)
        return self.wait(
            ledger.abegin(key, fingerprint=fingerprint, scope=scope, wait=wait, sleep=_async(sleep))
        )

    def record(self, entry: LedgerEntry, result: bytes) -> None:
        """``entry.record`` or ``entry.arecord``."""
        if self.is_async:
            self.wait(entry.arecord(result))
        else:
            entry.record(result)

    def abandon(self, entry: LedgerEntry, *, maybe_sent: bool = True) -> None:
        """``entry.abandon`` or ``entry.aabandon``."""
        if self.is_async:
            self.wait(entry.aabandon(maybe_sent=maybe_sent))
        else:
            entry.abandon(maybe_sent=maybe_sent)

    # -- the webhook consumer -----------------------------------------------------------------

    def process(
        self, consumer: ExactlyOnceConsumer, event: _E, handler: Callable[[_E], _T]
    ) -> ProcessResult[_T]:
        """``consumer.process(event, handler)`` or ``aprocess`` with ``handler`` as a coroutine."""
        if not self.is_async:
            return consumer.process(event, handler)

        async def ahandler(item: _E) -> _T:
            return handler(item)

        return self.wait(consumer.aprocess(event, ahandler))

    # -- raw requests through ReliableTransport ------------------------------------------------

    def send(
        self,
        transport: ReliableTransport,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        json: Any = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """One request through ``transport`` under ``httpx.Client`` or ``httpx.AsyncClient``.

        One client per transport, with no timeout of its own (as the generated clients), so
        the transport's timeouts are the ones in force unless ``timeout`` narrows them.
        """
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        http = self._http.get(id(transport))
        if http is None:
            http = (httpx.AsyncClient if self.is_async else httpx.Client)(
                transport=transport,
                timeout=None,
            )
            self._http[id(transport)] = http
        if isinstance(http, httpx.AsyncClient):
            return self.wait(
                http.request(method, url, headers=headers, content=content, json=json, **extra)
            )
        return http.request(method, url, headers=headers, content=content, json=json, **extra)

    # -- teardown -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close every client and the loop (the fixture's teardown)."""
        try:
            for client in self._clients:
                self.close_client(client)
            for http in self._http.values():
                if isinstance(http, httpx.AsyncClient):
                    self.wait(http.aclose())
                else:
                    http.close()
        finally:
            self._clients.clear()
            self._http.clear()
            if self._runner is not None:
                self._runner.close()
                self._runner = None


async def _awaited(value: Awaitable[_T]) -> _T:
    return await value


def _async(
    sleep: Callable[[float], None] | None,
) -> Callable[[float], Coroutine[Any, Any, None]] | None:
    if sleep is None:
        return None
    pause = sleep

    async def asleep(seconds: float) -> None:
        pause(seconds)

    return asleep
