"""The typed async admin client, ``AsyncAdminClient``: tenants and their runtime
configuration, rollout policy and sweeps, agent versions and phone routes.

Source of truth for ``_clients/_sync/admin.py`` (``AdminClient``): ``scripts/unasync`` writes it
and ``make check`` fails if the two differ. Methods follow the runtime client's pattern: one
operation of the admin contract each, arguments checked against its facts before sending.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Never, Unpack

import httpx

from ..._reliability.options import ReliabilityConfig, RequestOptions, TimeoutTypes
from ..._shared.defaults import ENV_ADMIN_KEY
from ..._shared.errors import InvalidParameterError
from ..methods import Clear, arguments_of, implements, reject_unknown
from ..pagination import Page
from ..settings import resolve_key
from .base import AsyncClientBase, AsyncResource

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

__all__ = ["AsyncAdminClient"]


class AsyncTenants(AsyncResource):
    """Tenants and their runtime configuration."""

    @implements("list_tenants")
    async def list_page(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> Page[Tenant]:
        """One page of tenants."""
        return await self._page(
            "list_tenants", "tenants.list_page", arguments_of(locals()), options
        )

    @implements("list_tenants")
    def list(
        self, *, page_size: int | None = None, **options: Unpack[RequestOptions]
    ) -> AsyncIterator[Tenant]:
        """Every tenant, lazily."""
        return self._iterate(
            "list_tenants", "tenants.list", arguments_of(locals()), options, page_size
        )

    @implements("get_tenant")
    async def get(self, tenant_id: str, **options: Unpack[RequestOptions]) -> Tenant:
        """One tenant."""
        result: Tenant = await self._request(
            "get_tenant", "tenants.get", arguments_of(locals()), options
        )
        return result

    @implements("get_runtime_config")
    async def get_runtime_config(
        self, tenant_id: str, **options: Unpack[RequestOptions]
    ) -> RuntimeConfig:
        """The tenant's model, voice, prompt key, webhook URL and telephony defaults."""
        result: RuntimeConfig = await self._request(
            "get_runtime_config", "tenants.get_runtime_config", arguments_of(locals()), options
        )
        return result

    @implements("update_runtime_config")
    async def update_runtime_config(
        self,
        tenant_id: str,
        *,
        model: str,
        voice: str,
        system_prompt_key: str,
        webhook_url: str | None = None,
        telephony: TelephonyDefaults | Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> RuntimeConfig:
        """Replace the tenant's runtime configuration (a PUT: safe to retry).

        ``webhook_url`` must be https: deliveries carry call data. Example::

            await admin.tenants.update_runtime_config("ten_acme", model="gpt-realtime",
                                                      voice="alloy",
                                                      system_prompt_key="front_desk_v1")
        """
        if webhook_url is not None and not str(webhook_url).startswith("https://"):
            raise InvalidParameterError("webhook_url must be an https:// URL")
        result: RuntimeConfig = await self._request(
            "update_runtime_config",
            "tenants.update_runtime_config",
            arguments_of(locals()),
            options,
        )
        return result


class AsyncRolloutGovernance(AsyncResource):
    """Rollout policy and launch-control sweeps."""

    @implements("run_rollout_sweep")
    async def sweep(
        self,
        *,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        dry_run: bool | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> RolloutSweepResult:
        """Evaluate every launch gate. The contract's default is a dry run; with
        ``dry_run=False`` the decision is applied."""
        result: RolloutSweepResult = await self._request(
            "run_rollout_sweep", "rollout_governance.sweep", arguments_of(locals()), options
        )
        return result

    @implements("get_rollout_policy")
    async def get_policy(self, tenant_id: str, **options: Unpack[RequestOptions]) -> RolloutPolicy:
        """The tenant's launch gates."""
        result: RolloutPolicy = await self._request(
            "get_rollout_policy", "rollout_governance.get_policy", arguments_of(locals()), options
        )
        return result

    @implements("update_rollout_policy")
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
        **options: Unpack[RequestOptions],
    ) -> RolloutPolicy:
        """Replace the tenant's launch gates (a PUT: safe to retry)."""
        result: RolloutPolicy = await self._request(
            "update_rollout_policy",
            "rollout_governance.update_policy",
            arguments_of(locals()),
            options,
        )
        return result


class AsyncAgentVersions(AsyncResource):
    """Stage, approve and publish agent versions."""

    @implements("list_agent_versions")
    async def list_page(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        status: AgentVersionStatus | str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Page[AgentVersion]:
        """One page of agent versions."""
        return await self._page(
            "list_agent_versions", "agent_versions.list_page", arguments_of(locals()), options
        )

    @implements("list_agent_versions")
    def list(
        self,
        *,
        page_size: int | None = None,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        status: AgentVersionStatus | str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[AgentVersion]:
        """Every agent version, lazily."""
        return self._iterate(
            "list_agent_versions", "agent_versions.list", arguments_of(locals()), options, page_size
        )

    @implements("get_agent_version")
    async def get(self, version_id: str, **options: Unpack[RequestOptions]) -> AgentVersion:
        """One agent version."""
        result: AgentVersion = await self._request(
            "get_agent_version", "agent_versions.get", arguments_of(locals()), options
        )
        return result

    @implements("stage_agent_version")
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
        **options: Unpack[RequestOptions],
    ) -> AgentVersion:
        """Stage a new agent version (it takes no traffic until approved and published)."""
        result: AgentVersion = await self._request(
            "stage_agent_version", "agent_versions.stage", arguments_of(locals()), options
        )
        return result

    @implements("approve_agent_version")
    async def approve(
        self,
        version_id: str,
        *,
        approved_by: str,
        notes: str | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AgentVersion:
        """Approve a staged version."""
        result: AgentVersion = await self._request(
            "approve_agent_version", "agent_versions.approve", arguments_of(locals()), options
        )
        return result

    @implements("publish_agent_version")
    async def publish(
        self,
        version_id: str,
        *,
        traffic_percent: int | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AgentVersion:
        """Publish an approved version to ``traffic_percent`` of the agent's traffic."""
        result: AgentVersion = await self._request(
            "publish_agent_version", "agent_versions.publish", arguments_of(locals()), options
        )
        return result


class AsyncPhoneRoutes(AsyncResource):
    """Inbound numbers mapped to tenants and agents."""

    @implements("list_phone_routes")
    async def list_page(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Page[PhoneRoute]:
        """One page of phone routes."""
        return await self._page(
            "list_phone_routes", "phone_routes.list_page", arguments_of(locals()), options
        )

    @implements("list_phone_routes")
    def list(
        self,
        *,
        page_size: int | None = None,
        tenant_id: str | None = None,
        agent_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[PhoneRoute]:
        """Every phone route, lazily."""
        return self._iterate(
            "list_phone_routes", "phone_routes.list", arguments_of(locals()), options, page_size
        )

    @implements("get_phone_route")
    async def get(self, route_id: str, **options: Unpack[RequestOptions]) -> PhoneRoute:
        """One phone route."""
        result: PhoneRoute = await self._request(
            "get_phone_route", "phone_routes.get", arguments_of(locals()), options
        )
        return result

    @implements("create_phone_route")
    async def create(
        self,
        *,
        phone_number: str,
        tenant_id: str,
        agent_key: str,
        fallback_number: str | None = None,
        enabled: bool | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> PhoneRoute:
        """Route an inbound number to a tenant's agent."""
        result: PhoneRoute = await self._request(
            "create_phone_route", "phone_routes.create", arguments_of(locals()), options
        )
        return result

    @implements("update_phone_route")
    async def update(
        self,
        route_id: str,
        *,
        agent_key: str | None = None,
        fallback_number: str | Clear | None = None,
        enabled: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> PhoneRoute:
        """Change the given fields of a route (a PUT: safe to retry); ``None`` keeps a field,
        ``fallback_number=CLEAR`` removes the fallback."""
        result: PhoneRoute = await self._request(
            "update_phone_route", "phone_routes.update", arguments_of(locals()), options
        )
        return result

    @implements("delete_phone_route")
    async def delete(self, route_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a route (a DELETE: safe to retry; a 404 means it is already gone)."""
        await self._request(
            "delete_phone_route", "phone_routes.delete", arguments_of(locals()), options
        )


class AsyncAdminClient(AsyncClientBase):
    """The admin automation client: tenants, runtime config, agent versions, routes, rollout.

    The key comes from ``admin_key`` or ``STATESET_VOICE_ADMIN_API_KEY`` and is sent in the
    header the admin contract names (``x-admin-key``); it never shares headers with a runtime
    client.

    Example::

        async with AsyncAdminClient() as admin:
            await admin.tenants.update_runtime_config("ten_acme", model="gpt-realtime",
                                                      voice="alloy", system_prompt_key="front_desk_v1")
    """

    _api = "admin"

    def __init__(
        self,
        admin_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        limits: httpx.Limits | None = None,
        reliability: ReliabilityConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        **unknown: Never,
    ) -> None:
        reject_unknown("AsyncAdminClient", unknown)
        super().__init__(
            key=resolve_key(admin_key, env=ENV_ADMIN_KEY, what="admin API key"),
            base_url=base_url,
            reliability=reliability,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            limits=limits,
            transport=transport,
            headers=headers,
        )
        self.tenants = AsyncTenants(self)
        self.rollout_governance = AsyncRolloutGovernance(self)
        self.agent_versions = AsyncAgentVersions(self)
        self.phone_routes = AsyncPhoneRoutes(self)

    async def __aenter__(self) -> AsyncAdminClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
