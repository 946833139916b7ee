"""The typed async runtime client, ``AsyncVoiceClient``: calls, call logs, voice sessions,
evaluations, access requests, inbound calls and readiness.

Source of truth for ``_clients/_sync/runtime.py`` (``VoiceClient``): ``scripts/unasync`` writes it and
``make check`` fails if the two differ. Each method validates its arguments before anything is
sent, calls one generated ``*_detailed`` function named in ``operations`` and returns the
generated attrs model; reliability (timeouts, deadline, retries, IDs, typed errors) comes from
the transport.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Never

import httpx

from ..._reliability.options import ReliabilityConfig, TimeoutTypes
from ..._shared.defaults import DEFAULT_ITER_PAGE_SIZE, ENV_API_KEY
from ..._shared.errors import InvalidParameterError
from ..._storage.leases import Completed
from ..._storage.ledger import IdempotencyLedger, fingerprint_request
from .. import operations as ops
from ..pagination import Page
from ..settings import new_idempotency_key, resolve_key
from ..validation import check_agent_key, check_enum, check_metadata, check_phone, reject_unknown
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


class AsyncCalls(AsyncResource):
    """Outbound calls (``POST /api/v1/make-call``)."""

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
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Call:
        """Place an outbound call; safe to retry with the same ``idempotency_key``.

        Pass a business key (``"appt-A-123-confirm"``): every attempt and every later retry with
        that key reaches the server as one call. With a ledger on the client, a key that already
        completed returns the recorded call without a request, a key in flight elsewhere raises
        :class:`DuplicateCallInFlightError` (or waits ``wait_for_in_flight`` seconds), and a key
        reused with other parameters raises :class:`IdempotencyConflictError`.

        Example::

            call = await voice.calls.create(to="+15555555678", from_="+15555551234",
                                            agent_key="front_desk", idempotency_key="appt-A-123")
        """
        reject_unknown("calls.create", unknown)
        check_phone("to", to)
        check_phone("from_", from_)
        check_agent_key(agent_key)
        meta = check_metadata(metadata)
        if idempotency_key is not None and not idempotency_key.strip():
            raise InvalidParameterError("idempotency_key must be a non-empty string when given")
        models = ops.public_models
        body = models.MakeCallRequest(to=to, from_=from_, agent_key=agent_key)
        if greeting is not None:
            body.greeting = greeting
        if meta is not None:
            body.metadata = models.CallMetadata.from_dict(meta)
        key = idempotency_key or new_idempotency_key()
        ledger = self._owner._ledger
        if ledger is None or idempotency_key is None:
            call, _ = await self._call(
                "calls.create",
                ops.make_call.asyncio_detailed,
                models.Call,
                body=body,
                idempotency_key=key,
                timeout=timeout,
                deadline=deadline,
                max_retries=max_retries,
            )
            return call
        fingerprint = fingerprint_request(body.to_dict())
        wait = self._owner._ledger_wait if wait_for_in_flight is None else wait_for_in_flight
        claim = await ledger.abegin(
            key, fingerprint=fingerprint, wait=wait, sleep=self._owner._config.async_sleep
        )
        if isinstance(claim, Completed):
            return models.Call.from_dict(json.loads(claim.result))
        try:
            call, _ = await self._call(
                "calls.create",
                ops.make_call.asyncio_detailed,
                models.Call,
                body=body,
                idempotency_key=key,
                timeout=timeout,
                deadline=deadline,
                max_retries=max_retries,
            )
        except BaseException:
            await claim.aabandon()
            raise
        await claim.arecord(json.dumps(call.to_dict(), sort_keys=True).encode())
        return call


class AsyncCallLogs(AsyncResource):
    """Operational call history (``/api/v1/call-logs``)."""

    async def list_page(
        self,
        *,
        limit: int = 25,
        offset: int = 0,
        status: CallStatus | str | None = None,
        direction: CallDirection | str | None = None,
        agent_key: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Page[CallLog]:
        """One page of call logs, newest first: ``items``, ``total``, ``has_more``."""
        reject_unknown("call_logs.list_page", unknown)
        models = ops.public_models
        return await self._page(
            "call_logs.list_page",
            ops.list_call_logs.asyncio_detailed,
            models.CallLogList,
            limit=limit,
            offset=offset,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            status=None if status is None else check_enum(models.CallStatus, status, "status"),
            direction=None
            if direction is None
            else check_enum(models.CallDirection, direction, "direction"),
            agent_key=agent_key,
        )

    def list(
        self,
        *,
        page_size: int = DEFAULT_ITER_PAGE_SIZE,
        status: CallStatus | str | None = None,
        direction: CallDirection | str | None = None,
        agent_key: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AsyncIterator[CallLog]:
        """Every call log, lazily, page by page (``deadline`` applies to each page request)."""
        reject_unknown("call_logs.list", unknown)
        return self._iterate(
            self.list_page,
            page_size,
            status=status,
            direction=direction,
            agent_key=agent_key,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )

    async def get(
        self,
        call_id: str,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> CallLog:
        """One call's log."""
        reject_unknown("call_logs.get", unknown)
        check_agent_key(call_id, "call_id")
        log, _ = await self._call(
            "call_logs.get",
            ops.get_call_log.asyncio_detailed,
            ops.public_models.CallLog,
            call_id=call_id,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return log


class AsyncSessions(AsyncResource):
    """Voice sessions with transcripts, tool calls, tags and QA state (``/api/v1/voice-sessions``)."""

    async def list_page(
        self,
        *,
        limit: int = 25,
        offset: int = 0,
        status: VoiceSessionStatus | str | None = None,
        call_id: str | None = None,
        agent_key: str | None = None,
        tag: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Page[VoiceSession]:
        """One page of voice sessions, newest first."""
        reject_unknown("sessions.list_page", unknown)
        models = ops.public_models
        return await self._page(
            "sessions.list_page",
            ops.list_voice_sessions.asyncio_detailed,
            models.VoiceSessionList,
            limit=limit,
            offset=offset,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            status=None
            if status is None
            else check_enum(models.VoiceSessionStatus, status, "status"),
            call_id=call_id,
            agent_key=agent_key,
            tag=tag,
        )

    def list(
        self,
        *,
        page_size: int = DEFAULT_ITER_PAGE_SIZE,
        status: VoiceSessionStatus | str | None = None,
        call_id: str | None = None,
        agent_key: str | None = None,
        tag: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AsyncIterator[VoiceSession]:
        """Every voice session, lazily, page by page."""
        reject_unknown("sessions.list", unknown)
        return self._iterate(
            self.list_page,
            page_size,
            status=status,
            call_id=call_id,
            agent_key=agent_key,
            tag=tag,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )

    async def get(
        self,
        session_id: str,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> VoiceSession:
        """One voice session with its transcript."""
        reject_unknown("sessions.get", unknown)
        check_agent_key(session_id, "session_id")
        session, _ = await self._call(
            "sessions.get",
            ops.get_voice_session.asyncio_detailed,
            ops.public_models.VoiceSession,
            session_id=session_id,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return session


class AsyncEvaluations(AsyncResource):
    """QA evaluations of voice sessions (``/api/v1/evaluations``)."""

    async def list_page(
        self,
        *,
        limit: int = 25,
        offset: int = 0,
        session_id: str | None = None,
        call_id: str | None = None,
        passed: bool | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Page[Evaluation]:
        """One page of evaluations, newest first."""
        reject_unknown("evaluations.list_page", unknown)
        return await self._page(
            "evaluations.list_page",
            ops.list_evaluations.asyncio_detailed,
            ops.public_models.EvaluationList,
            limit=limit,
            offset=offset,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            session_id=session_id,
            call_id=call_id,
            passed=passed,
        )

    def list(
        self,
        *,
        page_size: int = DEFAULT_ITER_PAGE_SIZE,
        session_id: str | None = None,
        call_id: str | None = None,
        passed: bool | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AsyncIterator[Evaluation]:
        """Every evaluation, lazily, page by page."""
        reject_unknown("evaluations.list", unknown)
        return self._iterate(
            self.list_page,
            page_size,
            session_id=session_id,
            call_id=call_id,
            passed=passed,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )

    async def get(
        self,
        evaluation_id: str,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Evaluation:
        """One evaluation."""
        reject_unknown("evaluations.get", unknown)
        check_agent_key(evaluation_id, "evaluation_id")
        evaluation, _ = await self._call(
            "evaluations.get",
            ops.get_evaluation.asyncio_detailed,
            ops.public_models.Evaluation,
            evaluation_id=evaluation_id,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return evaluation


class AsyncAccessRequests(AsyncResource):
    """API key access requests (``POST /api/v1/access-requests``)."""

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
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AccessRequest:
        """Submit an access request for review."""
        reject_unknown("access_requests.create", unknown)
        for name, value in (
            ("company", company),
            ("contact_name", contact_name),
            ("use_case", use_case),
        ):
            check_agent_key(value, name)
        if "@" not in email:
            raise InvalidParameterError("email must be an email address")
        models = ops.public_models
        body = models.AccessRequestCreate(
            company=company, contact_name=contact_name, email=email, use_case=use_case
        )
        if expected_monthly_minutes is not None:
            body.expected_monthly_minutes = expected_monthly_minutes
        if launch_timeline is not None:
            body.launch_timeline = launch_timeline
        created, _ = await self._call(
            "access_requests.create",
            ops.create_access_request.asyncio_detailed,
            models.AccessRequest,
            body=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return created


class AsyncInbound(AsyncResource):
    """Twilio inbound calls (``POST /api/v1/incoming-call``), for forwarders that relay them."""

    async def handle(
        self,
        params: Mapping[str, str],
        *,
        signature: str,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> str:
        """Relay Twilio's signed voice webhook; returns the TwiML that connects the media stream."""
        reject_unknown("inbound.handle", unknown)
        if not signature:
            raise InvalidParameterError("signature (the X-Twilio-Signature header) is required")
        try:
            body = ops.public_models.TwilioVoiceWebhook.from_dict(dict(params))
        except KeyError as exc:
            raise InvalidParameterError(
                f"Twilio webhook parameter {exc.args[0]!r} is missing"
            ) from exc
        twiml, _ = await self._call(
            "inbound.handle",
            ops.handle_incoming_call.asyncio_detailed,
            str,
            body=body,
            x_twilio_signature=signature,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return twiml


class AsyncVoiceClient(AsyncClientBase):
    """The tenant runtime client: calls, call logs, sessions, evaluations, readiness.

    The key comes from ``api_key`` or ``STATESET_VOICE_API_KEY``; the base URL from ``base_url``
    or ``STATESET_VOICE_BASE_URL`` (default ``https://voice.stateset.app``). ``timeout``,
    ``deadline`` and ``max_retries`` set the client's defaults; every method takes them too.
    ``ledger`` (``SqliteLedger`` or ``RedisLedger``) blocks duplicate outbound calls across
    processes for creates that carry an ``idempotency_key``.

    Example::

        async with AsyncVoiceClient() as voice:
            call = await voice.calls.create(to="+15555555678", from_="+15555551234",
                                            agent_key="support_primary", idempotency_key="order-42")
            async for log in voice.call_logs.list(status="completed"):
                print(log.call_id, log.duration_seconds)
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        ledger: IdempotencyLedger | None = None,
        ledger_wait: float = 0.0,
        reliability: ReliabilityConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        **unknown: Never,
    ) -> None:
        reject_unknown("AsyncVoiceClient", unknown)
        key = resolve_key(api_key, env=ENV_API_KEY, what="runtime API key")
        super().__init__(
            generated_factory=ops.PublicGeneratedClient,
            base_url=base_url,
            reliability=reliability,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            transport=transport,
            headers=headers,
            auth={"token": key},
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

    async def readiness(
        self,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Readiness:
        """Verify the credential and whether the tenant can place and receive calls now."""
        reject_unknown("readiness", unknown)
        ready, _ = await self._misc._call(
            "readiness",
            ops.get_readiness.asyncio_detailed,
            ops.public_models.Readiness,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return ready

    async def __aenter__(self) -> AsyncVoiceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
