"""Pytest fixtures that start a real sandbox on loopback.

Enable with ``pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]``.

``sandbox``
    A fresh :class:`Sandbox` per test, made for determinism: ``seed=0``, a manual clock
    (``auto_advance=False``: calls move only through ``sandbox.advance(...)``, so no test
    sleeps), no duplicate webhook deliveries and a 10 ms webhook retry backoff.

``sandbox_factory``
    ``sandbox_factory(**options)`` starts a sandbox with those options on top of the same
    defaults; every sandbox it started is stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ._constants import TEST_DEFAULTS
from ._server import Sandbox


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with custom options; all are stopped at teardown."""
    started: list[Sandbox] = []

    def make(**options: Any) -> Sandbox:
        instance = Sandbox(**{**TEST_DEFAULTS, **options})
        instance.start()
        started.append(instance)
        return instance

    yield make
    for instance in reversed(started):
        instance.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A running sandbox with the deterministic test defaults."""
    return sandbox_factory()
