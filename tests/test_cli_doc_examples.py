"""Every `stateset-voice ...` command line in README.md and docs/*.md runs against a sandbox.

The extractor reads the fenced code blocks of both files, joins ``\\`` continuations and takes
every line that starts with ``stateset-voice `` (other lines, such as ``export``, and output
such as ``stateset-voice: error: ...`` are not commands). Each runs in-process through
``main`` against a fresh sandbox prepared so the examples have something to show, and must
exit 0.

HTML comments right before a block adjust what is expected of its commands, with a reason
that the test requires:

    <!-- cli-examples: skip "stateset-voice sandbox": it serves until Ctrl-C -->
    <!-- cli-examples: expect 15 for "stateset-voice admin rollout sweep": the gate blocks -->

Placeholders: ``vs_...``, ``call_...`` and ``ev_...`` become IDs of the sandbox; ``$TENANT``
is its tenant; ``> FILE`` redirects stdout (the file must then hold JSON).
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from stateset_voice_wrapper import AdminClient, VoiceClient
from stateset_voice_wrapper.cli import main
from stateset_voice_wrapper.sandbox import Sandbox

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")))
_FENCE = re.compile(r"^```")
_MARKER = re.compile(
    r'<!-- cli-examples: (?:skip|expect (?P<code>\d+) for) "(?P<prefix>[^"]+)": (?P<reason>.+?) -->'
)


@dataclass(frozen=True)
class Example:
    where: str
    command: str
    skip: str | None = None
    """Why it is not run, if it is not."""
    expected: int = 0


def extract(document: str) -> list[Example]:
    lines = (REPO / document).read_text(encoding="utf-8").splitlines()
    examples: list[Example] = []
    markers: list[re.Match[str]] = []
    in_block = False
    block: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if _FENCE.match(line):
            if in_block:
                examples.extend(_commands(document, block, markers))
                markers, block = [], []
            in_block = not in_block
            continue
        if in_block:
            block.append((number, line))
        elif "cli-examples:" in line:
            found = _MARKER.search(line)
            assert found, f"{document}:{number}: malformed cli-examples marker (needs a reason)"
            markers.append(found)
    return examples


def _commands(
    document: str, block: list[tuple[int, str]], markers: list[re.Match[str]]
) -> list[Example]:
    joined: list[tuple[int, str]] = []
    for number, line in block:
        if joined and joined[-1][1].endswith("\\"):
            joined[-1] = (joined[-1][0], joined[-1][1][:-1] + " " + line.strip())
        else:
            joined.append((number, line.strip().removeprefix("$ ")))
    found = []
    for number, command in joined:
        if not command.startswith("stateset-voice "):
            continue
        example = Example(f"{document}:{number}", command)
        for marker in markers:
            if command.startswith(marker["prefix"]):
                if marker["code"] is None:
                    example = Example(example.where, command, skip=marker["reason"])
                else:
                    example = Example(example.where, command, expected=int(marker["code"]))
        found.append(example)
    return found


EXAMPLES = [example for document in DOCUMENTS for example in extract(document)]


def test_the_extractor_finds_the_examples() -> None:
    commands = [e.command for e in EXAMPLES]
    assert len(commands) >= 8
    assert any(c.startswith("stateset-voice calls create") for c in commands)
    assert any(c.startswith("stateset-voice contracts check") for c in commands)
    assert all(e.skip for e in EXAMPLES if e.command.startswith("stateset-voice sandbox"))


@pytest.fixture
def prepared(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A sandbox with calls, sessions and evaluations, and its tenant ready to promote."""
    for name in list(os.environ):
        if name.startswith(("STATESET_VOICE_", "STATESET_ADMIN", "STATESET_WEBHOOK")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("STATESET_VOICE_API_KEY", sandbox.runtime_key)
    monkeypatch.setenv("STATESET_VOICE_ADMIN_API_KEY", sandbox.admin_key)
    monkeypatch.setenv("TENANT", sandbox.tenant_id)
    with VoiceClient() as voice:
        for i in range(20):  # the launch gate's synthetic calls
            voice.calls.create(to="+15555550101", from_="+15555551234",
                               agent_key="front_desk", idempotency_key=f"doc-{i}")  # fmt: skip
        sandbox.advance(settle=True)
        session = next(iter(voice.sessions.list()))
        evaluation = next(iter(voice.evaluations.list()))
    with AdminClient() as admin:
        version = admin.agent_versions.stage(
            agent_key="front_desk", model="m", voice="v", system_prompt_key="p",
            tenant_id=sandbox.tenant_id,
        )  # fmt: skip
        admin.agent_versions.approve(version.version_id, approved_by="docs-test")
    monkeypatch.chdir(REPO)  # `--out-dir api-contracts` is relative to a checkout
    return {
        "vs_...": session.session_id,
        "call_...": session.call_id,
        "ev_...": evaluation.evaluation_id,
        "__out__": str(tmp_path),
    }


def _argv(command: str, placeholders: dict[str, str]) -> tuple[list[str], str | None]:
    tokens = shlex.split(command, comments=True)[1:]
    redirect = None
    if ">" in tokens:
        at = tokens.index(">")
        redirect = str(Path(placeholders["__out__"]) / tokens[at + 1])
        tokens = tokens[:at] + tokens[at + 2 :]
    assert "|" not in tokens, "pipes are not run: add a cli-examples marker"
    argv = [os.path.expandvars(placeholders.get(token, token)) for token in tokens]
    unresolved = [t for t in argv if "..." in t or t.startswith("$")]
    assert not unresolved, f"unknown placeholders {unresolved}: add them to the test or a marker"
    return argv, redirect


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.where} {e.command[15:50]}")
def test_documented_command_runs(example: Example, prepared: dict[str, str]) -> None:
    if example.skip:
        assert len(example.skip) > 10  # a reason, not a shrug
        return
    argv, redirect = _argv(example.command, prepared)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(argv, stdout=stdout, stderr=stderr)
    assert code == example.expected, f"{example.where}: {example.command}\n{stderr.getvalue()}"
    assert "Traceback" not in stderr.getvalue()
    if redirect is not None:
        json.loads(stdout.getvalue())
