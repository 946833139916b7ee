"""What the typed async clients share: one contract operation per method, sent on one reliable
connection pool, validated before it is sent and read into the generated model after.

Source of truth for ``_clients/_sync/base.py`` (``scripts/unasync`` writes it; ``make check``
fails if the two differ). Edit this file, then run ``make unasync``.
"""

from __future__ import annotations

import copy
import datetime
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar

import httpx

from ..._reliability.checks import check_header_map, check_query_map
from ..._reliability.options import (
    ReliabilityConfig,
    RequestOptions,
    ResponseInfo,
    TimeoutTypes,
    enter_overrides,
    leave_overrides,
    merge_overrides,
)
from ..._reliability.telemetry import OPERATION_EXTENSION
from ..._reliability.transport import ReliableTransport
from ..._shared import telemetry
from ..._shared.defaults import HEADER_REPLAYED, HEADER_SERVER_REQUEST_ID
from ..._shared.errors import InvalidParameterError, StateSetVoiceError
from ..._shared.redact import mask_number
from ..._storage.keys import ledger_scope
from ..._storage.ledger import IdempotencyLedger, LedgerEntry
from ..._storage.limiter import CallLimiter
from ..._storage.permits import Permit
from ..call_limits import call_id_of
from ..claims import Lease, deadline_within_leases
from ..methods import check_options
from ..operations import Operation, check_page_size, operation
from ..pagination import Page, aiterate_pages, page_from_envelope
from ..raw import RawResource, captured
from ..requests import BuiltRequest, build_request
from ..responses import parse_response
from ..settings import build_config, resolve_base_url

if TYPE_CHECKING:  # loaded with the first CallingWindow: zoneinfo, the area code table
    from ..calling_hours import CallingWindow

__all__ = ["AsyncClientBase", "AsyncResource"]

_log = logging.getLogger("stateset_voice.calling_hours")
_ledger_log = logging.getLogger("stateset_voice.ledger")

T = TypeVar("T")
P = ParamSpec("P")


class AsyncResource:
    """One resource of a client (``voice.calls``, ``admin.tenants``): methods over operations."""

    def __init__(self, owner: AsyncClientBase) -> None:
        self._owner = owner

    @property
    def with_raw_response(self) -> Any:
        """This resource's methods, each returning a :class:`RawResponse` around its result.

        ``raw_response(resource.method)`` is the same thing with the method's types kept.
        """
        return RawResource(self)

    async def _request(
        self,
        operation_id: str,
        method_name: str,
        arguments: Mapping[str, Any],
        options: RequestOptions,
    ) -> Any:
        """Validate, send and parse one operation; returns the generated model."""
        op = operation(operation_id)
        check_options(method_name, options)
        built = build_request(op, arguments, method_name)
        response, info = await self._owner._send(op, built, options)
        return parse_response(op, response, info, method_name)

    async def _page(
        self,
        operation_id: str,
        method_name: str,
        arguments: Mapping[str, Any],
        options: RequestOptions,
    ) -> Page[Any]:
        op = operation(operation_id)
        check_options(method_name, options)
        built = build_request(op, arguments, method_name)
        response, info = await self._owner._send(op, built, options)
        envelope = parse_response(op, response, info, method_name)
        window = dict(built.params)
        return page_from_envelope(
            envelope,
            limit=int(window.get("limit", envelope.limit)),
            offset=int(window.get("offset", 0)),
            request_id=info.request_id,
        )

    def _iterate(
        self,
        operation_id: str,
        method_name: str,
        arguments: Mapping[str, Any],
        options: RequestOptions,
        page_size: int | None,
    ) -> AsyncIterator[Any]:
        """Every item of a listing, lazily, page after page of ``page_size`` items."""
        op = operation(operation_id)
        check_options(method_name, options)
        size = check_page_size(op, page_size)
        page_name = method_name.rsplit(".", 1)[0] + ".list_page"
        # Validate the filters once, before the first page is requested.
        build_request(op, {**arguments, "limit": size, "offset": 0}, method_name)

        async def fetch(offset: int) -> Page[Any]:
            window = {**arguments, "limit": size, "offset": offset}
            return await self._page(operation_id, page_name, window, options)

        return aiterate_pages(fetch, 0)


class AsyncClientBase:
    """Settings, credentials and the connection pool of a typed client."""

    #: Which contract the client speaks: ``"public"`` (runtime) or ``"admin"``.
    _api: str = ""
    _ledger: IdempotencyLedger | None = None
    _ledger_wait: float = 0.0
    _ledger_scope: str | None = None
    _calling_window: CallingWindow | None = None
    _call_limiter: CallLimiter | None = None

    def __init__(
        self,
        *,
        key: str,
        base_url: str | None,
        reliability: ReliabilityConfig | None,
        timeout: TimeoutTypes | None,
        deadline: float | None,
        max_retries: int | None,
        limits: httpx.Limits | None,
        transport: httpx.AsyncBaseTransport | None,
        headers: Mapping[str, str] | None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        check_header_map("headers", headers)
        self._config = build_config(
            reliability, timeout=timeout, deadline=deadline, max_retries=max_retries, limits=limits
        )
        self._key = key
        self._defaults: RequestOptions = {}
        self._transport = ReliableTransport(config=self._config, async_transport=transport)
        # The one connection pool, created now so threads or tasks sharing the client never race
        # to. timeout=None: the transport's timeouts and deadline are in charge.
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=dict(headers or {}),
            transport=self._transport,
            timeout=None,  # noqa: S113 - the transport enforces timeouts and the deadline
            follow_redirects=False,
        )

    @property
    def reliability(self) -> ReliabilityConfig:
        """The client's reliability settings (timeouts, deadline, retries, budget)."""
        return self._config

    @property
    def ledger_scope(self) -> str:
        """The scope of this client's ledger entries: the one it was given, else a hash of the
        API it talks to and its credential (neither is stored). Two clients share ledger
        entries only when their scopes are equal, so sandbox and production, or two tenants,
        can share one store safely.
        """
        if self._ledger_scope is None:
            self._ledger_scope = ledger_scope(base_url=self.base_url, credential=self._key)
        return self._ledger_scope

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
    ) -> Self:
        """A copy of this client with other per-request defaults, sharing its connection pool.

        Example::

            patient = voice.with_options(deadline=120.0, max_retries=5)
            patient.call_logs.get("call_01J...")
        """
        check_header_map("extra_headers", extra_headers)
        check_query_map("extra_query", extra_query)
        given: dict[str, Any] = {
            "timeout": timeout,
            "deadline": deadline,
            "max_retries": max_retries,
            "extra_headers": extra_headers,
            "extra_query": extra_query,
        }
        clone = copy.copy(self)
        clone._defaults = {**self._defaults, **{k: v for k, v in given.items() if v is not None}}  # type: ignore[typeddict-item]
        for name, value in vars(self).items():
            if isinstance(value, AsyncResource):
                resource = copy.copy(value)
                resource._owner = clone
                setattr(clone, name, resource)
        return clone

    def _check_calling_window(self, to: str, ignore: bool, idempotency_key: str | None) -> None:
        """Refuse a call outside the calling window, before the ledger and any request; the
        client's ``wall_clock`` is the time."""
        window = self._calling_window
        if window is None:
            return
        from ..calling_hours import CallingWindow

        if not isinstance(window, CallingWindow):
            raise InvalidParameterError(
                f"calling_window must be a CallingWindow; got {type(window).__name__}",
                parameter="calling_window",
            )
        if ignore:
            _log.info(
                "calls.create to %s: calling window ignored by the caller", mask_number(str(to))
            )
            return
        now = datetime.datetime.fromtimestamp(self._config.wall_clock(), datetime.UTC)
        try:
            window.check(to, at=now)
        except StateSetVoiceError as exc:
            exc.idempotency_key = idempotency_key
            raise

    def _credentials(self, op: Operation) -> dict[str, str]:
        """The key, in the header the operation's security scheme names. A scheme whose header
        is also a parameter (Twilio's signature) is the caller's to send; an operation without
        security (access requests) gets no credential at all."""
        return {
            header: f"Bearer {self._key}" if scheme == "bearer" else self._key
            for header, scheme in op.credentials
            if header.lower() not in op.header_parameters
        }

    async def _send(
        self, op: Operation, built: BuiltRequest, options: RequestOptions
    ) -> tuple[httpx.Response, ResponseInfo]:
        merged: RequestOptions = {**self._defaults, **options}
        headers = dict(built.headers)
        params = list(built.params)
        for layer in (self._defaults, options):
            headers.update(layer.get("extra_headers") or {})
            params.extend((str(k), str(v)) for k, v in (layer.get("extra_query") or {}).items())
        headers.update(self._credentials(op))  # the credential is never replaced
        # request_options() without the context manager: the same merge and checks.
        overrides = merge_overrides(
            timeout=merged.get("timeout"),
            deadline=merged.get("deadline"),
            max_retries=merged.get("max_retries"),
            idempotency_key=built.idempotency_key,
        )
        token = enter_overrides(overrides)
        try:
            response = await self._http.request(
                built.method,
                built.path,
                params=tuple(params),
                headers=headers,
                json=built.json,
                data=built.form,
                extensions={OPERATION_EXTENSION: built.operation},
            )
        finally:
            leave_overrides(token)
        info = overrides.records[-1]
        if not info.request_id:
            info.request_id = response.headers.get(HEADER_SERVER_REQUEST_ID)
        info.replayed = info.replayed or response.headers.get(HEADER_REPLAYED) == "true"
        captured(response, info)
        return response, info

    async def _take_permit(
        self, claim: LedgerEntry | None, idempotency_key: str | None
    ) -> Permit | None:
        """A permit of the client's call limiter (None without one), before a create is sent.

        Refused (after the limiter's wait) or failed, nothing was sent: the ledger claim is
        given back as never sent, and the error carries the idempotency key.
        """
        limiter = self._call_limiter
        if limiter is None:
            return None
        try:
            return await limiter.aacquire(sleep=self._config.async_sleep)
        except BaseException as exc:
            if claim is not None:
                await claim.aabandon(maybe_sent=False)
            if isinstance(exc, StateSetVoiceError) and exc.idempotency_key is None:
                exc.idempotency_key = idempotency_key
            raise

    def _deadline_within_leases(
        self, options: RequestOptions, leases: list[Lease], idempotency_key: str | None
    ) -> RequestOptions:
        """``options`` with the deadline capped so that the create ends before its ledger claim
        and its permit do (``claims.py``); the same options when the deadline already does."""
        merged: RequestOptions = {**self._defaults, **options}
        # The call's own, else its client's with_options, else an enclosing request_options
        # block's, else the client's.
        wanted = merge_overrides(deadline=merged.get("deadline")).deadline
        if wanted is None:
            wanted = self._config.deadline
        capped = deadline_within_leases(wanted, leases, idempotency_key=idempotency_key)
        if capped is None:
            return options
        _ledger_log.debug(
            "calls.create: deadline capped at %.1f s, what is left of its lease", capped
        )
        return {**options, "deadline": capped}

    @staticmethod
    async def _attach_permit(permit: Permit, body: bytes) -> None:
        """Keep the permit for the call just placed, until its end is reported."""
        call_id = call_id_of(body)
        if call_id is not None:
            await permit.aattach(call_id)

    @staticmethod
    def _ledger_replayed() -> None:
        """Count a ``calls.create`` answered from the ledger (``stateset_voice.ledger.replays``)."""
        telemetry.add("stateset_voice.ledger.replays")

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, key='***')"
