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
from typing import TYPE_CHECKING, Never, Unpack

import attrs
import httpx

from ..._reliability.options import ReliabilityConfig, RequestOptions, TimeoutTypes
from ..._shared.call_status import is_final_call_status
from ..._shared.defaults import ENV_API_KEY
from ..._shared.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    InvalidParameterError,
)
from ..._shared.redact import mask_phone_numbers
from ..._storage.ledger import IdempotencyLedger
from ..._storage.limiter import CallLimiter
from ..call_limits import check_call_limiter
from ..methods import arguments_of, check_options, implements, reject_unknown
from ..operations import operation
from ..pagination import Page
from ..requests import build_request
from ..responses import parse_response
from ..settings import resolve_key
from .base import AsyncClientBase, AsyncResource
from .calls import AsyncCalls

if TYPE_CHECKING:
    from stateset_voice_public.models import (
        AccessRequest,
        CallDirection,
        CallLog,
        CallStatus,
        Evaluation,
        Readiness,
        VoiceSession,
        VoiceSessionStatus,
    )

    from ..calling_hours import CallingWindow

__all__ = ["AsyncVoiceClient"]

_log = logging.getLogger("stateset_voice.limits")


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
    processes for creates that carry an ``idempotency_key``; its entries are scoped to this
    client's base URL and key, or to ``ledger_scope`` when given.
    ``calling_window`` (:class:`CallingWindow`) refuses calls outside the callee's local hours.
    ``call_limiter`` (``RedisCallLimiter`` or ``InProcessCallLimiter``) caps concurrent calls
    and the make-call rate across every worker that shares it (``docs/fleet-limits.md``).

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
        ledger_scope: str | None = None,
        calling_window: CallingWindow | None = None,
        call_limiter: CallLimiter | None = None,
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
        if ledger_scope is not None:
            if not isinstance(ledger_scope, str) or not ledger_scope:
                raise InvalidParameterError("ledger_scope must be a non-empty string")
            self._ledger_scope = ledger_scope
        self._calling_window = calling_window
        self._call_limiter = check_call_limiter(call_limiter, ledger, self._config.deadline)
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

    async def release_ended_calls(self, **options: Unpack[RequestOptions]) -> list[str]:
        """Release the permits of calls that have ended, by their call logs; returns their IDs.

        For deployments without a webhook consumer to call ``release_for_call``: reads
        ``call_logs.get`` for every call holding a permit of this client's ``call_limiter`` and
        releases those whose status is final (completed, failed, busy, no-answer, canceled). A
        call whose log cannot be read keeps its permit (a warning is logged). Run it every few
        seconds while calls are in progress. Example::

            released = await voice.release_ended_calls()
        """
        limiter = self._call_limiter
        if limiter is None:
            raise InvalidParameterError("release_ended_calls needs a client with a call_limiter")
        check_options("call_logs.get", options)  # the caller's mistake is raised, once
        released: list[str] = []
        for call_id in await limiter.aattached_calls():
            try:
                log = await self.call_logs.get(call_id, **options)
            except (
                APIStatusError,
                APIConnectionError,
                APIResponseValidationError,
                InvalidParameterError,  # an ID the path cannot carry ("..", from the server)
            ) as exc:
                shown = mask_phone_numbers(call_id)
                _log.warning("call %s keeps its permit: %s", shown, type(exc).__name__)
                continue
            if log.call_id != call_id:  # another call's log says nothing about this one
                shown = mask_phone_numbers(call_id)
                _log.warning("call %s keeps its permit: the log is another call's", shown)
                continue
            if is_final_call_status(log.status) and await limiter.arelease_for_call(call_id):
                released.append(call_id)
        return released

    async def __aenter__(self) -> AsyncVoiceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
