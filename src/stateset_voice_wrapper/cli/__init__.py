"""The ``stateset-voice`` command line: calls, call logs, sessions, admin, webhooks, contracts
and the sandbox, over the same clients and environment variables as the Python API.

Run ``stateset-voice --help``; every command is documented in ``docs/cli.md``. Output is JSON
(``-o json``, ``-o jsonl``) or a table; errors carry the request IDs and each failure class has
its own exit code (:class:`ExitCode`). Needs only the standard library on top of the package.
"""

from ._exit import ExitCode
from ._main import main

__all__ = ["ExitCode", "main"]
