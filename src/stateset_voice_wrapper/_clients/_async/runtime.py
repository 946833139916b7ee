"""The typed async runtime client, ``AsyncVoiceClient``: calls, call logs, voice sessions,
evaluations, access requests, inbound calls and readiness.

Source of truth for ``_clients/_sync/runtime.py`` (``VoiceClient``): ``scripts/unasync`` writes
it and ``make check`` fails if the two differ. Each method names one operation of the runtime
contract; its arguments are checked against the contract's facts before anything is sent
(``operations.build_request``), and the 2xx answer is read into the generated model. The
signatures are explicit so that editors complete them and mypy checks callers;
``tests/test_contract_coverage.py`` proves from the contract that every parameter is here.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Never, Unpack

import attrs
import httpx

from ..._reliability.options import ReliabilityConfig, RequestOptions, ResponseInfo, TimeoutTypes
from ..._shared.defaults import ENV_API_KEY
from ..._shared.errors import StateSetVoiceError
from ..._storage.leases import Completed
from ..._storage.ledger import IdempotencyLedger, fingerprint_request
from ..methods import arguments_of, check_options, implements, reject_unknown
from ..operations import operation
from ..pagination import Page
from ..requests import build_request
from ..responses import parse_response
from ..settings import resolve_key
from .base import AsyncClientBase, AsyncResource

if TYPE_CHECKING:
    from stateset_voice_public.models import (
        AccessRequest,
        Call,
        CallDirection,
        CallLog,
        CallStatus,
        Evaluation,
        Readiness,
        VoiceSession,
        VoiceSessionStatus,
    )

__all__ = ["AsyncVoiceClient"]

_log = logging.getLogger("stateset_voice.ledger")


class AsyncCalls(AsyncResource):
    """Outbound calls (``POST /api/v1/make-call``)."""

    @implements("make_call")
    async def create(
        self,
        *,
        to: str,
        from_: str,
        agent_key: str,
        greeting: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        wait_for_in_flight: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> Call:
        """Place an outbound call; safe to retry with the same ``idempotency_key``.

        Pass a business key (``"appt-A-123-confirm"``): every attempt and every later retry with
        that key reaches the server as one call. With a ledger on the client, a key that already
        completed returns the recorded call without a request, a key in flight elsewhere raises
        :class:`DuplicateCallInFlightError` (or waits ``wait_for_in_flight`` seconds), and a key
        reused with other parameters raises :class:`IdempotencyConflictError`. Without a key, the
        transport sends a fresh one, so its own retries are still safe.

        Example::

            call = await voice.calls.create(to="+15555550101", from_="+15555551234",
                                            agent_key="front_desk", idempotency_key="appt-A-123")
        """
        arguments = arguments_of(locals())
        del arguments["wait_for_in_flight"]
        ledger = self._owner._ledger
        if ledger is None or idempotency_key is None:
            call: Call = await self._request("make_call", "calls.create", arguments, options)
            return call
        op = operation("make_call")
        check_options("calls.create", options)
        built = build_request(op, arguments, "calls.create")
        wait = self._owner._ledger_wait if wait_for_in_flight is None else wait_for_in_flight
        claim = await ledger.abegin(
            idempotency_key,
            fingerprint=fingerprint_request(built.json or {}),
            wait=wait,
            sleep=self._owner._config.async_sleep,
        )
        if isinstance(claim, Completed):
            self._owner._ledger_replayed()
            # Read the recorded answer exactly as a live one, through the same checks.
            replay = httpx.Response(
                201, content=claim.result, headers={"content-type": "application/json"}
            )
            info = ResponseInfo(idempotency_key=idempotency_key, replayed=True)
            recorded: Call = parse_response(op, replay, info, "calls.create")
            return recorded
        try:
            response, info = await self._owner._send(op, built, options)
        except BaseException:
            await claim.aabandon()
            raise
        # A 2xx: the call exists. Record what the server said before anything else can fail.
        try:
            await claim.arecord(response.content)
        except StateSetVoiceError:
            _log.warning(
                "calls.create: the call was placed but the ledger could not record it; a retry"
                " with the same key is sent again and deduplicated by the server"
                " (idempotency_key=%s)",
                idempotency_key,
            )
        placed: Call = parse_response(op, response, info, "calls.create")
        return placed


class AsyncCallLogs(AsyncResource):
    """Operational call history (``/api/v1/call-logs``)."""

    @implements("list_call_logs")
    async def list_page(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        status: CallStatus | str | None = None,
        direction: CallDirection | str | None = None,
        agent_key: str | None = None,
        created_after: datetime.datetime | str | None = None,
        created_before: datetime.datetime | str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Page[CallLog]:
        """One page of call logs, newest first: ``items``, ``total``, ``has_more``.

        ``created_after``/``created_before`` take a timezone-aware ``datetime`` or an RFC 3339
        string. Example::

            page = await voice.call_logs.list_page(status="completed", limit=50)
        """
        return await self._page(
            "list_call_logs", "call_logs.list_page", arguments_of(locals()), options
        )

    @implements("list_call_logs")
    def list(
        self,
        *,
        page_size: int | None = None,
        status: CallStatus | str | None = None,
        direction: CallDirection | str | None = None,
        agent_key: str | None = None,
        created_after: datetime.datetime | str | None = None,
        created_before: datetime.datetime | str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[CallLog]:
        """Every call log, lazily, page by page (``deadline`` applies to each page request).

        Example::

            async for log in voice.call_logs.list(status="completed"):
                print(log.call_id, log.duration_seconds)
        """
        return self._iterate(
            "list_call_logs", "call_logs.list", arguments_of(locals()), options, page_size
        )

    @implements("get_call_log")
    async def get(self, call_id: str, **options: Unpack[RequestOptions]) -> CallLog:
        """One call's log. Example: ``await voice.call_logs.get("call_01J...")``."""
        result: CallLog = await self._request(
            "get_call_log", "call_logs.get", arguments_of(locals()), options
        )
        return result


class AsyncSessions(AsyncResource):
    """Voice sessions with transcripts, tool calls, tags and QA state (``/api/v1/voice-sessions``)."""

    @implements("list_voice_sessions")
    async def list_page(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        status: VoiceSessionStatus | str | None = None,
        call_id: str | None = None,
        agent_key: str | None = None,
        tag: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Page[VoiceSession]:
        """One page of voice sessions, newest first."""
        return await self._page(
            "list_voice_sessions", "sessions.list_page", arguments_of(locals()), options
        )

    @implements("list_voice_sessions")
    def list(
        self,
        *,
        page_size: int | None = None,
        status: VoiceSessionStatus | str | None = None,
        call_id: str | None = None,
        agent_key: str | None = None,
        tag: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[VoiceSession]:
        """Every voice session, lazily, page by page."""
        return self._iterate(
            "list_voice_sessions", "sessions.list", arguments_of(locals()), options, page_size
        )

    @implements("get_voice_session")
    async def get(self, session_id: str, **options: Unpack[RequestOptions]) -> VoiceSession:
        """One voice session with its transcript."""
        result: VoiceSession = await self._request(
            "get_voice_session", "sessions.get", arguments_of(locals()), options
        )
        return result


class AsyncEvaluations(AsyncResource):
    """QA evaluations of voice sessions (``/api/v1/evaluations``)."""

    @implements("list_evaluations")
    async def list_page(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        session_id: str | None = None,
        call_id: str | None = None,
        passed: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> Page[Evaluation]:
        """One page of evaluations, newest first."""
        return await self._page(
            "list_evaluations", "evaluations.list_page", arguments_of(locals()), options
        )

    @implements("list_evaluations")
    def list(
        self,
        *,
        page_size: int | None = None,
        session_id: str | None = None,
        call_id: str | None = None,
        passed: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[Evaluation]:
        """Every evaluation, lazily, page by page."""
        return self._iterate(
            "list_evaluations", "evaluations.list", arguments_of(locals()), options, page_size
        )

    @implements("get_evaluation")
    async def get(self, evaluation_id: str, **options: Unpack[RequestOptions]) -> Evaluation:
        """One evaluation."""
        result: Evaluation = await self._request(
            "get_evaluation", "evaluations.get", arguments_of(locals()), options
        )
        return result


class AsyncAccessRequests(AsyncResource):
    """API key access requests (``POST /api/v1/access-requests``; no credential is sent)."""

    @implements("create_access_request")
    async def create(
        self,
        *,
        company: str,
        contact_name: str,
        email: str,
        use_case: str,
        expected_monthly_minutes: int | None = None,
        launch_timeline: str | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AccessRequest:
        """Submit an access request for review."""
        result: AccessRequest = await self._request(
            "create_access_request", "access_requests.create", arguments_of(locals()), options
        )
        return result


class AsyncInbound(AsyncResource):
    """Twilio inbound calls (``POST /api/v1/incoming-call``), for forwarders that relay them."""

    @implements("handle_incoming_call", renamed={"x_twilio_signature": "signature"}, form="params")
    async def handle(
        self,
        params: Mapping[str, str],
        *,
        signature: str,
        **options: Unpack[RequestOptions],
    ) -> str:
        """Relay Twilio's signed voice webhook; returns the TwiML that connects the media stream.

        ``params`` is Twilio's whole form, passed on unchanged (the signature covers every
        parameter); the contract's required ones are checked first.
        """
        op = operation("handle_incoming_call")
        check_options("inbound.handle", options)
        fields = {a.name: a.python_name for a in op.arguments.values() if a.location == "body"}
        known = {fields[name]: value for name, value in params.items() if name in fields}
        header = next(a.python_name for a in op.arguments.values() if a.location == "header")
        built = build_request(op, {**known, header: signature}, "inbound.handle")
        form = {str(name): str(value) for name, value in params.items()}
        response, info = await self._owner._send(op, attrs.evolve(built, form=form), options)
        twiml: str = parse_response(op, response, info, "inbound.handle")
        return twiml


class AsyncVoiceClient(AsyncClientBase):
    """The tenant runtime client: calls, call logs, sessions, evaluations, readiness.

    The key comes from ``api_key`` or ``STATESET_VOICE_API_KEY``; the base URL from ``base_url``
    or ``STATESET_VOICE_BASE_URL`` (default ``https://voice.stateset.app``). ``timeout``,
    ``deadline`` and ``max_retries`` set the client's defaults; every method takes them too.
    ``limits`` (an ``httpx.Limits``) sizes the connection pool (default 100 connections).
    ``ledger`` (``SqliteLedger`` or ``RedisLedger``) blocks duplicate outbound calls across
    processes for creates that carry an ``idempotency_key``.

    Example::

        async with AsyncVoiceClient() as voice:
            call = await voice.calls.create(to="+15555550101", from_="+15555551234",
                                            agent_key="support_primary", idempotency_key="order-42")
            async for log in voice.call_logs.list(status="completed"):
                print(log.call_id, log.duration_seconds)
    """

    _api = "public"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        limits: httpx.Limits | None = None,
        ledger: IdempotencyLedger | None = None,
        ledger_wait: float = 0.0,
        reliability: ReliabilityConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        **unknown: Never,
    ) -> None:
        reject_unknown("AsyncVoiceClient", unknown)
        super().__init__(
            key=resolve_key(api_key, env=ENV_API_KEY, what="runtime API key"),
            base_url=base_url,
            reliability=reliability,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            limits=limits,
            transport=transport,
            headers=headers,
        )
        self._ledger = ledger
        self._ledger_wait = ledger_wait
        self.calls = AsyncCalls(self)
        self.call_logs = AsyncCallLogs(self)
        self.sessions = AsyncSessions(self)
        self.evaluations = AsyncEvaluations(self)
        self.access_requests = AsyncAccessRequests(self)
        self.inbound = AsyncInbound(self)
        self._misc = AsyncResource(self)

    @implements("get_readiness")
    async def readiness(self, **options: Unpack[RequestOptions]) -> Readiness:
        """Verify the credential and whether the tenant can place and receive calls now."""
        ready: Readiness = await self._misc._request("get_readiness", "readiness", {}, options)
        return ready

    async def __aenter__(self) -> AsyncVoiceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
