"""The ``stateset-voice`` argument parser: one subcommand per task, shared options on each."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .. import __version__
from . import _admin, _launch, _local, _runtime
from ._output import FORMATS

Handler = Callable[[argparse.Namespace, Any], int]


def _filters(p: argparse.ArgumentParser, operation_id: str) -> None:
    """One option per filter of a listing operation, read from the contract's facts: a filter
    the contract gains is an option here after regenerating, with its enum as the choices."""
    import stateset_voice_facts as facts

    op = facts.OPERATIONS[operation_id]
    schemas = facts.SCHEMAS[op["api"]]
    names = []
    for param in op["parameters"]:
        if param["location"] != "query" or param["name"] in ("limit", "offset"):
            continue
        schema = param["schema"]
        schema = schemas.get(schema.get("$ref", ""), schema)
        option = "--" + param["python_name"].replace("_", "-")
        kind = schema.get("type")
        if kind == "boolean":
            p.add_argument(
                option,
                dest=param["python_name"],
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"only items whose {param['name']} is true ({option}) or false",
            )
        elif "enum" in schema:
            p.add_argument(option, dest=param["python_name"], choices=schema["enum"])
        else:
            what = (
                " (RFC 3339, e.g. 2026-11-20T00:00:00Z)"
                if schema.get("format") == "date-time"
                else ""
            )
            p.add_argument(option, dest=param["python_name"], help=f"{param['name']}{what}")
        names.append(param["python_name"])
    p.set_defaults(filter_names=tuple(names))


EPILOG = """\
credentials and endpoint (the same variables as the Python clients):
  STATESET_VOICE_API_KEY         runtime commands (calls, call-logs, sessions, evaluations)
  STATESET_VOICE_ADMIN_API_KEY   admin commands (STATESET_ADMIN_API_KEY is read too)
  STATESET_VOICE_BASE_URL        API base URL (default https://voice.stateset.app)
  STATESET_VOICE_WEBHOOK_SECRET  webhooks verify (STATESET_WEBHOOK_SECRET is read too)
  TWILIO_AUTH_TOKEN              webhooks verify --provider twilio

exit codes: 0 ok, 1 unexpected error, 2 usage, 3 configuration, 4 invalid input,
  5 authentication, 6 not found, 7 conflict, 8 rate limited, 9 server error,
  10 connection or deadline, 11 bad response, 12 invalid webhook, 13 contracts differ,
  14 contracts unavailable, 15 rollout gate blocked, 16 call still running,
  17 deprecated command, 20-26 launch-check gates (see launch-check --help),
  130 interrupted

try it without credentials: stateset-voice sandbox (prints test keys)
"""


def _common() -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand (SUPPRESS keeps either from erasing
    the other); ``main`` fills in the defaults."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("common options")
    s = argparse.SUPPRESS
    group.add_argument(
        "-o",
        "--output",
        choices=FORMATS,
        default=s,
        help="output format (default auto: table on a terminal, else json)",
    )
    group.add_argument(
        "--show-numbers", action="store_true", default=s, help="do not mask phone numbers in tables"
    )
    group.add_argument(
        "--base-url",
        default=s,
        help="API base URL, the host only (default $STATESET_VOICE_BASE_URL; for `contracts"
        " check`, $STATESET_VOICE_CONTRACTS_URL first)",
    )
    group.add_argument("--timeout", type=float, default=s, help="seconds per network phase")
    group.add_argument(
        "--deadline",
        type=float,
        default=s,
        help="seconds for the whole call, retries included (default 60)",
    )
    group.add_argument("--max-retries", type=int, default=s, help="retries after the first try")
    group.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=s,
        help="progress on stderr for listings (default: on a terminal)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=s,
        help="log each attempt and retry to stderr (no secrets)",
    )
    return common  # fmt: skip


def _listing(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("listing")
    group.add_argument("--limit", type=int, default=25, help="items to show (default 25)")
    group.add_argument("--all", action="store_true", help="every item, page by page")
    group.add_argument("--offset", type=int, default=0, help="skip this many items first")
    group.add_argument("--page-size", type=int, default=None, help="items per request (1-200)")


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="stateset-voice",
        description="Place and observe StateSet Voice calls, configure tenants, verify webhooks"
        " and check the deployed API against the contracts this package was built from.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def group(name: str, help_text: str) -> Any:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        return sub.add_subparsers(dest="action", metavar="ACTION", required=True)

    def leaf(subs: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = subs.add_parser(
            name, help=help_text, description=help_text, parents=[common]
        )
        p.set_defaults(handler=handler)
        return p

    # calls
    calls = group("calls", "outbound calls")
    p = leaf(
        calls,
        "create",
        _runtime.calls_create,
        "place an outbound call (safe to re-run with the same --idempotency-key)",
    )
    p.add_argument("--to", required=True, metavar="E164", help="callee, E.164 (+15555550101)")
    p.add_argument("--from", dest="from_", required=True, metavar="E164", help="caller ID, E.164")
    p.add_argument("--agent-key", required=True, help="which AI agent takes the call")
    p.add_argument("--greeting", help="first sentence the agent says")
    p.add_argument("--metadata", help="JSON object stored with the call")
    p.add_argument(
        "--idempotency-key",
        help="business key, e.g. appt-A-123-confirm (default: a new one, printed)",
    )
    p.add_argument(
        "--wait", action="store_true", help="follow the call until it ends; print its final log"
    )
    p.add_argument(
        "--poll-interval",
        type=float,
        default=2.0,
        help="seconds between status checks with --wait (default %(default)s)",
    )
    p.add_argument(
        "--wait-timeout",
        type=float,
        default=600.0,
        help="give up waiting after this many seconds and exit 16 (default %(default)s)",
    )

    # call-logs
    logs = group("call-logs", "call history")
    p = leaf(logs, "list", _runtime.call_logs_list, "list call logs, newest first")
    _filters(p, "list_call_logs")
    _listing(p)
    p = leaf(logs, "get", _runtime.call_logs_get, "one call's log")
    p.add_argument("call_id")

    # sessions
    sessions = group("sessions", "voice sessions with transcripts")
    p = leaf(sessions, "list", _runtime.sessions_list, "list voice sessions, newest first")
    _filters(p, "list_voice_sessions")
    _listing(p)
    p = leaf(sessions, "get", _runtime.sessions_get, "one session with transcript and tool calls")
    p.add_argument("session_id")

    # evaluations
    evaluations = group("evaluations", "QA evaluations of voice sessions")
    p = leaf(evaluations, "list", _runtime.evaluations_list, "list evaluations, newest first")
    _filters(p, "list_evaluations")
    _listing(p)
    p = leaf(evaluations, "get", _runtime.evaluations_get, "one evaluation with its criteria")
    p.add_argument("evaluation_id")

    # admin
    admin = group("admin", "tenant configuration and rollout (STATESET_VOICE_ADMIN_API_KEY)")
    runtime_config = admin.add_parser("runtime-config", help="a tenant's runtime configuration")
    rc = runtime_config.add_subparsers(dest="subaction", metavar="ACTION", required=True)
    p = leaf(rc, "get", _admin.runtime_config_get, "show a tenant's runtime configuration")
    p.add_argument("tenant_id")
    p = leaf(
        rc,
        "set",
        _admin.runtime_config_set,
        "change fields of a tenant's runtime configuration (others are kept)",
    )
    p.add_argument("tenant_id")
    p.add_argument("--model")
    p.add_argument("--voice")
    p.add_argument("--system-prompt-key")
    p.add_argument("--webhook-url", help="https:// URL for event deliveries")
    p.add_argument("--telephony", help="JSON object of telephony defaults")
    p.add_argument(
        "--replace",
        action="store_true",
        help="send only the given fields (a full replacement) instead of merging",
    )
    rollout = admin.add_parser("rollout", help="launch gates")
    ro = rollout.add_subparsers(dest="subaction", metavar="ACTION", required=True)
    p = leaf(
        ro, "sweep", _admin.rollout_sweep, "evaluate every launch gate (a dry run unless --apply)"
    )
    p.add_argument("--tenant-id")
    p.add_argument("--agent-key")
    p.add_argument("--apply", action="store_true", help="act on the decision")
    p.add_argument("--check", action="store_true", help="exit 15 unless the decision is promote")
    p.add_argument("--idempotency-key")

    # webhooks
    webhooks = group("webhooks", "webhook deliveries")
    p = leaf(
        webhooks,
        "verify",
        _local.webhooks_verify,
        "verify a captured delivery's signature and parse its event",
    )
    p.add_argument("--provider", choices=("stateset", "twilio"), default="stateset")
    p.add_argument(
        "--payload", default="-", help="file with the raw request body, - for stdin (default)"
    )
    p.add_argument("--signature", help="StateSet-Signature (or X-Twilio-Signature) header value")
    p.add_argument(
        "--secret",
        action="append",
        help="webhook secret; repeat during rotation (default $STATESET_VOICE_WEBHOOK_SECRET)",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=300.0,
        help="seconds a signature timestamp may be off (default 300)",
    )
    p.add_argument("--url", help="Twilio: the full URL Twilio requested")
    p.add_argument("--auth-token", help="Twilio: auth token (default $TWILIO_AUTH_TOKEN)")

    # contracts
    contracts = group("contracts", "the pinned OpenAPI contracts")
    p = leaf(
        contracts,
        "check",
        _local.contracts_check,
        "exit 13 if the live contracts differ from the ones this package was built from",
    )
    p.add_argument(
        "--out-dir",
        default=None,
        help="compare with the pinned files in this directory instead (e.g. api-contracts)",
    )
    p = leaf(
        contracts,
        "fetch",
        _local.contracts_fetch,
        "deprecated: exits 17; maintainers run `make fetch-contracts` in a checkout",
    )
    p.add_argument("--out-dir", default=None, help=argparse.SUPPRESS)

    # launch-check
    _launch.add_command(commands, common)

    # sandbox: its own parser takes over (see _local.sandbox)
    commands.add_parser(
        "sandbox", help="run a local sandbox of the API (needs [sandbox])", add_help=False
    )
    return parser  # fmt: skip
