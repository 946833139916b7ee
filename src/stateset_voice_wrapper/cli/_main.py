"""``stateset-voice``: parse, run one command, turn every failure into a message and exit code."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from .._shared.defaults import LOGGER_NAME
from .._shared.errors import InvalidParameterError, StateSetVoiceError
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
    except InvalidParameterError as exc:
        return _report(out, exc, exit_code_for(exc), message=_in_option_names(exc))
    except StateSetVoiceError as exc:
        return _report(out, exc, exit_code_for(exc))
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


def _in_option_names(exc: InvalidParameterError) -> str | None:
    """The message with the Python parameter name (``from_``) as the option (``--from``)."""
    name = exc.parameter
    if not name or not exc.message.startswith(name):
        return None
    return "--" + name.rstrip("_").replace("_", "-") + exc.message[len(name) :]


def _run_sandbox(argv: Sequence[str], stderr: TextIO) -> int:
    from ._local import sandbox

    try:
        return sandbox(argv)
    except CommandError as exc:
        print(f"stateset-voice: error: {exc}", file=stderr)
        return int(exc.exit_code)


def _report(out: Output, exc: BaseException, code: ExitCode, *, message: str | None = None) -> int:
    if out.is_json:
        document = error_document(exc, code)
        if message is not None:
            document["error"]["message"] = message
        print(json.dumps(document), file=out.stderr)
    else:
        print(f"stateset-voice: error: {message or exc}", file=out.stderr)
        hint = hint_for(code)
        if hint is not None:
            print(f"hint: {hint}", file=out.stderr)
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
