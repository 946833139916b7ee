"""Commands that work on local files, the contracts or start servers: ``webhooks verify``,
``contracts check`` (and the deprecated ``contracts fetch``) and ``sandbox``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from .._shared.defaults import ENV_BASE_URL, ENV_WEBHOOK_SECRET, env_names
from ._context import CommandError, Context
from ._exit import ExitCode
from ._fetch import (
    CONTRACT_PATHS,
    DEFAULT_CONTRACTS_URL,
    ENV_CONTRACTS_URL,
    ContractFetchError,
    fetch_contracts,
    sha256_hex,
)
from ._output import columns

ENV_TWILIO_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"  # noqa: S105 - a variable name
CONTRACT_COLUMNS = columns("name", "status", "url")


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
            try:
                has_body_hash = "bodySHA256" in urlsplit(args.url).query
            except ValueError as exc:
                raise CommandError(
                    f"--url is not a valid URL ({exc}): give the full URL Twilio requested",
                    ExitCode.INVALID_INPUT,
                ) from None
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
    """Deprecated: pinning contracts is maintainer tooling, in the repository's scripts/."""
    raise CommandError(
        "`stateset-voice contracts fetch` is deprecated and no longer pins contracts: pinning"
        " is maintainer tooling; in a checkout of stateset-voice run `make fetch-contracts`"
        " (scripts/fetch-contracts). To compare the live contracts with the ones this"
        " package was built from, run `stateset-voice contracts check`",
        ExitCode.DEPRECATED,
        kind="DeprecatedCommand",
    )


def contracts_base_url(args: argparse.Namespace) -> str:
    """``--base-url``, else ``$STATESET_VOICE_CONTRACTS_URL``, else ``$STATESET_VOICE_BASE_URL``,
    else production: the command line wins over the environment, and the contracts-only
    variable over the one every command reads."""
    return (
        args.base_url
        or os.environ.get(ENV_CONTRACTS_URL)
        or os.environ.get(ENV_BASE_URL)
        or DEFAULT_CONTRACTS_URL
    )


def _pinned_hashes(out_dir: str | None) -> tuple[dict[str, str | None], str]:
    """The SHA-256 of each pinned contract, and what they were read from."""
    if out_dir is None:
        import stateset_voice_facts as facts

        from .. import __version__

        pinned: dict[str, str | None] = {
            name: facts.CONTRACTS[name]["sha256"] for name in CONTRACT_PATHS
        }
        return pinned, f"the contracts stateset-voice {__version__} was built from"
    hashes: dict[str, str | None] = {}
    for name in CONTRACT_PATHS:
        try:
            hashes[name] = sha256_hex((Path(out_dir) / f"stateset-voice-{name}.json").read_bytes())
        except OSError:
            hashes[name] = None
    return hashes, f"the files in {out_dir}"


def contracts_check(args: argparse.Namespace, ctx: Context) -> int:
    """Compare the live contracts' SHA-256 with the pinned ones; exit 13 when they differ.

    Works wherever the package is installed: the pinned hashes come from
    ``stateset_voice_facts.CONTRACTS`` (or from ``--out-dir``'s files).
    """
    try:
        fetched = fetch_contracts(
            contracts_base_url(args),
            deadline=args.deadline if args.deadline is not None else 60.0,
            timeout=args.timeout,
        )
    except ContractFetchError as exc:
        raise CommandError(
            exc.message, ExitCode.CONTRACT_FETCH, kind="ContractFetchError"
        ) from None
    pinned, against = _pinned_hashes(args.out_dir)
    differing = []
    with ctx.out.listing(CONTRACT_COLUMNS) as sink:
        for item in fetched:
            in_sync = item.sha256 == pinned[item.name]
            if not in_sync:
                differing.append(item.name)
            sink.add(
                {"name": item.name, "status": "in-sync" if in_sync else "differs",
                 "url": item.served_url, "live_sha256": item.sha256,
                 "pinned_sha256": pinned[item.name]}
            )  # fmt: skip
    if differing:
        ctx.out.note(
            f"{len(differing)} contract(s) differ from {against}: the deployed API changed;"
            " in a checkout, `make fetch-contracts` then `make regen` pins the new ones"
        )
        return ExitCode.CONTRACT_DRIFT
    ctx.out.note(f"the live contracts match {against}")
    return 0


def sandbox(argv: Sequence[str]) -> int:
    """``stateset-voice sandbox ...``: the sandbox's own command line (needs ``[sandbox]``)."""
    try:
        from ..sandbox import main
    except ImportError as exc:
        raise CommandError(str(exc), ExitCode.CONFIGURATION) from None
    return main(list(argv))
