"""``stateset-voice launch-check``: the tutorial's launch gates against a tenant, one exit code
per failed gate.

The work is :func:`stateset_voice_wrapper.launch.launch_check`; this module reads the options,
keeps the run's state (the ledger, the received deliveries, the last report) under a state
directory so a re-run with the same ``--run-id`` resumes, and prints the report as a table,
JSON or a self-contained HTML file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._shared.defaults import ENV_WEBHOOK_SECRET
from .._shared.untrusted import escape_untrusted
from ._context import CommandError, Context
from ._exit import LAUNCH_GATE_CODES, ExitCode
from ._local import _secrets
from ._output import Column

if TYPE_CHECKING:
    from ..launch import DeliverySource, LaunchReport

HELP = "run the launch gates end to end: synthetic calls, signatures, duplicates, sweep"
DESCRIPTION = """\
Place synthetic calls (keys launch-<run-id>-<n>, through a ledger: a re-run with the same
--run-id never places a call twice), follow them to their final status in the call logs,
verify their webhook deliveries, read sessions and evaluations, check each supported intent,
and set the server's dry-run rollout sweep beside the measurement."""
EPILOG = """\
exit codes: 0 every gate passed; otherwise the lowest code of the failed gates:
  20 duplicate outbound calls, 21 a call without a final status, 22 a final webhook
  event not delivered, 23 signature verification below the gate, 24 too few synthetic
  calls completed, 25 an intent's outcome not as expected, 26 the server's sweep
  disagrees; and the usual codes (3 configuration, 4 invalid input, 5 authentication,
  7 conflicting re-run, 9 server error, ...) when the check cannot run at all.

the state directory (default $XDG_STATE_HOME/stateset-voice/launch, else
~/.local/state/stateset-voice/launch) holds ledger.sqlite3 and, per run,
runs/<run-id>/deliveries.jsonl (what --listen received) and runs/<run-id>/report.json.
See docs/launch-check.md."""

_GATE_COLUMNS = (
    Column("GATE", "gate"),
    Column("VERDICT", "verdict"),
    Column("MEASURED", "measured"),
    Column("THRESHOLD", "threshold"),
    Column("FROM", "threshold_source"),
    Column("SERVER", "server"),
    Column("DETAIL", "text"),  # "text" cells are shown whole, as a transcript's are
)
# "callee", not "to": the report's numbers are masked already (a second mask would hide all).
_CALL_COLUMNS = (
    Column("#", "n"),
    Column("KEY", "key"),
    Column("CALL ID", "call_id"),
    Column("SOURCE", "source"),
    Column("TO", "callee"),
    Column("INTENT", "intent"),
    Column("STATUS", "status"),
    Column("OUTCOME", "outcome"),
    Column("SCORE", "score"),
    Column("EVENTS", "events"),
)


def add_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register ``launch-check`` on the top-level subcommands."""
    p: argparse.ArgumentParser = commands.add_parser(
        "launch-check",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    p.set_defaults(handler=launch_check_command)
    run = p.add_argument_group("the synthetic calls")
    run.add_argument("--tenant-id", required=True, help="the tenant whose launch is checked")
    run.add_argument("--agent-key", required=True, help="the agent the calls run with")
    run.add_argument("--from", dest="from_", required=True, metavar="E164", help="caller ID")
    run.add_argument(
        "--to",
        action="append",
        metavar="E164",
        help="number to call; repeat to take several in turn (an intent's own `to` wins)",
    )
    run.add_argument(
        "--run-id", help="names the run; re-run with it to resume (default: a new one, printed)"
    )
    run.add_argument("--calls", type=int, default=20, help="synthetic calls (default 20)")
    run.add_argument("--greeting", help="first sentence of every call (an intent's own wins)")
    run.add_argument("--intents", metavar="FILE", help="supported intents and expected outcomes")
    hooks = p.add_argument_group("webhook deliveries (one source)")
    source = hooks.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--listen",
        metavar="[HOST:]PORT[/PATH]",
        help="receive them here while the check runs (default host 127.0.0.1, path /)",
    )
    source.add_argument(
        "--deliveries", metavar="FILE|DIR", help="read them from a JSON-lines file or a directory"
    )
    hooks.add_argument(
        "--secret",
        action="append",
        help="webhook secret; repeat during a rotation (default $STATESET_VOICE_WEBHOOK_SECRET)",
    )
    hooks.add_argument(
        "--tolerance",
        type=float,
        default=300.0,
        help="seconds a signature timestamp may be off (default 300)",
    )
    gates = p.add_argument_group("thresholds (default: the tenant's rollout policy)")
    gates.add_argument("--min-synthetic-calls", type=int, help="completed calls needed")
    gates.add_argument("--min-signature-rate", type=float, help="verified share needed, 0 to 1")
    gates.add_argument("--max-duplicates", type=int, help="duplicate outbound calls allowed")
    wait = p.add_argument_group("waiting")
    wait.add_argument(
        "--wait-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for every call's final status (default %(default)s)",
    )
    wait.add_argument(
        "--grace",
        type=float,
        default=60.0,
        help="then seconds to wait for deliveries and evaluations (default %(default)s)",
    )
    wait.add_argument(
        "--poll-interval",
        type=float,
        default=5.0,
        help="seconds between two looks at the call logs (default %(default)s)",
    )
    files = p.add_argument_group("files")
    files.add_argument("--state-dir", help="where the ledger and the runs are kept")
    files.add_argument("--ledger", metavar="PATH", help="SQLite ledger (default in --state-dir)")
    files.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")


def _state_dir(given: str | None) -> Path:
    if given:
        return Path(given)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "stateset-voice" / "launch"


def _listen(spec: str) -> tuple[str, int, str]:
    address, slash, path = spec.partition("/")
    host, colon, port = address.rpartition(":")
    if not colon:
        host = ""
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CommandError(
            f"--listen must be [HOST:]PORT[/PATH], e.g. 127.0.0.1:8787/webhooks, got {spec!r}",
            ExitCode.INVALID_INPUT,
        )
    return host, int(port), "/" + path if slash else "/"


def exit_code(report: LaunchReport) -> int:
    """0 when every gate passed, else the lowest code of the failed gates."""
    codes = [LAUNCH_GATE_CODES[name] for name in report.failed_gates]
    return int(min(codes)) if codes else 0


def launch_check_command(args: argparse.Namespace, ctx: Context) -> int:
    from .. import SqliteLedger
    from ..launch import (
        DeliveryDirectory,
        DeliveryFile,
        WebhookReceiver,
        launch_check,
        load_intents,
        render_html,
    )

    run_id = args.run_id or datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    state = _state_dir(args.state_dir)
    run_dir = state / "runs" / run_id
    secrets = _secrets(args.secret, ENV_WEBHOOK_SECRET, "webhook secret")
    intents = load_intents(args.intents) if args.intents else ()
    source: DeliverySource
    receiver: WebhookReceiver | None = None
    if args.listen:
        host, port, path = _listen(args.listen)
        receiver = WebhookReceiver(
            host=host, port=port, path=path, save_to=run_dir / "deliveries.jsonl"
        )
        source = receiver
    elif Path(args.deliveries).is_dir():
        source = DeliveryDirectory(args.deliveries)
    else:
        source = DeliveryFile(args.deliveries)
    state.mkdir(parents=True, exist_ok=True)
    ledger_path = Path(args.ledger) if args.ledger else state / "ledger.sqlite3"
    ctx.out.note(f"run {run_id}: re-run with --run-id {run_id} to resume it")
    try:
        with (
            SqliteLedger(ledger_path) as ledger,
            ctx.voice(ledger=ledger) as voice,
            ctx.admin() as admin,
        ):
            if receiver is not None:
                try:
                    receiver.start()
                except OSError as exc:  # the port is taken, or the address is not this host's
                    raise CommandError(
                        f"cannot listen on {args.listen}: {exc.strerror or exc}",
                        ExitCode.CONFIGURATION,
                    ) from None
                ctx.out.note(f"receiving webhook deliveries on {receiver.url}")
            try:
                report = launch_check(
                    voice=voice,
                    admin=admin,
                    tenant_id=args.tenant_id,
                    run_id=run_id,
                    agent_key=args.agent_key,
                    from_=args.from_,
                    to=args.to or (),
                    calls=args.calls,
                    greeting=args.greeting,
                    intents=intents,
                    deliveries=source,
                    webhook_secrets=secrets,
                    tolerance=args.tolerance,
                    min_synthetic_calls=args.min_synthetic_calls,
                    min_signature_verification_rate=args.min_signature_rate,
                    max_duplicate_outbound_calls=args.max_duplicates,
                    timeout=args.wait_timeout,
                    grace=args.grace,
                    poll_interval=args.poll_interval,
                    clock=ctx.clock,
                    sleep=ctx.sleep,
                    on_progress=ctx.out.note,
                )
            finally:
                if receiver is not None:
                    receiver.stop()
    except KeyboardInterrupt:
        raise CommandError(
            f"interrupted; re-run with --run-id {run_id} to resume (nothing is placed twice)",
            ExitCode.INTERRUPTED,
            kind="Interrupted",
        ) from None
    code = exit_code(report)
    document = {**report.to_dict(), "exit_code": code}
    run_dir.mkdir(parents=True, exist_ok=True)
    saved = run_dir / "report.json"
    saved.write_text(json.dumps(document, indent=2, ensure_ascii=True) + "\n", encoding="ascii")
    ctx.out.note(f"report saved to {saved}")
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
        ctx.out.note(f"HTML report written to {args.html}")
    if ctx.out.is_json:
        ctx.out.item(document)
    else:
        _print_table(ctx, report, code)
    return code


def _print_table(ctx: Context, report: LaunchReport, code: int) -> None:
    out = ctx.out
    verdict = "PASSED" if report.passed else f"FAILED (exit {code}: {report.failed_gates[0]})"
    title = f"launch check {report.run_id} for {report.tenant_id}, agent {report.agent_key}"
    print(escape_untrusted(f"{title}: {verdict}"), file=out.stdout)
    server = {c.gate: c.server for c in report.comparison}
    gates = [
        {
            **g.to_dict(),
            "threshold": "" if g.threshold is None else f"{g.comparison} {g.threshold}",
            "server": server.get(g.gate) or "",
            "text": g.detail,
        }
        for g in report.gates
    ]
    out.table(_GATE_COLUMNS, [out.row(_GATE_COLUMNS, g) for g in gates])
    print(file=out.stdout)
    rows = []
    for call in report.calls:
        data = call.to_dict()
        evaluation = call.evaluation or {}
        data.update(
            n="-" if call.n is None else call.n,
            callee=call.to,
            call_id=", ".join(call.call_ids) or "",
            status=call.status or (call.error or {}).get("type"),
            score=evaluation.get("score"),
            events=len(call.webhook_events),
        )
        rows.append(out.row(_CALL_COLUMNS, data))
    out.table(_CALL_COLUMNS, rows)
    sweep = report.sweep
    deliveries = report.deliveries
    lines = [
        "",
        f"server sweep {sweep.get('sweep_id')}: decision {sweep.get('decision')} (dry run);"
        f" policy stage {report.policy.get('stage')} at {report.policy.get('traffic_percent')}%",
        f"deliveries from {deliveries.get('source')}: {deliveries.get('considered')} for this"
        f" run, {deliveries.get('verified')} verified, {deliveries.get('duplicates')} repeats",
    ]
    for line in lines:
        print(escape_untrusted(line), file=out.stdout)
    out.stdout.flush()
