"""The typed async clients: ``AsyncVoiceClient`` (tenant runtime) and ``AsyncAdminClient``.

This file is the source of truth for both flavours: ``scripts/unasync`` turns it into
``_sync_clients.py`` (``VoiceClient``, ``AdminClient``), and ``make check`` fails if the two
differ. Edit this file, then run ``make unasync``.

Each method validates its arguments before anything is sent, calls one generated
``*_detailed`` function named in ``_operations``, and returns the generated attrs model.
Reliability (timeouts, deadline, retries, IDs, typed errors) comes from the transport.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Never, TypeVar

import httpx

from . import _operations as ops
from ._clientcore import (
    DEFAULT_ITER_PAGE_SIZE,
    InvalidParameterError,
    Page,
    build_config,
    check_agent_key,
    check_enum,
    check_limit,
    check_metadata,
    check_offset,
    check_phone,
    expect,
    new_idempotency_key,
    parse_failure,
    reject_unknown,
    resolve_base_url,
    resolve_key,
)
from ._constants import ENV_ADMIN_KEY, ENV_API_KEY
from ._errors import StateSetVoiceError
from ._leases import Completed
from ._ledger import IdempotencyLedger, fingerprint_request
from ._options import CallRecord, ReliabilityConfig, TimeoutTypes, call_options
from ._pagination import aiterate_pages
from ._transport import ReliableTransport

if TYPE_CHECKING:
    from stateset_voice_admin.models import (
        AgentVersion,
        AgentVersionStatus,
        PhoneRoute,
        RolloutPolicy,
        RolloutStage,
        RolloutSweepResult,
        RuntimeConfig,
        TelephonyDefaults,
        Tenant,
    )
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

__all__ = ["AsyncAdminClient", "AsyncVoiceClient"]

T = TypeVar("T")


class _AsyncResource:
    """Shared plumbing: one generated call inside one ``call_options`` block."""

    def __init__(self, owner: _AsyncClientBase) -> None:
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
    ) -> tuple[T, CallRecord]:
        with call_options(timeout=timeout, deadline=deadline, max_retries=max_retries) as options:
            record = options.records[-1]
            try:
                response = await endpoint(client=self._owner._generated, **kwargs)
            except StateSetVoiceError:
                raise
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                raise parse_failure(exc, record, what) from exc
        return expect(response.parsed, model, record, what), record

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


# -- runtime resources ---------------------------------------------------------------------


class AsyncCalls(_AsyncResource):
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


class AsyncCallLogs(_AsyncResource):
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
        check_limit(page_size)

        async def fetch(offset: int) -> Page[CallLog]:
            return await self.list_page(
                limit=page_size,
                offset=offset,
                status=status,
                direction=direction,
                agent_key=agent_key,
                timeout=timeout,
                deadline=deadline,
                max_retries=max_retries,
            )

        return aiterate_pages(fetch, 0)

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


class AsyncSessions(_AsyncResource):
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
        check_limit(page_size)

        async def fetch(offset: int) -> Page[VoiceSession]:
            return await self.list_page(
                limit=page_size,
                offset=offset,
                status=status,
                call_id=call_id,
                agent_key=agent_key,
                tag=tag,
                timeout=timeout,
                deadline=deadline,
                max_retries=max_retries,
            )

        return aiterate_pages(fetch, 0)

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


class AsyncEvaluations(_AsyncResource):
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
        check_limit(page_size)

        async def fetch(offset: int) -> Page[Evaluation]:
            return await self.list_page(
                limit=page_size,
                offset=offset,
                session_id=session_id,
                call_id=call_id,
                passed=passed,
                timeout=timeout,
                deadline=deadline,
                max_retries=max_retries,
            )

        return aiterate_pages(fetch, 0)

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


class AsyncAccessRequests(_AsyncResource):
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


class AsyncInbound(_AsyncResource):
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


class _AsyncClientBase:
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


class AsyncVoiceClient(_AsyncClientBase):
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
        self._misc = _AsyncResource(self)

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


# -- admin resources -----------------------------------------------------------------------


class AsyncTenants(_AsyncResource):
    """Tenants and their runtime configuration."""

    async def list_page(
        self,
        *,
        limit: int = 25,
        offset: int = 0,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Page[Tenant]:
        """One page of tenants."""
        reject_unknown("tenants.list_page", unknown)
        return await self._page(
            "tenants.list_page",
            ops.list_tenants.asyncio_detailed,
            ops.admin_models.TenantList,
            limit=limit,
            offset=offset,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )

    def list(
        self,
        *,
        page_size: int = DEFAULT_ITER_PAGE_SIZE,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AsyncIterator[Tenant]:
        """Every tenant, lazily."""
        reject_unknown("tenants.list", unknown)
        check_limit(page_size)

        async def fetch(offset: int) -> Page[Tenant]:
            return await self.list_page(
                limit=page_size,
                offset=offset,
                timeout=timeout,
                deadline=deadline,
                max_retries=max_retries,
            )

        return aiterate_pages(fetch, 0)

    async def get(
        self,
        tenant_id: str,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Tenant:
        """One tenant."""
        reject_unknown("tenants.get", unknown)
        check_agent_key(tenant_id, "tenant_id")
        tenant, _ = await self._call(
            "tenants.get",
            ops.get_tenant.asyncio_detailed,
            ops.admin_models.Tenant,
            tenant_id=tenant_id,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return tenant

    async def get_runtime_config(
        self,
        tenant_id: str,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> RuntimeConfig:
        """The tenant's model, voice, prompt key, webhook URL and telephony defaults."""
        reject_unknown("tenants.get_runtime_config", unknown)
        check_agent_key(tenant_id, "tenant_id")
        config, _ = await self._call(
            "tenants.get_runtime_config",
            ops.get_runtime_config.asyncio_detailed,
            ops.admin_models.RuntimeConfig,
            tenant_id=tenant_id,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return config

    async def update_runtime_config(
        self,
        tenant_id: str,
        *,
        model: str,
        voice: str,
        system_prompt_key: str,
        webhook_url: str | None = None,
        telephony: TelephonyDefaults | Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> RuntimeConfig:
        """Replace the tenant's runtime configuration (a PUT: safe to retry).

        Example::

            admin.tenants.update_runtime_config("ten_acme", model="gpt-realtime", voice="alloy",
                                                system_prompt_key="front_desk_v1")
        """
        reject_unknown("tenants.update_runtime_config", unknown)
        check_agent_key(tenant_id, "tenant_id")
        for name, value in (
            ("model", model),
            ("voice", voice),
            ("system_prompt_key", system_prompt_key),
        ):
            check_agent_key(value, name)
        models = ops.admin_models
        body = models.RuntimeConfigUpdate(
            model=model, voice=voice, system_prompt_key=system_prompt_key
        )
        if webhook_url is not None:
            if not webhook_url.startswith("https://"):
                raise InvalidParameterError("webhook_url must be an https:// URL")
            body.webhook_url = webhook_url
        if telephony is not None:
            if not isinstance(telephony, models.TelephonyDefaults | Mapping):
                raise InvalidParameterError(
                    f"telephony must be a TelephonyDefaults or a mapping, got {type(telephony).__name__}"
                )
            body.telephony = (
                telephony
                if isinstance(telephony, models.TelephonyDefaults)
                else models.TelephonyDefaults.from_dict(dict(telephony))
            )
        config, _ = await self._call(
            "tenants.update_runtime_config",
            ops.update_runtime_config.asyncio_detailed,
            models.RuntimeConfig,
            tenant_id=tenant_id,
            body=body,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return config


class AsyncRolloutGovernance(_AsyncResource):
    """Rollout policy and launch-control sweeps."""

    async def sweep(
        self,
        *,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        dry_run: bool = True,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> RolloutSweepResult:
        """Evaluate every launch gate; with ``dry_run=False`` the decision is applied."""
        reject_unknown("rollout_governance.sweep", unknown)
        models = ops.admin_models
        body = models.RolloutSweepRequest(dry_run=dry_run)
        if tenant_id is not None:
            body.tenant_id = check_agent_key(tenant_id, "tenant_id")
        if agent_key is not None:
            body.agent_key = check_agent_key(agent_key)
        result, _ = await self._call(
            "rollout_governance.sweep",
            ops.run_rollout_sweep.asyncio_detailed,
            models.RolloutSweepResult,
            body=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return result

    async def get_policy(
        self,
        tenant_id: str,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> RolloutPolicy:
        """The tenant's launch gates."""
        reject_unknown("rollout_governance.get_policy", unknown)
        check_agent_key(tenant_id, "tenant_id")
        policy, _ = await self._call(
            "rollout_governance.get_policy",
            ops.get_rollout_policy.asyncio_detailed,
            ops.admin_models.RolloutPolicy,
            tenant_id=tenant_id,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return policy

    async def update_policy(
        self,
        tenant_id: str,
        *,
        stage: RolloutStage | str,
        traffic_percent: int,
        min_synthetic_calls: int | None = None,
        min_signature_verification_rate: float | None = None,
        max_duplicate_outbound_calls: int | None = None,
        max_error_rate: float | None = None,
        require_approval: bool | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> RolloutPolicy:
        """Replace the tenant's launch gates (a PUT: safe to retry)."""
        reject_unknown("rollout_governance.update_policy", unknown)
        check_agent_key(tenant_id, "tenant_id")
        if isinstance(traffic_percent, bool) or not 0 <= traffic_percent <= 100:
            raise InvalidParameterError(
                f"traffic_percent must be 0 to 100, got {traffic_percent!r}"
            )
        models = ops.admin_models
        fields: dict[str, Any] = {
            "stage": check_enum(models.RolloutStage, stage, "stage"),
            "traffic_percent": traffic_percent,
        }
        optional = {
            "min_synthetic_calls": min_synthetic_calls,
            "min_signature_verification_rate": min_signature_verification_rate,
            "max_duplicate_outbound_calls": max_duplicate_outbound_calls,
            "max_error_rate": max_error_rate,
            "require_approval": require_approval,
        }
        fields.update({name: value for name, value in optional.items() if value is not None})
        policy, _ = await self._call(
            "rollout_governance.update_policy",
            ops.update_rollout_policy.asyncio_detailed,
            models.RolloutPolicy,
            tenant_id=tenant_id,
            body=models.RolloutPolicyUpdate(**fields),
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return policy


class AsyncAgentVersions(_AsyncResource):
    """Stage, approve and publish agent versions."""

    async def list_page(
        self,
        *,
        limit: int = 25,
        offset: int = 0,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        status: AgentVersionStatus | str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Page[AgentVersion]:
        """One page of agent versions, newest first."""
        reject_unknown("agent_versions.list_page", unknown)
        models = ops.admin_models
        return await self._page(
            "agent_versions.list_page",
            ops.list_agent_versions.asyncio_detailed,
            models.AgentVersionList,
            limit=limit,
            offset=offset,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            tenant_id=tenant_id,
            agent_key=agent_key,
            status=None
            if status is None
            else check_enum(models.AgentVersionStatus, status, "status"),
        )

    def list(
        self,
        *,
        page_size: int = DEFAULT_ITER_PAGE_SIZE,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        status: AgentVersionStatus | str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AsyncIterator[AgentVersion]:
        """Every agent version, lazily."""
        reject_unknown("agent_versions.list", unknown)
        check_limit(page_size)

        async def fetch(offset: int) -> Page[AgentVersion]:
            return await self.list_page(
                limit=page_size,
                offset=offset,
                tenant_id=tenant_id,
                agent_key=agent_key,
                status=status,
                timeout=timeout,
                deadline=deadline,
                max_retries=max_retries,
            )

        return aiterate_pages(fetch, 0)

    async def get(
        self,
        version_id: str,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AgentVersion:
        """One agent version."""
        reject_unknown("agent_versions.get", unknown)
        check_agent_key(version_id, "version_id")
        version, _ = await self._call(
            "agent_versions.get",
            ops.get_agent_version.asyncio_detailed,
            ops.admin_models.AgentVersion,
            version_id=version_id,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return version

    async def stage(
        self,
        *,
        agent_key: str,
        model: str,
        voice: str,
        system_prompt_key: str,
        tenant_id: str | None = None,
        notes: str | None = None,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AgentVersion:
        """Stage a new agent version (it takes no traffic until approved and published)."""
        reject_unknown("agent_versions.stage", unknown)
        for name, value in (("agent_key", agent_key), ("model", model), ("voice", voice)):
            check_agent_key(value, name)
        check_agent_key(system_prompt_key, "system_prompt_key")
        models = ops.admin_models
        body = models.AgentVersionCreate(
            agent_key=agent_key, model=model, voice=voice, system_prompt_key=system_prompt_key
        )
        if tenant_id is not None:
            body.tenant_id = tenant_id
        if notes is not None:
            body.notes = notes
        version, _ = await self._call(
            "agent_versions.stage",
            ops.stage_agent_version.asyncio_detailed,
            models.AgentVersion,
            body=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return version

    async def approve(
        self,
        version_id: str,
        *,
        approved_by: str,
        notes: str | None = None,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AgentVersion:
        """Approve a staged version."""
        reject_unknown("agent_versions.approve", unknown)
        check_agent_key(version_id, "version_id")
        check_agent_key(approved_by, "approved_by")
        models = ops.admin_models
        body = models.AgentVersionApproval(approved_by=approved_by)
        if notes is not None:
            body.notes = notes
        version, _ = await self._call(
            "agent_versions.approve",
            ops.approve_agent_version.asyncio_detailed,
            models.AgentVersion,
            version_id=version_id,
            body=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return version

    async def publish(
        self,
        version_id: str,
        *,
        traffic_percent: int | None = None,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AgentVersion:
        """Publish an approved version to ``traffic_percent`` of the agent's traffic."""
        reject_unknown("agent_versions.publish", unknown)
        check_agent_key(version_id, "version_id")
        models = ops.admin_models
        body = models.AgentVersionPublish()
        if traffic_percent is not None:
            if isinstance(traffic_percent, bool) or not 1 <= traffic_percent <= 100:
                raise InvalidParameterError(
                    f"traffic_percent must be 1 to 100, got {traffic_percent!r}"
                )
            body.traffic_percent = traffic_percent
        version, _ = await self._call(
            "agent_versions.publish",
            ops.publish_agent_version.asyncio_detailed,
            models.AgentVersion,
            version_id=version_id,
            body=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return version


class AsyncPhoneRoutes(_AsyncResource):
    """Inbound numbers mapped to tenants and agents."""

    async def list_page(
        self,
        *,
        limit: int = 25,
        offset: int = 0,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> Page[PhoneRoute]:
        """One page of phone routes."""
        reject_unknown("phone_routes.list_page", unknown)
        return await self._page(
            "phone_routes.list_page",
            ops.list_phone_routes.asyncio_detailed,
            ops.admin_models.PhoneRouteList,
            limit=limit,
            offset=offset,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            tenant_id=tenant_id,
            agent_key=agent_key,
        )

    def list(
        self,
        *,
        page_size: int = DEFAULT_ITER_PAGE_SIZE,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> AsyncIterator[PhoneRoute]:
        """Every phone route, lazily."""
        reject_unknown("phone_routes.list", unknown)
        check_limit(page_size)

        async def fetch(offset: int) -> Page[PhoneRoute]:
            return await self.list_page(
                limit=page_size,
                offset=offset,
                tenant_id=tenant_id,
                agent_key=agent_key,
                timeout=timeout,
                deadline=deadline,
                max_retries=max_retries,
            )

        return aiterate_pages(fetch, 0)

    async def get(
        self,
        route_id: str,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> PhoneRoute:
        """One phone route."""
        reject_unknown("phone_routes.get", unknown)
        check_agent_key(route_id, "route_id")
        route, _ = await self._call(
            "phone_routes.get",
            ops.get_phone_route.asyncio_detailed,
            ops.admin_models.PhoneRoute,
            route_id=route_id,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return route

    async def create(
        self,
        *,
        phone_number: str,
        tenant_id: str,
        agent_key: str,
        fallback_number: str | None = None,
        enabled: bool = True,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> PhoneRoute:
        """Route an inbound number to a tenant's agent."""
        reject_unknown("phone_routes.create", unknown)
        check_phone("phone_number", phone_number)
        check_agent_key(tenant_id, "tenant_id")
        check_agent_key(agent_key)
        models = ops.admin_models
        body = models.PhoneRouteCreate(
            phone_number=phone_number, tenant_id=tenant_id, agent_key=agent_key, enabled=enabled
        )
        if fallback_number is not None:
            body.fallback_number = check_phone("fallback_number", fallback_number)
        route, _ = await self._call(
            "phone_routes.create",
            ops.create_phone_route.asyncio_detailed,
            models.PhoneRoute,
            body=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return route

    async def update(
        self,
        route_id: str,
        *,
        agent_key: str | None = None,
        fallback_number: str | None = None,
        enabled: bool | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> PhoneRoute:
        """Change the given fields of a route (a PUT: safe to retry)."""
        reject_unknown("phone_routes.update", unknown)
        check_agent_key(route_id, "route_id")
        models = ops.admin_models
        body = models.PhoneRouteUpdate()
        if agent_key is not None:
            body.agent_key = check_agent_key(agent_key)
        if fallback_number is not None:
            body.fallback_number = check_phone("fallback_number", fallback_number)
        if enabled is not None:
            body.enabled = enabled
        route, _ = await self._call(
            "phone_routes.update",
            ops.update_phone_route.asyncio_detailed,
            models.PhoneRoute,
            route_id=route_id,
            body=body,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )
        return route

    async def delete(
        self,
        route_id: str,
        *,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        **unknown: Never,
    ) -> None:
        """Delete a route (a DELETE: safe to retry; a 404 means it is already gone)."""
        reject_unknown("phone_routes.delete", unknown)
        check_agent_key(route_id, "route_id")
        with call_options(timeout=timeout, deadline=deadline, max_retries=max_retries):
            await ops.delete_phone_route.asyncio_detailed(
                route_id=route_id, client=self._owner._generated
            )


class AsyncAdminClient(_AsyncClientBase):
    """The admin automation client: tenants, runtime config, agent versions, routes, rollout.

    The key comes from ``admin_key`` or ``STATESET_ADMIN_API_KEY`` and is sent as
    ``x-admin-key``; it never shares headers with a runtime client.

    Example::

        async with AsyncAdminClient() as admin:
            await admin.tenants.update_runtime_config("ten_acme", model="gpt-realtime",
                                                      voice="alloy", system_prompt_key="front_desk_v1")
    """

    def __init__(
        self,
        admin_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        reliability: ReliabilityConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        **unknown: Never,
    ) -> None:
        reject_unknown("AsyncAdminClient", unknown)
        key = resolve_key(admin_key, env=ENV_ADMIN_KEY, what="admin API key")
        super().__init__(
            generated_factory=ops.AdminGeneratedClient,
            base_url=base_url,
            reliability=reliability,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            transport=transport,
            headers=headers,
            auth={"token": key, "prefix": "", "auth_header_name": "x-admin-key"},
        )
        self.tenants = AsyncTenants(self)
        self.rollout_governance = AsyncRolloutGovernance(self)
        self.agent_versions = AsyncAgentVersions(self)
        self.phone_routes = AsyncPhoneRoutes(self)

    async def __aenter__(self) -> AsyncAdminClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
