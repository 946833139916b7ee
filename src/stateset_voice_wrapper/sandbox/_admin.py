"""Handlers of the admin contract: tenants, runtime config, rollout, agent versions, routes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ._constants import DEFAULT_TENANT_ID
from ._context import Ctx, Handler
from ._http import json_reply
from ._idempotency import Reply
from ._models import AgentVersion, RuntimeConfig
from ._state import Store
from ._util import JSON, isoformat


def list_tenants(ctx: Ctx) -> Reply:
    tenants = list(ctx.store.tenants.values())
    return ctx.page([t.to_json() for t in tenants])


def get_tenant(ctx: Ctx) -> Reply:
    tenant = ctx.store.tenants.get(ctx.path_params["tenant_id"])
    return ctx.not_found("tenant") if tenant is None else json_reply(200, tenant.to_json())


def get_runtime_config(ctx: Ctx) -> Reply:
    config = ctx.store.configs.get(ctx.path_params["tenant_id"])
    return ctx.not_found("tenant") if config is None else json_reply(200, config.to_json())


def update_runtime_config(ctx: Ctx) -> Reply:
    """Replace the configuration; the revision moves only when something changed."""
    tenant_id = ctx.path_params["tenant_id"]
    current = ctx.store.configs.get(tenant_id)
    if current is None:
        return ctx.not_found("tenant")
    settings: dict[str, Any] = dict(ctx.body)
    if settings != current.settings:
        ctx.store.configs[tenant_id] = current = RuntimeConfig(
            tenant_id=tenant_id,
            settings=settings,
            revision=current.revision + 1,
            updated_at=ctx.store.clock.wall_now(),
        )
    return json_reply(200, current.to_json())


def get_rollout_policy(ctx: Ctx) -> Reply:
    policy = ctx.store.policies.get(ctx.path_params["tenant_id"])
    return ctx.not_found("tenant") if policy is None else json_reply(200, policy.to_json())


def update_rollout_policy(ctx: Ctx) -> Reply:
    policy = ctx.store.policies.get(ctx.path_params["tenant_id"])
    if policy is None:
        return ctx.not_found("tenant")
    defaults = {
        "min_synthetic_calls": 20,
        "min_signature_verification_rate": 0.95,
        "max_duplicate_outbound_calls": 0,
        "max_error_rate": 0.02,
        "require_approval": True,
    }
    body: dict[str, Any] = ctx.body
    for name, default in {"stage": None, "traffic_percent": None, **defaults}.items():
        setattr(policy, name, body.get(name, default))
    policy.updated_at = ctx.store.clock.wall_now()
    return json_reply(200, policy.to_json())


def _gate(gate: str, passed: bool, observed: float, threshold: float, detail: str | None) -> JSON:
    status = "passed" if passed else "failed"
    return {
        "gate": gate,
        "status": status,
        "observed": observed,
        "threshold": threshold,
        "detail": detail,
    }


def _duplicate_outbound_calls(store: Store, tenant_id: str) -> int:
    """Outbound calls created beyond the first for one ``Idempotency-Key``.

    The sandbox honours keys, so this stays 0; it is computed from the calls themselves (not
    assumed) so that the gate would catch a regression. Calls made without a key cannot be
    told apart from intended repeats and are not counted.
    """
    per_key = Counter(
        c.idempotency_key
        for c in store.calls.values()
        if c.tenant_id == tenant_id and c.direction == "outbound" and c.idempotency_key
    )
    return sum(n - 1 for n in per_key.values())


def _sweep_tenant(store: Store, tenant_id: str, agent_key: str | None) -> tuple[str, list[JSON]]:
    policy = store.policies[tenant_id]
    synthetic = sum(
        1
        for c in store.calls.values()
        if c.tenant_id == tenant_id
        and c.direction == "outbound"
        and c.status == "completed"
        and (agent_key is None or c.agent_key == agent_key)
    )
    sigs = store.inbound_signatures
    total_sigs = sigs["valid"] + sigs["invalid"]
    sig_rate = 1.0 if total_sigs == 0 else sigs["valid"] / total_sigs
    duplicates = _duplicate_outbound_calls(store, tenant_id)
    responses = store.responses
    error_rate = 0.0 if responses["total"] == 0 else responses["server_errors"] / responses["total"]
    approved = any(
        v.tenant_id == tenant_id
        and v.status in ("approved", "published")
        and (agent_key is None or v.agent_key == agent_key)
        for v in store.agent_versions.values()
    )
    needed = 1 if policy.require_approval else 0
    scope = f"{tenant_id}" + (f"/{agent_key}" if agent_key else "")
    gates = [
        _gate(
            "synthetic_calls",
            synthetic >= policy.min_synthetic_calls,
            synthetic,
            policy.min_synthetic_calls,
            f"{scope}: completed outbound calls in the sandbox.",
        ),
        _gate(
            "signature_verification_rate",
            sig_rate >= policy.min_signature_verification_rate,
            round(sig_rate, 4),
            policy.min_signature_verification_rate,
            f"{scope}: share of inbound Twilio requests with a valid signature.",
        ),
        _gate(
            "duplicate_outbound_calls",
            duplicates <= policy.max_duplicate_outbound_calls,
            duplicates,
            policy.max_duplicate_outbound_calls,
            f"{scope}: extra calls created for an already used Idempotency-Key.",
        ),
        _gate(
            "error_rate",
            error_rate <= policy.max_error_rate,
            round(error_rate, 4),
            policy.max_error_rate,
            f"{scope}: share of API responses that were 5xx or broken (sandbox-wide).",
        ),
        _gate(
            "approval",
            int(approved) >= needed,
            int(approved),
            needed,
            f"{scope}: "
            + ("an agent version is approved." if approved else "no approved agent version."),
        ),
    ]
    failed = {g["gate"] for g in gates if g["status"] == "failed"}
    if failed & {"duplicate_outbound_calls", "error_rate"}:
        return "rollback", gates
    return ("hold" if failed else "promote"), gates


_NEXT_STAGE = {"shadow": ("canary", 10), "canary": ("general", 100), "general": ("general", 100)}
_DECISION_RANK = {"promote": 0, "hold": 1, "rollback": 2}


def run_rollout_sweep(ctx: Ctx) -> Reply:
    store = ctx.store
    body: dict[str, Any] = ctx.body or {}
    tenant_id = body.get("tenant_id")
    if tenant_id is not None and tenant_id not in store.tenants:
        return ctx.invalid("tenant_id", "is not a known tenant", "unknown_tenant")
    dry_run = bool(body.get("dry_run", True))
    targets = (
        [tenant_id] if tenant_id else [t for t, v in store.tenants.items() if v.status == "active"]
    )
    decision = "promote"
    gates: list[JSON] = []
    for target in targets:
        verdict, tenant_gates = _sweep_tenant(store, target, body.get("agent_key"))
        gates.extend(tenant_gates)
        decision = max(decision, verdict, key=_DECISION_RANK.__getitem__)
        if not dry_run:
            policy = store.policies[target]
            if verdict == "promote":
                policy.stage, policy.traffic_percent = _NEXT_STAGE[policy.stage]
            elif verdict == "rollback":
                policy.stage, policy.traffic_percent = "shadow", 0
            policy.updated_at = store.clock.wall_now()
    result = {
        "sweep_id": store.ids.new("sw"),
        "tenant_id": tenant_id,
        "evaluated_at": isoformat(store.clock.wall_now()),
        "dry_run": dry_run,
        "decision": decision,
        "gates": gates,
    }
    return json_reply(200, result)


def list_agent_versions(ctx: Ctx) -> Reply:
    items = [
        v.to_json()
        for v in sorted(ctx.store.agent_versions.values(), key=lambda v: v.seq, reverse=True)
        if all(
            ctx.query.get(name) in (None, value)
            for name, value in (
                ("tenant_id", v.tenant_id),
                ("agent_key", v.agent_key),
                ("status", v.status),
            )
        )
    ]
    return ctx.page(items)


def stage_agent_version(ctx: Ctx) -> Reply:
    store = ctx.store
    body: dict[str, Any] = ctx.body
    tenant_id = body.get("tenant_id", DEFAULT_TENANT_ID)
    if tenant_id not in store.tenants:
        return ctx.invalid("tenant_id", "is not a known tenant", "unknown_tenant")
    agent_key = body["agent_key"]
    number = 1 + sum(
        1
        for v in store.agent_versions.values()
        if v.tenant_id == tenant_id and v.agent_key == agent_key
    )
    version = AgentVersion(
        version_id=store.ids.new("av"),
        tenant_id=tenant_id,
        agent_key=agent_key,
        version=number,
        model=body["model"],
        voice=body["voice"],
        system_prompt_key=body["system_prompt_key"],
        notes=body.get("notes"),
        created_at=store.clock.wall_now(),
        seq=store.next_seq(),
    )
    store.agent_versions[version.version_id] = version
    ctx.count_creation()
    return json_reply(201, version.to_json())


def get_agent_version(ctx: Ctx) -> Reply:
    version = ctx.store.agent_versions.get(ctx.path_params["version_id"])
    return ctx.not_found("agent version") if version is None else json_reply(200, version.to_json())


def approve_agent_version(ctx: Ctx) -> Reply:
    version = ctx.store.agent_versions.get(ctx.path_params["version_id"])
    if version is None:
        return ctx.not_found("agent version")
    if version.status != "staged":
        return ctx.conflict(
            "invalid_state_transition",
            f"Only a staged version can be approved; this one is {version.status}.",
        )
    version.status = "approved"
    version.approved_by = ctx.body["approved_by"]
    version.approved_at = ctx.store.clock.wall_now()
    if ctx.body.get("notes"):
        version.notes = ctx.body["notes"]
    return json_reply(200, version.to_json())


def publish_agent_version(ctx: Ctx) -> Reply:
    store = ctx.store
    version = store.agent_versions.get(ctx.path_params["version_id"])
    if version is None:
        return ctx.not_found("agent version")
    if version.status != "approved":
        return ctx.conflict(
            "invalid_state_transition",
            f"Only an approved version can be published; this one is {version.status}.",
        )
    for other in store.agent_versions.values():
        same_agent = other.tenant_id == version.tenant_id and other.agent_key == version.agent_key
        if same_agent and other.status == "published":
            other.status = "retired"
            other.traffic_percent = 0
    version.status = "published"
    version.published_at = store.clock.wall_now()
    version.traffic_percent = int((ctx.body or {}).get("traffic_percent", 100))
    return json_reply(200, version.to_json())


def list_phone_routes(ctx: Ctx) -> Reply:
    items = [
        r.to_json()
        for r in sorted(ctx.store.routes.values(), key=lambda r: r.seq, reverse=True)
        if all(
            ctx.query.get(name) in (None, value)
            for name, value in (("tenant_id", r.tenant_id), ("agent_key", r.agent_key))
        )
    ]
    return ctx.page(items)


def create_phone_route(ctx: Ctx) -> Reply:
    body: dict[str, Any] = ctx.body
    if body["tenant_id"] not in ctx.store.tenants:
        return ctx.invalid("tenant_id", "is not a known tenant", "unknown_tenant")
    if any(r.phone_number == body["phone_number"] for r in ctx.store.routes.values()):
        return ctx.conflict("phone_number_taken", "That phone number already has a route.")
    route = ctx.store.routes_add(
        phone_number=body["phone_number"],
        tenant_id=body["tenant_id"],
        agent_key=body["agent_key"],
        fallback_number=body.get("fallback_number"),
        enabled=bool(body.get("enabled", True)),
    )
    ctx.count_creation()
    return json_reply(201, route.to_json())


def get_phone_route(ctx: Ctx) -> Reply:
    route = ctx.store.routes.get(ctx.path_params["route_id"])
    return ctx.not_found("phone route") if route is None else json_reply(200, route.to_json())


def update_phone_route(ctx: Ctx) -> Reply:
    route = ctx.store.routes.get(ctx.path_params["route_id"])
    if route is None:
        return ctx.not_found("phone route")
    body: dict[str, Any] = ctx.body
    if "agent_key" in body:
        route.agent_key = body["agent_key"]
    if "fallback_number" in body:
        route.fallback_number = body["fallback_number"]
    if "enabled" in body:
        route.enabled = bool(body["enabled"])
    route.updated_at = ctx.store.clock.wall_now()
    return json_reply(200, route.to_json())


def delete_phone_route(ctx: Ctx) -> Reply:
    if ctx.store.routes.pop(ctx.path_params["route_id"], None) is None:
        return ctx.not_found("phone route")
    return Reply(status=204, body=b"")


HANDLERS: dict[str, Handler] = {
    "list_tenants": list_tenants,
    "get_tenant": get_tenant,
    "get_runtime_config": get_runtime_config,
    "update_runtime_config": update_runtime_config,
    "get_rollout_policy": get_rollout_policy,
    "update_rollout_policy": update_rollout_policy,
    "run_rollout_sweep": run_rollout_sweep,
    "list_agent_versions": list_agent_versions,
    "stage_agent_version": stage_agent_version,
    "get_agent_version": get_agent_version,
    "approve_agent_version": approve_agent_version,
    "publish_agent_version": publish_agent_version,
    "list_phone_routes": list_phone_routes,
    "create_phone_route": create_phone_route,
    "get_phone_route": get_phone_route,
    "update_phone_route": update_phone_route,
    "delete_phone_route": delete_phone_route,
}
