"""What every command handler gets: the parsed options, the output, and client factories."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import Page, StateSetVoiceError
from .._shared.defaults import DEFAULT_ITER_PAGE_SIZE, ENV_ADMIN_KEY, ENV_API_KEY, env_names
from ._exit import ExitCode
from ._output import Column, Output, Progress, isatty

if TYPE_CHECKING:
    from .. import AdminClient, IdempotencyLedger, VoiceClient


def _page_bounds() -> tuple[int, int]:
    """The contract's ``limit`` bounds (every listing shares one ``Limit`` parameter)."""
    import stateset_voice_facts as facts

    for op in facts.OPERATIONS.values():
        for param in op["parameters"]:
            if op["paged"] and param["name"] == "limit":
                schema = param["schema"]
                return int(schema.get("minimum", 1)), int(schema.get("maximum", 2**31))
    return 1, 2**31


class CommandError(StateSetVoiceError):
    """A command failed for a reason the command itself detected (not the client library).

    ``exit_code`` is the process exit status; ``kind`` names what went wrong in the JSON error
    document (``ContractFetchError``, ...).
    """

    def __init__(self, message: str, exit_code: int, *, kind: str = "CommandError") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.kind = kind


@dataclass(slots=True)
class Context:
    args: argparse.Namespace
    out: Output
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def client_options(self) -> dict[str, Any]:
        """Only the options given on the command line; the clients' defaults apply otherwise."""
        options: dict[str, Any] = {}
        for name in ("base_url", "timeout", "deadline", "max_retries"):
            value = getattr(self.args, name)
            if value is not None:
                options[name] = value
        return options

    def voice(self, *, ledger: IdempotencyLedger | None = None) -> VoiceClient:
        """A runtime client (with ``ledger`` for its creates); the key comes from
        ``STATESET_VOICE_API_KEY``."""
        from .. import VoiceClient

        _require_key(ENV_API_KEY, "runtime API key")
        return VoiceClient(ledger=ledger, **self.client_options())

    def admin(self) -> AdminClient:
        """An admin client; the key comes from ``STATESET_VOICE_ADMIN_API_KEY``."""
        from .. import AdminClient

        _require_key(ENV_ADMIN_KEY, "admin API key")
        return AdminClient(**self.client_options())

    def list_pages(
        self,
        label: str,
        cols: tuple[Column, ...],
        fetch: Callable[[int, int], Page[Any]],
    ) -> int:
        """Fetch pages with ``fetch(limit, offset)`` and write up to ``--limit`` items (or all).

        Progress goes to stderr when stderr is a terminal and more than one page is needed, or
        always with ``--progress``; a table ends with a note when there were more items.
        """
        args = self.args
        if not args.all and args.limit < 1:
            raise CommandError(
                f"--limit must be 1 or more, got {args.limit}", ExitCode.INVALID_INPUT
            )
        low, high = _page_bounds()
        if args.page_size is not None and not low <= args.page_size <= high:
            raise CommandError(
                f"--page-size must be {low} to {high}, got {args.page_size}",
                ExitCode.INVALID_INPUT,
            )
        want: int | None = None if args.all else args.limit
        page_size = args.page_size or min(want or DEFAULT_ITER_PAGE_SIZE, high)
        progress_flag = args.progress
        offset = args.offset
        page = None
        sink = self.out.listing(cols)
        try:
            with sink:
                progress: Progress | None = None
                completed = False
                try:
                    while True:
                        size = page_size if want is None else min(page_size, want - sink.count)
                        page = fetch(size, offset)
                        for item in page.items:
                            sink.add(item.to_dict())
                        target = max(page.total - args.offset, 0)
                        if want is not None:
                            target = min(target, want)
                        if progress is None:
                            needs_pages = target > len(page.items)
                            enabled = (
                                progress_flag
                                if progress_flag is not None
                                else needs_pages and isatty(self.out.stderr)
                            )
                            progress = Progress(self.out.stderr, label, enabled=bool(enabled))
                        progress.update(sink.count, target)
                        nxt = page.next_offset
                        if nxt is None or (want is not None and sink.count >= want):
                            break
                        offset = nxt
                    completed = True
                finally:
                    # Before the listing prints its table: the table starts on a clean line.
                    if progress is not None:
                        progress.finish(completed=completed)
        except BaseException as exc:
            if sink.count and not isinstance(exc, BrokenPipeError):
                self.out.note(
                    f"the listing is incomplete: {sink.count:,} {label} were written before"
                    " it failed"
                )
            raise
        if page is not None and not self.out.is_json:
            remaining = page.total - args.offset - sink.count
            if remaining > 0:
                self.out.note(
                    f"{sink.count:,} of {page.total - args.offset:,} {label} shown;"
                    " --all or --limit N for more"
                )
        return 0


def _require_key(env: str, what: str) -> None:
    """Fail in the CLI's words when the key's variable is unset (the library would say "pass
    it to the client", which a command line cannot)."""
    if not any(os.environ.get(name, "").strip() for name in env_names(env)):
        raise CommandError(
            f"no {what}: set the {env} environment variable (the CLI reads API keys only from"
            " the environment, never from options)",
            ExitCode.CONFIGURATION,
            kind="ConfigurationError",
        )


def json_object(text: str, option: str) -> dict[str, Any]:
    """Parse an option's JSON object value, or fail naming the option."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f'{option} must be a JSON object, e.g. \'{{"appointment_id": "A-123"}}\': {exc.msg}'
            f" at character {exc.pos}",
            ExitCode.INVALID_INPUT,
        ) from None
    if not isinstance(value, dict):
        raise CommandError(
            f"{option} must be a JSON object, got {type(value).__name__}", ExitCode.INVALID_INPUT
        )
    return value
