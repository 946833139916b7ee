"""The typed async admin client, ``AsyncAdminClient``: tenants and their runtime
configuration, rollout policy and sweeps, agent versions and phone routes.

Source of truth for ``_clients/_sync/admin.py`` (``AdminClient``): ``scripts/unasync`` writes it and
``make check`` fails if the two differ. Methods follow the runtime client's pattern.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Never

import httpx

from ..._reliability.options import ReliabilityConfig, TimeoutTypes, request_options
from ..._shared.defaults import DEFAULT_ITER_PAGE_SIZE, ENV_ADMIN_KEY
from ..._shared.errors import InvalidParameterError
from .. import operations as ops
from ..pagination import Page
from ..settings import new_idempotency_key, resolve_key
from ..validation import check_agent_key, check_enum, check_phone, reject_unknown
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
        return self._iterate(
            self.list_page,
            page_size,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )

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


class AsyncRolloutGovernance(AsyncResource):
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


class AsyncAgentVersions(AsyncResource):
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
        return self._iterate(
            self.list_page,
            page_size,
            tenant_id=tenant_id,
            agent_key=agent_key,
            status=status,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )

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


class AsyncPhoneRoutes(AsyncResource):
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
        return self._iterate(
            self.list_page,
            page_size,
            tenant_id=tenant_id,
            agent_key=agent_key,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
        )

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
        with request_options(timeout=timeout, deadline=deadline, max_retries=max_retries):
            await ops.delete_phone_route.asyncio_detailed(
                route_id=route_id, client=self._owner._generated
            )


class AsyncAdminClient(AsyncClientBase):
    """The admin automation client: tenants, runtime config, agent versions, routes, rollout.

    The key comes from ``admin_key`` or ``STATESET_VOICE_ADMIN_API_KEY`` and is sent as
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
