"""One error root, and one class per condition wherever the condition is detected.

The package is walked for exception classes, so a new module's errors are checked as soon as
it exists: every public exception class derives from ``StateSetVoiceError`` (keeping stdlib
bases such as ``ValueError`` where code may catch those).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import httpx
import pytest

import stateset_voice_wrapper
from stateset_voice_wrapper import (
    ConflictError,
    DuplicateCallInFlightError,
    IdempotencyConflictError,
    StateSetVoiceError,
    VoiceClient,
)
from stateset_voice_wrapper.stores import SqliteLedger, fingerprint_request

#: Modules that import a tool the package does not depend on: schemathesis's hooks are loaded by
#: schemathesis itself (tests/test_conformance_schemathesis.py runs them).
OPTIONAL_TOOL_MODULES = {"stateset_voice_wrapper.sandbox.schemathesis_hooks"}


def _package_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(
        stateset_voice_wrapper.__path__, prefix="stateset_voice_wrapper."
    ):
        if info.name.endswith("__main__") or info.name in OPTIONAL_TOOL_MODULES:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__.startswith("stateset_voice_wrapper")
                and not name.startswith("_")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return sorted(found.values(), key=lambda cls: cls.__qualname__)


EXCEPTIONS = _package_exceptions()


def test_the_walk_finds_the_tree() -> None:
    names = {cls.__name__ for cls in EXCEPTIONS}
    assert {"StateSetVoiceError", "InvalidSignatureError", "StoreError", "RateLimitError"} <= names


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda cls: cls.__qualname__)
def test_every_exception_class_derives_from_the_root(cls: type[BaseException]) -> None:
    assert issubclass(cls, StateSetVoiceError), f"{cls.__module__}.{cls.__qualname__}"


def _conflict_from_server(status_code: int, code: str) -> BaseException:
    def answer(_: httpx.Request) -> httpx.Response:
        body = {"code": code, "message": "key reused", "request_id": "req_1"}
        return httpx.Response(status_code, json=body)

    with VoiceClient(
        "sk_test", base_url="https://voice.example.com", transport=httpx.MockTransport(answer)
    ) as voice:
        try:
            voice.calls.create(
                to="+15555550101", from_="+15555551234", agent_key="a", idempotency_key="k-1"
            )
        except StateSetVoiceError as exc:
            return exc
    raise AssertionError("the 409 did not raise")


def test_one_except_catches_the_servers_and_the_ledgers_conflict(tmp_path: Path) -> None:
    from_server = _conflict_from_server(409, "idempotency_conflict")
    with SqliteLedger(tmp_path / "ledger.db") as ledger:
        ledger.begin("k-1", fingerprint=fingerprint_request({"to": "A"}))
        try:
            ledger.begin("k-1", fingerprint=fingerprint_request({"to": "B"}))
        except StateSetVoiceError as exc:
            from_ledger: BaseException = exc
    for error in (from_server, from_ledger):
        assert isinstance(error, IdempotencyConflictError)
        assert isinstance(error, ConflictError)
    assert getattr(from_server, "status_code", None) == 409
    assert getattr(from_ledger, "status_code", "unset") is None
    assert getattr(from_ledger, "idempotency_key", None) == "k-1"


def test_in_flight_is_one_class_too(tmp_path: Path) -> None:
    from_server = _conflict_from_server(409, "idempotency_in_progress")
    with SqliteLedger(tmp_path / "ledger.db") as ledger:
        fingerprint = fingerprint_request({"to": "A"})
        ledger.begin("k-2", fingerprint=fingerprint)
        with pytest.raises(DuplicateCallInFlightError) as info:
            ledger.begin("k-2", fingerprint=fingerprint)
    assert isinstance(from_server, DuplicateCallInFlightError)
    assert isinstance(info.value, ConflictError)


def test_an_unrelated_409_stays_a_plain_conflict() -> None:
    error = _conflict_from_server(409, "phone_number_taken")
    assert type(error) is ConflictError


def _documented_tree() -> dict[str, str | None]:
    """The tree drawn at the top of docs/errors.md, as ``{class name: parent name}``."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text("utf-8")
    block = text.split("```\n", 2)[1]
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    for line in block.splitlines():
        name_at = next(i for i, ch in enumerate(line) if ch.isalpha())
        name = line[name_at:].split()[0]
        depth = name_at // 4
        del stack[depth:]
        parents[name] = stack[-1] if stack else None
        stack.append(name)
    return parents


def _exported_tree() -> dict[str, str | None]:
    """Every exception class the public modules export, as ``{class name: parent name}``."""
    from stateset_voice_wrapper import stores, webhooks

    parents: dict[str, str | None] = {}
    for module in (stateset_voice_wrapper, stores, webhooks):
        for name in module.__all__:
            value = getattr(module, name)
            if not (isinstance(value, type) and issubclass(value, StateSetVoiceError)):
                continue
            bases = [b for b in value.__bases__ if issubclass(b, StateSetVoiceError)]
            assert len(bases) <= 1, f"{name} has two StateSetVoiceError bases"
            parents[value.__name__] = bases[0].__name__ if bases else None
    return parents


def test_the_documented_tree_is_the_exported_tree() -> None:
    """docs/errors.md draws every exported error class under its real parent, and no other."""
    assert _documented_tree() == _exported_tree()
