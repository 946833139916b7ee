"""The documentation's examples are all collected, and every one that is not run says why.

The root ``conftest.py`` runs each ``python`` block of README.md and docs/*.md. A block may be
marked ``<!-- compile-only: reason -->`` instead; these tests keep that escape hatch honest: a
marker needs a reason, must sit right before a Python block (a stray marker would mark
nothing, or the wrong block), and no page of Markdown is left out of collection.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
MARKER = re.compile(r"<!--\s*compile-only:(?P<reason>[^\n]*?)-->")
FENCE_AFTER = re.compile(r"\s*```(?:python|py)\n")


def _root_conftest() -> ModuleType:
    """The repository's root conftest.py (``import conftest`` would find tests/conftest.py)."""
    spec = importlib.util.spec_from_file_location("_root_conftest", ROOT / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _conftest_patterns() -> list[str]:
    return list(_root_conftest().DOCUMENTED)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_page_is_collected(page: Path) -> None:
    relative = str(page.relative_to(ROOT))
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in _conftest_patterns()), (
        f"{relative} is not collected by conftest.DOCUMENTED: its examples would never run"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_markers_have_reasons_and_a_block(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for match in MARKER.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        reason = match.group("reason").strip()
        assert len(reason) >= 10, f"{page.name}:{line}: a compile-only marker needs a reason"
        assert FENCE_AFTER.match(text, match.end()), (
            f"{page.name}:{line}: a compile-only marker must come right before a python block"
        )


def test_some_blocks_run() -> None:
    """Most blocks run: compile-only stays the exception (fewer than one in five)."""
    blocks = marked = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks += len(re.findall(r"^```(?:python|py)\n", text, re.MULTILINE))
        marked += len(MARKER.findall(text))
    assert blocks > 0
    assert marked * 5 < blocks, f"{marked} of {blocks} documented blocks are compile-only"


def test_marker_reason_is_parsed_by_the_collector() -> None:
    """The collector attaches a marker's reason to the block after it (and only that block)."""
    from sybil import Document

    text = (
        "intro\n\n<!-- compile-only: needs a server loop -->\n```python\nraise SystemExit\n```\n"
        "\n```python\nx = 1\n```\n"
    )
    regions = list(_root_conftest()._python_blocks(Document(text, "page.md")))
    assert [r.parsed.reason for r in regions] == ["needs a server loop", None]
