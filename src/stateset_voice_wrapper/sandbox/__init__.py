"""A local StateSet Voice API for tests, demos and chaos runs (the ``[sandbox]`` extra).

It serves every operation of both pinned contracts (``api-contracts/*.json``) with their auth,
validates requests against them, keeps calls, sessions, evaluations and admin state in memory,
honours ``Idempotency-Key``, rate-limits, delivers signed webhooks, and fails on request.

Python::

    from stateset_voice_wrapper.sandbox import FaultRule, Sandbox

    with Sandbox(seed=1) as sandbox:
        print(sandbox.base_url, sandbox.runtime_key, sandbox.admin_key)
        sandbox.set_faults(FaultRule(kind="503", rate=0.2))

Command line: ``stateset-voice sandbox [--host 127.0.0.1] [--port 4010] [--seed N]``
(:func:`main`). Pytest: ``pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]``
gives the ``sandbox`` and ``sandbox_factory`` fixtures. See ``docs/sandbox.md``.
"""

from __future__ import annotations

try:
    import aiohttp as _aiohttp  # noqa: F401
    import openapi_core as _openapi_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the sandbox needs the [sandbox] extra: pip install 'stateset-voice[sandbox]'"
    ) from exc

from ._cli import main
from ._content import outcome_for_number
from ._core import SandboxConfig
from ._faults import ERROR_KINDS, FaultRule
from ._limits import SandboxLimits
from ._server import Sandbox, SandboxServer
from ._spec import ContractsNotFoundError, locate_contracts_dir

__all__ = [
    "ERROR_KINDS",
    "ContractsNotFoundError",
    "FaultRule",
    "Sandbox",
    "SandboxConfig",
    "SandboxLimits",
    "SandboxServer",
    "locate_contracts_dir",
    "main",
    "outcome_for_number",
]
