"""``stateset-voice``: parse, run one command, turn every failure into a message and exit code."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from .._shared.defaults import ENV_BASE_URL, LOGGER_NAME
from .._shared.errors import (
    ConfigurationError,
    InvalidParameterError,
    NotFoundError,
    StateSetVoiceError,
)
from .._shared.untrusted import escape_untrusted
from ._context import CommandError, Context
from ._exit import ExitCode, error_document, exit_code_for, hint_for
from ._output import Output
from ._parser import build_parser

_DEFAULTS = {
    "output": "auto",
    "show_numbers": False,
    "base_url": None,
    "timeout": None,
    "deadline": None,
    "max_retries": None,
    "progress": None,
    "verbose": False,
}


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run ``stateset-voice`` with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    ``sleep`` and ``clock`` pace ``calls create --wait``; tests pass their own.
    """
    out_stream = stdout or sys.stdout
    err_stream = stderr or sys.stderr
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(arguments)
    except SystemExit as exc:  # --help, --version, usage errors: argparse already printed
        return int(exc.code or 0)
    if args.command == "sandbox":
        return _run_sandbox(extra, err_stream)
    if extra:
        try:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        except SystemExit as exc:
            return int(exc.code or ExitCode.USAGE)
    for name, value in _DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    out = Output(
        fmt=args.output, stdout=out_stream, stderr=err_stream, show_numbers=args.show_numbers
    )
    if args.verbose:
        _log_to(err_stream)
    try:
        context = Context(args=args, out=out, sleep=sleep, clock=clock)
        return int(args.handler(args, context))
    except CommandError as exc:
        return _report(out, exc, ExitCode(exc.exit_code))
    except (InvalidParameterError, ConfigurationError) as exc:
        # Raised by the client library in its Python words: say them in the CLI's.
        message = in_option_names(exc.message, exc, _option_names(parser))
        return _report(
            out, exc, exit_code_for(exc), message=message, hints=_base_url_hints(exc, args)
        )
    except StateSetVoiceError as exc:
        return _report(out, exc, exit_code_for(exc), hints=_base_url_hints(exc, args))
    except KeyboardInterrupt:
        out.note("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`); stop quietly, as other command-line tools do.
        _silence(out_stream)
        return 0
    except Exception as exc:  # a bug: say so plainly, with what to quote in a report
        message = f"unexpected {type(exc).__name__}: {exc}"
        return _report(out, exc, ExitCode.ERROR, message=message)


def _option_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Python name (an option's ``dest``: ``from_``, ``max_retries``) -> the option (``--from``),
    over every subcommand."""
    names: dict[str, str] = {}
    parsers = [parser]
    while parsers:
        current = parsers.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
            else:
                long = [o for o in action.option_strings if o.startswith("--")]
                if long and action.dest != "help":
                    names.setdefault(action.dest, long[0])
    return names


def in_option_names(message: str, exc: StateSetVoiceError | None, options: dict[str, str]) -> str:
    """``message`` with the client library's Python names as the CLI's options.

    ``from_ must be E.164`` -> ``--from must be E.164``; ``max_retries`` -> ``--max-retries``
    anywhere in the text. A name without an underscore (``to``, ``deadline``) is an ordinary
    word too, so it is replaced only where it leads the message as the error's parameter.
    """

    def option(name: str) -> str:
        return options.get(name) or "--" + name.rstrip("_").replace("_", "-")

    parameter = getattr(exc, "parameter", None)
    leads = isinstance(parameter, str) and re.match(rf"{re.escape(parameter)}(?![\w-])", message)
    if isinstance(parameter, str) and parameter and "_" not in parameter and leads:
        message = option(parameter) + message[len(parameter) :]
    pythonic = {name for name in options if "_" in name}
    if isinstance(parameter, str) and "_" in parameter:
        pythonic.add(parameter)
    for name in sorted(pythonic, key=len, reverse=True):
        message = re.sub(rf"(?<![\w.-]){re.escape(name)}(?!\w)", option(name), message)
    return message


_HOST_ONLY = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?\Z")


def _base_url_hints(exc: BaseException, args: argparse.Namespace) -> list[str]:
    """Hints for the two common base-URL mistakes: no scheme, and a trailing ``/api/v1``.

    Decided from the configured value and the error's class and path, not the library's wording.
    """
    if getattr(args, "base_url", None):
        raw, source = str(args.base_url), "--base-url"
    else:
        raw, source = os.environ.get(ENV_BASE_URL, ""), ENV_BASE_URL
    raw = raw.strip()
    if not raw:
        return []
    setting = f"{source} " if source.startswith("--") else f"{source}="
    if isinstance(exc, ConfigurationError) and "://" not in raw:
        example = f"https://{raw}" if _HOST_ONLY.match(raw) else "https://voice.stateset.app"
        return [f"the base URL needs its scheme: {setting}{example}"]
    path = getattr(exc, "path", None) or ""
    if isinstance(exc, NotFoundError) and (
        path.startswith("/api/v1/api/v1") or raw.rstrip("/").endswith("/api/v1")
    ):
        host = raw.rstrip("/").removesuffix("/api/v1")
        example = (
            host if _HOST_ONLY.match(host.partition("://")[2]) else "https://voice.stateset.app"
        )
        return [
            "the base URL is the host only; every request path already starts with /api/v1:"
            f" {setting}{example}"
        ]
    return []


def _run_sandbox(argv: Sequence[str], stderr: TextIO) -> int:
    from ._local import sandbox

    try:
        return sandbox(argv)
    except CommandError as exc:
        print(f"stateset-voice: error: {escape_untrusted(str(exc))}", file=stderr)
        return int(exc.exit_code)


def _report(
    out: Output,
    exc: BaseException,
    code: ExitCode,
    *,
    message: str | None = None,
    hints: Sequence[str] = (),
) -> int:
    """Write the error: one line (and hints) on stderr, or a JSON document with ``-o json``.

    The line carries server-supplied text (the API's message and code, its x-request-id), so
    it is escaped; the JSON document is ASCII with the exact strings.
    """
    every_hint = [h for h in (hint_for(code), *hints) if h]
    if out.is_json:
        document = error_document(exc, code)
        if message is not None:
            document["error"]["message"] = message
        if every_hint:
            document["error"]["hints"] = every_hint
        print(json.dumps(document, ensure_ascii=True), file=out.stderr)
    else:
        text = message if message is not None else str(exc)
        print(f"stateset-voice: error: {escape_untrusted(text)}", file=out.stderr)
        for hint in every_hint:
            print(f"hint: {escape_untrusted(hint)}", file=out.stderr)
    out.stderr.flush()
    return int(code)


def _log_to(stream: TextIO) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _silence(stream: TextIO) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError):
        pass
