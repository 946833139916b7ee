"""Every Python block of README.md and docs/*.md runs in the test-suite, against a sandbox.

Collected with sybil: each fenced ``python`` block of a page is one test, and the blocks of a
page share one namespace, top to bottom, as a reader runs them. A session-wide sandbox is
started first and its keys and URL are put in the environment the clients read
(``STATESET_VOICE_API_KEY``, ``STATESET_VOICE_ADMIN_API_KEY``, ``STATESET_VOICE_BASE_URL``,
``STATESET_VOICE_WEBHOOK_SECRET``), so the docs' ``VoiceClient()`` talks to it.

A block that cannot run as written (it needs a Redis server, a web framework's server loop, or
names a value the page leaves to the reader) is marked, just before it, with

    <!-- compile-only: the reason -->

and is then compiled (so its syntax is still checked) but not run. The reason is required:
``tests/test_docs_markers.py`` refuses a marker without one. Nothing is skipped.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, FencedCodeBlockLexer

#: The environment the documentation's examples read, set while they run.
_ENV_NAMES = (
    "STATESET_VOICE_API_KEY",
    "STATESET_VOICE_ADMIN_API_KEY",
    "STATESET_VOICE_BASE_URL",
    "STATESET_VOICE_WEBHOOK_SECRET",
)


class _Block:
    """One fenced Python block, and whether (and why) it is only compiled."""

    def __init__(self, source: str, line: int, reason: str | None) -> None:
        self.source = source
        self.line = line
        self.reason = reason


def _evaluate(example: Example) -> None:
    block: _Block = example.parsed
    # Line numbers in tracebacks point into the Markdown page.
    code = compile("\n" * block.line + block.source, example.path, "exec")
    if block.reason is None:
        exec(code, example.namespace)  # noqa: S102 - running the documentation is the point


def _python_blocks(document: Document) -> Iterable[Region]:
    # A lazy reason, so that a one-line marker ends at its own "-->"; a marker region ends
    # before its "-->", which is skipped below.
    markers = {
        region.end: region.lexemes["arguments"].strip()
        for region in DirectiveInHTMLCommentLexer(directive="compile-only", arguments=".*?")(
            document
        )
    }
    fences = FencedCodeBlockLexer(language=r"python|py")(document)
    for region in fences:
        # A marker applies to the block right after it (only blank space in between).
        reason = next(
            (
                why
                for end, why in markers.items()
                if end <= region.start
                and not re.sub(r"^-+>", "", document.text[end : region.start].strip()).strip()
            ),
            None,
        )
        source = region.lexemes["source"]
        line = document.text.count("\n", 0, region.start) + 1
        yield Region(region.start, region.end, _Block(str(source), line, reason), _evaluate)


@pytest.fixture(scope="session")
def docs_sandbox() -> Iterator[Any]:
    """A sandbox for the documentation, and the environment pointing the clients at it."""
    from stateset_voice_wrapper.sandbox import Sandbox

    saved = {name: os.environ.get(name) for name in _ENV_NAMES}
    # Calls move on quickly (0.05 s a step), so a page that follows one sees it progress.
    with Sandbox(step_seconds=0.05) as sandbox:
        os.environ["STATESET_VOICE_API_KEY"] = sandbox.runtime_key
        os.environ["STATESET_VOICE_ADMIN_API_KEY"] = sandbox.admin_key
        os.environ["STATESET_VOICE_BASE_URL"] = sandbox.base_url
        os.environ["STATESET_VOICE_WEBHOOK_SECRET"] = sandbox.webhook_secret
        try:
            yield sandbox
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _setup(namespace: dict[str, Any]) -> None:
    """Each page runs in a directory of its own, so files it writes (a ledger) go nowhere."""
    namespace["__name__"] = "docs"
    namespace["_docs_cwd"] = os.getcwd()
    os.chdir(tempfile.mkdtemp(prefix="stateset-voice-docs-"))


def _teardown(namespace: dict[str, Any]) -> None:
    os.chdir(namespace["_docs_cwd"])


#: The pages whose blocks run (tests/test_docs_markers.py checks every page is listed).
DOCUMENTED = ["README.md", "docs/calls.md", "docs/fleet-limits.md"]

pytest_collect_file = Sybil(
    parsers=[_python_blocks],
    patterns=DOCUMENTED,
    fixtures=["docs_sandbox"],
    setup=_setup,
    teardown=_teardown,
    name="docs",
).pytest()
