"""``stateset-voice sandbox``: run a sandbox in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ._constants import (
    DEFAULT_CLI_PORT,
    DEFAULT_HOST,
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_REFILL_PER_SECOND,
    DEFAULT_STEP_SECONDS,
    DEFAULT_WEBHOOK_DUPLICATE_PROBABILITY,
)
from ._core import SandboxConfig, derive_keys
from ._server import SandboxServer
from ._spec import ContractsNotFoundError


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535 (0 = any free port), got {value}")
    return value


def build_parser(prog: str = "stateset-voice sandbox") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local StateSet Voice API sandbox (both pinned contracts) until "
        "interrupted. Keys are printed at start.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface (default %(default)s)")
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_CLI_PORT,
        help="port; 0 = any free (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=None, help="fix keys, ids and faults")
    parser.add_argument("--contracts-dir", type=Path, default=None, help="pinned contracts dir")
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=DEFAULT_STEP_SECONDS,
        help="time between call transitions (default %(default)s)",
    )
    parser.add_argument(
        "--manual-clock",
        action="store_true",
        help="calls move only via POST /_sandbox/advance",
    )
    parser.add_argument(
        "--rate-limit", type=int, default=DEFAULT_RATE_LIMIT, help="bucket size per credential"
    )
    parser.add_argument(
        "--rate-refill",
        type=float,
        default=DEFAULT_RATE_REFILL_PER_SECOND,
        help="tokens per second per credential (default %(default)s)",
    )
    parser.add_argument("--webhook-url", default=None, help="deliver events here by default")
    parser.add_argument(
        "--webhook-duplicates",
        type=float,
        default=DEFAULT_WEBHOOK_DUPLICATE_PROBABILITY,
        help="probability of a duplicate delivery (default %(default)s)",
    )
    parser.add_argument(
        "--faults",
        default=None,
        help='fault rules as JSON (a list, or {"rules": [...]}), or @file.json',
    )
    parser.add_argument("--json", action="store_true", help="print the start banner as JSON")
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="print the shell exports that point the clients and the CLI at a sandbox started"
        " with the same --seed, --host and --port, and exit (needs --seed)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback interface (the keys are printed: think twice)",
    )
    parser.add_argument(
        "--allow-remote-webhooks",
        action="store_true",
        help="allow webhook deliveries and Twilio posts to hosts other than loopback",
    )
    return parser


def _load_faults(text: str | None) -> list[Any]:
    if text is None:
        return []
    raw = Path(text[1:]).read_text() if text.startswith("@") else text
    value = json.loads(raw)
    rules = value.get("rules", []) if isinstance(value, dict) else value
    if not isinstance(rules, list):
        raise ValueError('--faults must be a JSON list of rules or {"rules": [...]}')
    return rules


def banner(info: dict[str, Any]) -> str:
    rows = [
        ("runtime key (Bearer)", info["runtime_key"]),
        ("admin key (x-admin-key)", info["admin_key"]),
        ("webhook secret", info["webhook_secret"]),
        ("twilio auth token", info["twilio_auth_token"]),
        ("tenant", info["tenant_id"]),
        ("seed", info["seed"]),
        ("contracts", info["contracts_dir"]),
    ]
    lines = [f"StateSet Voice sandbox listening on {info['base_url']}"]
    lines += [f"  {name:<24} {value}" for name, value in rows]
    lines.append("Control endpoints under /_sandbox (x-admin-key). Ctrl-C stops.")
    return "\n".join(lines)


async def _serve(config: SandboxConfig, *, as_json: bool, out: TextIO) -> None:
    server = SandboxServer(config)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        info = server.core.info(server.base_url)
        print(json.dumps(info) if as_json else banner(info), file=out, flush=True)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()


def environment(*, seed: int, host: str, port: int) -> dict[str, str]:
    """The variables that point the clients and the CLI at a sandbox with this seed and port."""
    keys = derive_keys(seed)
    base_url = f"http://{host}:{port}"
    return {
        "STATESET_VOICE_BASE_URL": base_url,
        "STATESET_VOICE_API_KEY": keys.runtime_key,
        "STATESET_VOICE_ADMIN_API_KEY": keys.admin_key,
        "STATESET_VOICE_WEBHOOK_SECRET": keys.webhook_secret,
        "STATESET_VOICE_CONTRACTS_URL": base_url,
        "TWILIO_AUTH_TOKEN": keys.twilio_auth_token,
    }


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the sandbox in the foreground; returns the process exit code (0 after a signal)."""
    args = build_parser().parse_args(argv)
    stream = out or sys.stdout
    if args.print_env:
        if args.seed is None or args.port == 0:
            print(
                "stateset-voice sandbox: --print-env needs --seed (the keys follow from it) and a"
                " fixed --port",
                file=sys.stderr,
            )
            return 2
        for name, value in environment(seed=args.seed, host=args.host, port=args.port).items():
            print(f"export {name}={shlex.quote(value)}", file=stream)
        return 0
    try:
        config = SandboxConfig(
            host=args.host,
            port=args.port,
            seed=args.seed,
            contracts_dir=args.contracts_dir,
            step_seconds=args.step_seconds,
            auto_advance=not args.manual_clock,
            rate_limit=args.rate_limit,
            rate_limit_refill_per_second=args.rate_refill,
            webhook_url=args.webhook_url,
            webhook_duplicate_probability=args.webhook_duplicates,
            faults=tuple(_load_faults(args.faults)),
            allow_remote=args.allow_remote,
            allow_remote_webhooks=args.allow_remote_webhooks,
        )
        if not args.quiet:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        asyncio.run(_serve(config, as_json=args.json, out=stream))
    except (ValueError, TypeError, OSError, ContractsNotFoundError) as exc:
        print(f"stateset-voice sandbox: {exc}", file=sys.stderr)
        return 2
    return 0
