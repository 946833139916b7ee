"""Tenant runtime commands: ``calls create``, ``call-logs list|get``, ``sessions list|get``,
``evaluations list|get``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import Page, response_info
from .._shared.call_status import is_final_call_status
from .._shared.ids import random_uuid
from ._context import CommandError, Context, json_object
from ._exit import ExitCode
from ._output import Column, Section, columns

if TYPE_CHECKING:
    from .. import VoiceClient

#: A call in one of these states will not change again.

CALL_LOG_COLUMNS = columns(
    "call_id", "status", "direction", "agent_key", "to", "from", "duration_seconds", "created_at"
)
SESSION_COLUMNS = columns(
    "session_id", "call_id", "status", "agent_key", "#transcript", "tags", "escalated",
    "evaluation_score", "started_at",
)  # fmt: skip
EVALUATION_COLUMNS = columns(
    "evaluation_id", "session_id", "call_id", "score", "passed", "evaluator", "created_at"
)
EVALUATION_SECTIONS = (
    Section("CRITERIA", "criteria", columns("name", "score", "passed", "notes")),
)
SESSION_SECTIONS = (
    Section("TRANSCRIPT", "transcript", columns("start_ms", "speaker", "text")),
    Section("TOOL CALLS", "function_calls", columns("started_ms", "name", "status", "duration_ms")),
)


def calls_create(args: argparse.Namespace, ctx: Context) -> int:
    """Place one outbound call. The idempotency key makes re-running the command safe."""
    if args.wait and (args.poll_interval <= 0 or args.wait_timeout <= 0):
        raise CommandError(
            "--poll-interval and --wait-timeout must be positive", ExitCode.INVALID_INPUT
        )
    # The CLI picks the key itself, so it can print it before sending: a re-run with it after
    # Ctrl-C or a lost answer is then safe.
    key = args.idempotency_key or random_uuid()
    metadata = None if args.metadata is None else json_object(args.metadata, "--metadata")
    try:
        with ctx.voice() as voice, response_info() as info:
            call = voice.calls.create(
                to=args.to,
                from_=args.from_,
                agent_key=args.agent_key,
                greeting=args.greeting,
                metadata=metadata,
                idempotency_key=key,
            )
    except KeyboardInterrupt:
        # The call may exist already: the key is what makes finding out (re-running) safe.
        # One message, from main's report of this error (not a note plus main's "interrupted").
        raise CommandError(
            f"interrupted; re-run with --idempotency-key {key} to finish safely",
            ExitCode.INTERRUPTED,
            kind="Interrupted",
        ) from None
    what = "replayed: this key already created" if info.replayed else "created"
    ctx.out.note(f"{what} {call.call_id} (request_id={info.request_id}, idempotency_key={key})")
    if not args.wait:
        ctx.out.item(call.to_dict())
        return 0
    return _wait_for_end(args, ctx, call.call_id, call.status.value)


def _wait_for_end(args: argparse.Namespace, ctx: Context, call_id: str, status: str) -> int:
    """Poll the call's log until it ends; note each new status on stderr, print the final log."""
    ctx.out.note(f"status: {status}")
    give_up_at = ctx.clock() + args.wait_timeout
    with ctx.voice() as voice:
        while True:
            ctx.sleep(args.poll_interval)
            log = voice.call_logs.get(call_id)
            if log.status.value != status:
                status = log.status.value
                ctx.out.note(f"status: {status}")
            if is_final_call_status(status):
                ctx.out.item(log.to_dict())
                return 0
            if ctx.clock() >= give_up_at:
                raise CommandError(
                    f"{call_id} is still {status} after {args.wait_timeout:g}s; follow it with"
                    f" `stateset-voice call-logs get {call_id}`",
                    ExitCode.STILL_RUNNING,
                )


def _list(
    ctx: Context,
    label: str,
    cols: tuple[Column, ...],
    pick: Callable[[VoiceClient], Callable[..., Page[Any]]],
) -> int:
    """A runtime listing: ``pick(voice)`` is the resource's ``list_page``, called per page with
    the filters the parser read from the contract."""
    filters = {name: getattr(ctx.args, name) for name in ctx.args.filter_names}
    with ctx.voice() as voice:
        list_page = pick(voice)
        return ctx.list_pages(
            label, cols, lambda limit, offset: list_page(limit=limit, offset=offset, **filters)
        )


def _show(
    ctx: Context,
    pick: Callable[[VoiceClient], Callable[[str], Any]],
    resource_id: str,
    sections: tuple[Section, ...] = (),
) -> int:
    """One runtime resource by ID, printed with its sub-tables."""
    with ctx.voice() as voice:
        resource = pick(voice)(resource_id)
    ctx.out.item(resource.to_dict(), sections=sections)
    return 0


def call_logs_list(args: argparse.Namespace, ctx: Context) -> int:
    return _list(ctx, "call logs", CALL_LOG_COLUMNS, lambda v: v.call_logs.list_page)


def call_logs_get(args: argparse.Namespace, ctx: Context) -> int:
    return _show(ctx, lambda v: v.call_logs.get, args.call_id)


def sessions_list(args: argparse.Namespace, ctx: Context) -> int:
    return _list(ctx, "voice sessions", SESSION_COLUMNS, lambda v: v.sessions.list_page)


def sessions_get(args: argparse.Namespace, ctx: Context) -> int:
    return _show(ctx, lambda v: v.sessions.get, args.session_id, SESSION_SECTIONS)


def evaluations_list(args: argparse.Namespace, ctx: Context) -> int:
    return _list(ctx, "evaluations", EVALUATION_COLUMNS, lambda v: v.evaluations.list_page)


def evaluations_get(args: argparse.Namespace, ctx: Context) -> int:
    return _show(ctx, lambda v: v.evaluations.get, args.evaluation_id, EVALUATION_SECTIONS)
