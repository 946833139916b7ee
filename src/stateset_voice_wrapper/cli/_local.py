"""Commands that work on local files or start servers: ``webhooks verify``, ``contracts
fetch|check`` and ``sandbox``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from .._shared.defaults import ENV_WEBHOOK_SECRET, env_names
from ._context import CommandError, Context
from ._exit import ExitCode
from ._output import columns

ENV_TWILIO_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"  # noqa: S105 - a variable name
CONTRACT_COLUMNS = columns("name", "status", "sha256", "path")


def _read_payload(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise CommandError(
            f"cannot read the payload file {source!r}: {exc.strerror}", ExitCode.INVALID_INPUT
        ) from None


def _secrets(given: Sequence[str] | None, env: str, what: str) -> list[str]:
    values = [s for s in (given or []) if s.strip()]
    for name in env_names(env):
        if values:
            break
        values = [s for s in os.environ.get(name, "").split(",") if s.strip()]
    if not values:
        raise CommandError(
            f"no {what}: set the {env} environment variable (or pass it as an option)",
            ExitCode.CONFIGURATION,
        )
    return [s.strip() for s in values]


def webhooks_verify(args: argparse.Namespace, ctx: Context) -> int:
    """Check a captured delivery: a StateSet event, or a Twilio inbound-call request."""
    from ..webhooks import (
        InvalidEventError,
        InvalidSignatureError,
        construct_event,
        verify_twilio_signature,
    )

    payload = _read_payload(args.payload)
    try:
        if args.provider == "twilio":
            token = _secrets(args.auth_token and [args.auth_token], ENV_TWILIO_AUTH_TOKEN,
                             "Twilio auth token")[0]  # fmt: skip
            if args.url is None:
                raise CommandError(
                    "--url is required for Twilio: the full URL Twilio requested, exactly as"
                    " configured in the Twilio console",
                    ExitCode.INVALID_INPUT,
                )
            params = parse_qsl(payload.decode("utf-8", "replace"), keep_blank_values=True)
            has_body_hash = "bodySHA256" in urlsplit(args.url).query
            verify_twilio_signature(
                auth_token=token,
                url=args.url,
                params=params,
                signature=args.signature,
                body=payload if has_body_hash else None,
            )
            ctx.out.note("valid Twilio signature")
            form = dict(params)
            ctx.out.item(
                {
                    "valid": True,
                    "provider": "twilio",
                    "call_sid": form.get("CallSid"),
                    "call_status": form.get("CallStatus"),
                    "from": form.get("From"),
                    "to": form.get("To"),
                }
            )
            return 0
        secrets = _secrets(args.secret, ENV_WEBHOOK_SECRET, "webhook secret")
        if args.signature is None:
            raise CommandError(
                "--signature is required: the delivery's StateSet-Signature header value",
                ExitCode.INVALID_INPUT,
            )
        event = construct_event(
            payload=payload,
            headers={"StateSet-Signature": args.signature},
            secrets=secrets,
            tolerance=args.tolerance,
        )
    except InvalidSignatureError as exc:
        raise CommandError(
            f"invalid signature ({exc.reason}): {exc}",
            ExitCode.INVALID_WEBHOOK,
            kind="InvalidSignatureError",
        ) from None
    except InvalidEventError as exc:
        raise CommandError(
            f"signature valid but the event is not: {exc}",
            ExitCode.INVALID_WEBHOOK,
            kind="InvalidEventError",
        ) from None
    ctx.out.note(f"valid signature: {event.type_} {event.id}")
    ctx.out.item(event.to_dict())
    return 0


def contracts_fetch(args: argparse.Namespace, ctx: Context) -> int:
    """Download both contracts, validate them, and pin them with their SHA-256 in the lock."""
    from .._contracts import ContractFetchError, fetch_contracts

    try:
        result = fetch_contracts(base_url=args.base_url, out_dir=args.out_dir)
    except ContractFetchError as exc:
        raise CommandError(str(exc), ExitCode.CONTRACT_FETCH, kind="ContractFetchError") from None
    with ctx.out.listing(CONTRACT_COLUMNS) as sink:
        for item in result.contracts:
            sink.add(
                {"name": item.name, "status": item.status, "sha256": item.sha256,
                 "path": str(item.path), "url": item.url}
            )  # fmt: skip
    if result.changed:
        ctx.out.note(
            f"contracts changed in {args.out_dir}: regenerate the clients (make regen) and"
            " commit the contracts and generated/ together"
        )
    else:
        ctx.out.note("contracts unchanged")
    return 0


def contracts_check(args: argparse.Namespace, ctx: Context) -> int:
    """Compare the live contracts with the pinned copies; exit 13 when they differ."""
    from .._contracts import CONTRACTS, ContractFetchError, check_contracts

    try:
        differing = set(check_contracts(base_url=args.base_url, out_dir=args.out_dir))
    except ContractFetchError as exc:
        raise CommandError(str(exc), ExitCode.CONTRACT_FETCH, kind="ContractFetchError") from None
    with ctx.out.listing(columns("name", "status", "file")) as sink:
        for contract in CONTRACTS:
            status = "differs" if contract.name in differing else "in-sync"
            sink.add({"name": contract.name, "status": status, "file": contract.file_name})
    if differing:
        ctx.out.note(
            f"{len(differing)} contract(s) differ from {args.out_dir}: run"
            " `stateset-voice contracts fetch` and regenerate the clients"
        )
        return ExitCode.CONTRACT_DRIFT
    ctx.out.note("pinned contracts match the live ones")
    return 0


def sandbox(argv: Sequence[str]) -> int:
    """``stateset-voice sandbox ...``: the sandbox's own command line (needs ``[sandbox]``)."""
    try:
        from ..sandbox import main
    except ImportError as exc:
        raise CommandError(str(exc), ExitCode.CONFIGURATION) from None
    return main(list(argv))
