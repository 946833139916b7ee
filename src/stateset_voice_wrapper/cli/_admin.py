"""Admin commands: ``admin runtime-config get|set`` and ``admin rollout sweep``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ._context import CommandError, Context, json_object
from ._exit import ExitCode
from ._output import Section, columns

if TYPE_CHECKING:
    from .. import AdminClient

SWEEP_SECTIONS = (
    Section("GATES", "gates", columns("gate", "status", "observed", "threshold", "detail")),
)


def runtime_config_get(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.admin() as admin:
        config = admin.tenants.get_runtime_config(args.tenant_id)
    ctx.out.item(config.to_dict())
    return 0


def runtime_config_set(args: argparse.Namespace, ctx: Context) -> int:
    """Change the given fields and keep the rest.

    The API's update is a full replacement (PUT), so unless every required field is given the
    current configuration is read first and the given fields are applied over it; the note on
    stderr says which revision was read. ``--replace`` sends exactly what was given instead.
    """
    given: dict[str, Any] = {
        name: value
        for name, value in (
            ("model", args.model),
            ("voice", args.voice),
            ("system_prompt_key", args.system_prompt_key),
            ("webhook_url", args.webhook_url),
        )
        if value is not None
    }
    if args.telephony is not None:
        given["telephony"] = json_object(args.telephony, "--telephony")
    if not given:
        raise CommandError(
            "nothing to set: give at least one of --model, --voice, --system-prompt-key,"
            " --webhook-url, --telephony",
            ExitCode.INVALID_INPUT,
        )
    with ctx.admin() as admin:
        fields: dict[str, Any] = {}
        if not args.replace:
            current = admin.tenants.get_runtime_config(args.tenant_id).to_dict()
            ctx.out.note(f"read revision {current.get('revision')} of {args.tenant_id}")
            fields = {
                name: current[name]
                for name in ("model", "voice", "system_prompt_key", "webhook_url", "telephony")
                if current.get(name) is not None
            }
        fields.update(given)
        missing = [n for n in ("model", "voice", "system_prompt_key") if n not in fields]
        if missing:
            flags = ", ".join("--" + n.replace("_", "-") for n in missing)
            raise CommandError(
                f"--replace needs every required field; missing {flags}", ExitCode.INVALID_INPUT
            )
        config = admin.tenants.update_runtime_config(
            args.tenant_id,
            model=fields["model"],
            voice=fields["voice"],
            system_prompt_key=fields["system_prompt_key"],
            webhook_url=fields.get("webhook_url"),
            telephony=fields.get("telephony"),
        )
    ctx.out.note(f"{args.tenant_id} is now at revision {config.revision}")
    ctx.out.item(config.to_dict())
    return 0


def _failed_gates(data: dict[str, Any]) -> list[str]:
    return [str(g.get("gate")) for g in data.get("gates", []) if g.get("status") == "failed"]


def _failed_gates_per_tenant(admin: AdminClient, agent_key: str | None) -> list[str]:
    """``ten_acme: synthetic_calls, approval`` per active tenant with failed gates.

    A sweep of every tenant answers one list of gates without saying whose each is, so each
    active tenant is swept again on its own, as a dry run (which changes nothing).
    """
    lines = []
    for tenant in admin.tenants.list():
        info = tenant.to_dict()
        if info.get("status") != "active":
            continue
        tenant_id = str(info.get("tenant_id"))
        result = admin.rollout_governance.sweep(
            tenant_id=tenant_id, agent_key=agent_key, dry_run=True
        ).to_dict()
        failed = _failed_gates(result)
        if failed:
            lines.append(f"{tenant_id}: {', '.join(failed)}")
    return lines


def rollout_sweep(args: argparse.Namespace, ctx: Context) -> int:
    """Evaluate the launch gates; ``--apply`` acts on the decision, ``--check`` gates CI on it."""
    with ctx.admin() as admin:
        result = admin.rollout_governance.sweep(
            tenant_id=args.tenant_id,
            agent_key=args.agent_key,
            dry_run=not args.apply,
            idempotency_key=args.idempotency_key,
        )
        data = result.to_dict()
        ctx.out.item(data, sections=SWEEP_SECTIONS)
        decision = str(data.get("decision"))
        mode = "applied" if args.apply else "dry run, nothing applied"
        ctx.out.note(f"decision: {decision} ({mode})")
        if not args.check or decision == "promote":
            return 0
        if args.tenant_id:
            failed = _failed_gates(data)
            detail = f"; failed gates: {', '.join(failed)}" if failed else ""
        else:
            per_tenant = _failed_gates_per_tenant(admin, args.agent_key)
            detail = f"; failed gates: {'; '.join(per_tenant)}" if per_tenant else ""
    ctx.out.note(f"--check: decision is {decision}, not promote{detail}")
    return ExitCode.GATE_BLOCKED
