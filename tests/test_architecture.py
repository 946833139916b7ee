"""The layers of ``src/stateset_voice_wrapper``, held by reading the import graph.

``docs/architecture.md`` draws the same rooms and arrows. Each module belongs to the room of its
first folder (``_shared``, ``_reliability``, ``_storage``, ``_clients``, ``webhooks``, ``cli``,
``sandbox``) or to the package root (the public modules). Every import inside the package,
including those under ``TYPE_CHECKING`` and inside functions, is read from the source with
``ast`` and checked against ``ALLOWED``: an upward import (storage importing the clients, the
floor importing anything) fails the build, naming the file and line.

The same file pins the public surface: each public module's ``__all__`` equals its public names.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

PACKAGE = "stateset_voice_wrapper"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE

#: Generated from the contracts: below everything hand-written.
GENERATED = {"stateset_voice_facts", "stateset_voice_public", "stateset_voice_admin"}

#: room -> the rooms (and generated packages) its modules may import. "root" is the public
#: surface (``__init__``, ``stores``, ``_version``); the outer rooms reach the layers below only
#: through it.
ALLOWED: dict[str, set[str]] = {
    "_shared": {"stateset_voice_facts"},
    "_reliability": {"_shared", "stateset_voice_facts"},
    "_storage": {"_shared"},
    "_clients": {"_shared", "_reliability", "_storage", *GENERATED},
    "root": {"_shared", "_reliability", "_storage", "_clients", "webhooks", "cli", "sandbox"},
    "webhooks": {"root", "_shared", "stateset_voice_facts", "stateset_voice_public"},
    "launch": {"root", "webhooks", "_shared", "stateset_voice_facts"},
    "cli": {"root", "webhooks", "launch", "sandbox", "_shared", "stateset_voice_facts"},
    "sandbox": {"root", "webhooks", "_shared", "stateset_voice_facts"},
}
ROOMS = set(ALLOWED) - {"root"}
#: A room may always import its own modules.
for _name, _allowed in ALLOWED.items():
    _allowed.add(_name)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _room(module: str) -> str | None:
    """The room of a module of the package, None for a module outside it."""
    parts = module.split(".")
    if parts[0] in GENERATED:
        return parts[0]
    if parts[0] != PACKAGE:
        return None
    if len(parts) > 1 and parts[1] in ROOMS:
        return parts[1]
    return "root"


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in a source file (or in ``source``, read as
    if it were that file)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    text = path.read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None or (node.level and not node.module):
                # "from .. import X": X may be a submodule (a room) or a name of the package.
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    found.append((node.lineno, candidate if _is_module(candidate) else target))
            else:
                found.append((node.lineno, target))
    return found


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (SRC.parent / relative).is_dir() or (SRC.parent / relative.with_suffix(".py")).is_file()


SOURCES = sorted(SRC.rglob("*.py"))


def test_the_rooms_exist() -> None:
    present = {p.relative_to(SRC).parts[0] for p in SOURCES if len(p.relative_to(SRC).parts) > 1}
    assert present == ROOMS


def _violations(path: Path, source: str | None = None) -> list[str]:
    room = _room(_module_name(path))
    assert room is not None
    return [
        f"{path.relative_to(SRC)}:{line} imports {target} ({_room(target)})"
        for line, target in _imports(path, source)
        if _room(target) is not None and _room(target) not in ALLOWED[room]
    ]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layers(path: Path) -> None:
    wrong = _violations(path)
    room = _room(_module_name(path)) or ""
    assert not wrong, f"{room} may import only {sorted(ALLOWED[room])}: " + "; ".join(wrong)


@pytest.mark.parametrize(
    ("where", "source"),
    [
        ("_storage/ledger.py", "from .._clients.operations import operation"),
        ("_storage/ledger.py", "import stateset_voice_wrapper._reliability.transport"),
        ("_shared/errors.py", "from .._reliability import options"),
        ("_reliability/transport.py", "from .._storage.ledger import SqliteLedger"),
        ("webhooks/_twilio.py", "from .._clients.operations import operation"),
        ("cli/_main.py", "def f():\n    from .._reliability.request import LogicalRequest"),
        ("sandbox/_app.py", "if True:\n    from ..cli import main"),
        ("launch/_place.py", "from .._clients.operations import operation"),
        ("launch/_deliveries.py", "from ..cli import main"),
        ("launch/_receiver.py", "from .._storage.ledger import SqliteLedger"),
    ],
)
def test_the_layering_check_catches_upward_imports(where: str, source: str) -> None:
    """The check above is not vacuous: each of these imports is refused."""
    assert _violations(SRC / where, source)


def test_storage_does_not_import_httpx() -> None:
    for path in (SRC / "_storage").rglob("*.py"):
        assert all(not t.startswith("httpx") for _, t in _imports(path)), path


def test_no_hand_written_module_is_over_400_lines() -> None:
    long = [
        f"{p.relative_to(SRC)}: {n} lines"
        for p in SOURCES
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
        and "_sync" not in p.parts  # a twin generated from an async module
    ]
    assert not long, long


# -- the public surface ---------------------------------------------------------------------------

PUBLIC_MODULES = [
    PACKAGE,
    f"{PACKAGE}.stores",
    f"{PACKAGE}.webhooks",
    f"{PACKAGE}.launch",
    f"{PACKAGE}.cli",
    f"{PACKAGE}.sandbox",
]


def _public_names(module: ModuleType) -> set[str]:
    names = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, ModuleType)
        and getattr(value, "__module__", None) != "typing"  # Any, TYPE_CHECKING's friends
    }
    names |= set(getattr(module, "_LAZY", ()))
    names |= {"__version__"} & set(vars(module))
    return names - {"annotations", "TYPE_CHECKING"}


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_equals_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(module.__all__) == sorted(set(module.__all__)), "duplicates in __all__"
    assert set(module.__all__) == _public_names(module)
    for exported in module.__all__:
        getattr(module, exported)


def test_deprecated_names_still_work_and_warn() -> None:
    import stateset_voice_wrapper as package

    for old, new in (
        ("CallOptions", "RequestOverrides"),
        ("CallRecord", "ResponseInfo"),
        ("call_options", "request_options"),
    ):
        with pytest.warns(DeprecationWarning, match=f"{old} is deprecated; use {new}"):
            value = getattr(package, old)
        assert value is getattr(package, new)
        assert old not in package.__all__


def test_error_classes_name_their_public_module() -> None:
    import stateset_voice_wrapper as package
    from stateset_voice_wrapper import webhooks

    for name in package.__all__:
        value = getattr(package, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert value.__module__ == PACKAGE, name
    assert webhooks.InvalidSignatureError.__module__ == f"{PACKAGE}.webhooks"
