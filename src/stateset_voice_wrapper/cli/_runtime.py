"""Tenant runtime commands: ``calls create``, ``call-logs list|get``, ``sessions list|get``,
``evaluations list|get``."""

from __future__ import annotations

import argparse

from .._clientcore import new_idempotency_key
from .._options import response_info
from ._context import CommandError, Context, json_object
from ._exit import ExitCode
from ._output import Section, columns

#: A call in one of these states will not change again.
TERMINAL_STATUSES = frozenset({"completed", "no-answer", "busy", "failed", "canceled"})

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
    key = args.idempotency_key or new_idempotency_key()
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
        ctx.out.note(f"interrupted; re-run with --idempotency-key {key} to finish safely")
        raise
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
            if status in TERMINAL_STATUSES:
                ctx.out.item(log.to_dict())
                return 0
            if ctx.clock() >= give_up_at:
                raise CommandError(
                    f"{call_id} is still {status} after {args.wait_timeout:g}s; follow it with"
                    f" `stateset-voice call-logs get {call_id}`",
                    ExitCode.STILL_RUNNING,
                )


def call_logs_list(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.voice() as voice:
        return ctx.list_pages(
            "call logs",
            CALL_LOG_COLUMNS,
            lambda limit, offset: voice.call_logs.list_page(
                limit=limit,
                offset=offset,
                status=args.status,
                direction=args.direction,
                agent_key=args.agent_key,
            ),
        )


def call_logs_get(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.voice() as voice:
        log = voice.call_logs.get(args.call_id)
    ctx.out.item(log.to_dict())
    return 0


def sessions_list(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.voice() as voice:
        return ctx.list_pages(
            "voice sessions",
            SESSION_COLUMNS,
            lambda limit, offset: voice.sessions.list_page(
                limit=limit,
                offset=offset,
                status=args.status,
                call_id=args.call_id,
                agent_key=args.agent_key,
                tag=args.tag,
            ),
        )


def sessions_get(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.voice() as voice:
        session = voice.sessions.get(args.session_id)
    ctx.out.item(session.to_dict(), sections=SESSION_SECTIONS)
    return 0


def evaluations_list(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.voice() as voice:
        return ctx.list_pages(
            "evaluations",
            EVALUATION_COLUMNS,
            lambda limit, offset: voice.evaluations.list_page(
                limit=limit,
                offset=offset,
                session_id=args.session_id,
                call_id=args.call_id,
                passed=args.passed,
            ),
        )


def evaluations_get(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.voice() as voice:
        evaluation = voice.evaluations.get(args.evaluation_id)
    ctx.out.item(evaluation.to_dict(), sections=EVALUATION_SECTIONS)
    return 0
