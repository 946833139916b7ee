"""Every Python block of README.md and docs/*.md, and every docstring example, runs.

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

import contextlib
import doctest
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, FencedCodeBlockLexer
from sybil.parsers.rest import DocTestParser

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


def _only_comment_close(between: str) -> bool:
    """Whether the text between a marker's arguments and a fence is just ``-->`` and space."""
    return not between.strip().removeprefix("-->").strip()


def _python_blocks(document: Document) -> Iterable[Region]:
    markers = {
        region.end: region.lexemes["arguments"].strip()
        for region in DirectiveInHTMLCommentLexer(directive="compile-only", arguments=r"[^\n]*?")(
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
                if end <= region.start and _only_comment_close(document.text[end : region.start])
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
    with Sandbox(step_seconds=0.05) as sandbox, _through_prism(sandbox.base_url) as base_url:
        os.environ["STATESET_VOICE_API_KEY"] = sandbox.runtime_key
        os.environ["STATESET_VOICE_ADMIN_API_KEY"] = sandbox.admin_key
        os.environ["STATESET_VOICE_BASE_URL"] = base_url
        os.environ["STATESET_VOICE_WEBHOOK_SECRET"] = sandbox.webhook_secret
        try:
            yield sandbox
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextlib.contextmanager
def _through_prism(sandbox_url: str) -> Iterator[str]:
    """The base URL the documentation's clients use: the sandbox's, or, when
    ``STATESET_DOCS_PRISM_REPORT`` names a file (``make prism``), Prism validation proxies for
    both contracts in front of it, whose verdicts are written to that file at the end."""
    report = os.environ.get("STATESET_DOCS_PRISM_REPORT")
    if not report:
        yield sandbox_url
        return
    tests = str(Path(__file__).resolve().parent / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    if TYPE_CHECKING:
        from tests import prism
    else:
        import prism  # tests/prism.py

    logs = Path(report).parent
    processes = []
    try:
        proxies = {}
        for contract, path in prism.CONTRACTS.items():
            log = logs / f"prism-docs-{contract}.log"
            process, url = prism.start_prism(path, sandbox_url, log)
            processes.append(process)
            proxies[contract] = prism.Proxy(url, log)
        with prism.Splitter(
            public=proxies["public"], admin=proxies["admin"], sandbox_url=sandbox_url
        ) as splitter:
            yield splitter.url
        seen = {
            contract: {
                "answers": len(proxy.answers),
                "violations": proxy.violations(),
                "request_violations": len(proxy.request_violations()),
            }
            for contract, proxy in proxies.items()
        }
        Path(report).write_text(json.dumps(seen, indent=2))
    finally:
        for process in processes:
            prism.stop(process)


def _setup(namespace: dict[str, Any]) -> None:
    """Each page runs in a directory of its own, so files it writes (a ledger) go nowhere."""
    namespace["__name__"] = "docs"
    namespace["_docs_cwd"] = os.getcwd()
    os.chdir(tempfile.mkdtemp(prefix="stateset-voice-docs-"))


def _teardown(namespace: dict[str, Any]) -> None:
    os.chdir(namespace["_docs_cwd"])
    # A page may reconfigure the process-wide retry budget (reliability.md shows how): put it
    # back, so the next page and any later test start from the defaults.
    from stateset_voice_wrapper import RetryBudget, get_retry_budget

    defaults = RetryBudget()
    get_retry_budget().configure(
        capacity=defaults.capacity,
        retry_cost=defaults.retry_cost,
        timeout_cost=defaults.timeout_cost,
        success_refund=defaults.success_refund,
        refill=True,
    )


#: The pages whose blocks run (tests/test_docs_markers.py checks every page is listed).
DOCUMENTED = ["README.md", "docs/*.md"]

_pages = Sybil(
    parsers=[_python_blocks],
    patterns=DOCUMENTED,
    fixtures=["docs_sandbox"],
    setup=_setup,
    teardown=_teardown,
    name="docs",
)

#: The ``>>>`` examples of the package's docstrings run too, in their module's namespace.
#: The schemathesis hooks module imports schemathesis, which only the conformance tools have.
_docstrings = Sybil(
    parsers=[DocTestParser(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)],
    path="src/stateset_voice_wrapper",
    patterns=["*.py"],
    excludes=["schemathesis_hooks.py"],
    name="docstrings",
)

pytest_collect_file = (_pages + _docstrings).pytest()
