"""Raw access: a typed method's result together with the HTTP answer it came from.

:func:`raw_response` wraps any typed client method (sync or async) and keeps its signature;
``resource.with_raw_response.<method>`` is the same through an attribute. The clients hand each
answer to :func:`captured` while a wrapper is listening, so nothing is kept otherwise.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, TypeVar, overload

import attrs
import httpx

from .._reliability.options import ResponseInfo
from .._shared.defaults import HEADER_SERVER_REQUEST_ID
from .._shared.errors import InvalidParameterError

__all__ = ["RawResource", "RawResponse", "captured", "raw_response"]

T = TypeVar("T")
P = ParamSpec("P")

_RAW: contextvars.ContextVar[list[tuple[httpx.Response, ResponseInfo]] | None] = (
    contextvars.ContextVar("stateset_voice_raw_response", default=None)
)


def captured(response: httpx.Response, info: ResponseInfo) -> None:
    """Called by the clients for every answer; kept only inside a :func:`raw_response` call."""
    listening = _RAW.get()
    if listening is not None:
        listening.append((response, info))


@attrs.frozen
class RawResponse(Generic[T]):
    """A method's parsed result together with the HTTP answer it came from.

    Example::

        raw = raw_response(voice.calls.create)(to=..., from_=..., agent_key="front_desk")
        print(raw.status_code, raw.request_id, raw.idempotency_key, raw.rate_limit_remaining)
        call = raw.parsed
    """

    parsed: T
    status_code: int
    headers: httpx.Headers
    request_id: str | None
    client_request_id: str | None
    idempotency_key: str | None
    replayed: bool
    attempts: int

    def _int_header(self, name: str) -> int | None:
        value = self.headers.get(name)
        try:
            return None if value is None else int(value)
        except ValueError:
            return None

    @property
    def rate_limit_limit(self) -> int | None:
        """``X-RateLimit-Limit``: requests allowed per window, if the server said."""
        return self._int_header("x-ratelimit-limit")

    @property
    def rate_limit_remaining(self) -> int | None:
        """``X-RateLimit-Remaining``: requests left in this window, if the server said."""
        return self._int_header("x-ratelimit-remaining")

    @property
    def rate_limit_reset(self) -> int | None:
        """``X-RateLimit-Reset``: when the window resets, as the server sent it."""
        return self._int_header("x-ratelimit-reset")


def _raw(parsed: T, captured: list[tuple[httpx.Response, ResponseInfo]]) -> RawResponse[T]:
    if not captured:
        raise InvalidParameterError(
            "raw_response() wraps a typed client method that sends a request"
        )
    response, info = captured[-1]
    return RawResponse(
        parsed=parsed,
        status_code=response.status_code,
        headers=response.headers,
        request_id=info.request_id or response.headers.get(HEADER_SERVER_REQUEST_ID),
        client_request_id=info.client_request_id,
        idempotency_key=info.idempotency_key,
        replayed=info.replayed,
        attempts=info.attempts,
    )


# An async method also matches the second overload (T would be the awaitable); the first one,
# tried first, is the right answer for it.
@overload
def raw_response(  # type: ignore[overload-overlap]
    method: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[RawResponse[T]]]: ...


@overload
def raw_response(method: Callable[P, T]) -> Callable[P, RawResponse[T]]: ...


def raw_response(method: Callable[P, Any]) -> Callable[P, Any]:
    """Wrap a typed client method so it returns a :class:`RawResponse` around its result.

    Works for every method of the sync and async clients, and keeps their signatures for type
    checkers::

        raw = raw_response(voice.call_logs.get)("call_01J...")
        raw = await raw_response(avoice.call_logs.get)("call_01J...")
    """
    if inspect.iscoroutinefunction(method):

        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> RawResponse[Any]:
            captured: list[tuple[httpx.Response, ResponseInfo]] = []
            token = _RAW.set(captured)
            try:
                parsed = await method(*args, **kwargs)
            finally:
                _RAW.reset(token)
            return _raw(parsed, captured)

        return async_wrapper

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> RawResponse[Any]:
        captured: list[tuple[httpx.Response, ResponseInfo]] = []
        token = _RAW.set(captured)
        try:
            parsed = method(*args, **kwargs)
        finally:
            _RAW.reset(token)
        return _raw(parsed, captured)

    return wrapper


class RawResource:
    """``resource.with_raw_response``: the resource's methods, returning :class:`RawResponse`."""

    def __init__(self, resource: Any) -> None:
        self._resource = resource

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._resource, name)
        if name.startswith("_") or not callable(method) or name == "list":
            raise AttributeError(
                f"{type(self._resource).__name__}.with_raw_response has no {name!r}"
            )
        return raw_response(method)
