"""``stateset-voice launch-check`` in-process against a sandbox: output, files, exit codes."""

from __future__ import annotations

import io
import json
import os
import shlex
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stateset_voice_wrapper import AdminClient
from stateset_voice_wrapper.cli import ExitCode, main
from stateset_voice_wrapper.launch import GATES, REPORT_SCHEMA
from stateset_voice_wrapper.sandbox import Sandbox

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

TO, TO_FAILS, FROM = "+15555550101", "+15555550108", "+15555551234"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """The sandbox, its environment, and ``main`` with a clock that only the sandbox moves."""

    def __init__(self, sandbox: Sandbox, port: int, state: Path) -> None:
        self.sandbox, self.port, self.state, self.now = sandbox, port, state, 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sandbox.advance(steps=1)
        assert self.sandbox.flush_webhooks(timeout=10)

    def run(self, *extra: str, source: tuple[str, ...] | None = None) -> Result:
        argv = [
            "launch-check",
            "--tenant-id", self.sandbox.tenant_id, "--agent-key", "front_desk",
            "--from", FROM, "--calls", "4", "--run-id", "c1",
            "--state-dir", str(self.state), "--poll-interval", "1", "--grace", "5",
            *(source if source is not None else ("--listen", f"127.0.0.1:{self.port}/hooks")),
            *extra,
        ]  # fmt: skip
        out, err = io.StringIO(), io.StringIO()
        code = main(argv, stdout=out, stderr=err, sleep=self.sleep, clock=lambda: self.now)
        return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    port = _free_port()
    sandbox = sandbox_factory(webhook_url=f"http://127.0.0.1:{port}/hooks")
    for name in list(os.environ):
        if name.startswith(("STATESET_VOICE_", "STATESET_ADMIN", "STATESET_WEBHOOK")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("STATESET_VOICE_API_KEY", sandbox.runtime_key)
    monkeypatch.setenv("STATESET_VOICE_ADMIN_API_KEY", sandbox.admin_key)
    monkeypatch.setenv("STATESET_VOICE_WEBHOOK_SECRET", sandbox.webhook_secret)
    with AdminClient() as admin:  # the tenant's gates, as its platform team sets them
        admin.rollout_governance.update_policy(
            sandbox.tenant_id, stage="shadow", traffic_percent=0, min_synthetic_calls=4
        )
    return Cli(sandbox, port, tmp_path / "state")


def test_a_passing_check_exits_0_with_the_documented_json_and_an_html_report(
    cli: Cli, tmp_path: Path
) -> None:
    html = tmp_path / "report.html"
    result = cli.run("--to", TO, "-o", "json", "--html", str(html))

    assert result.code == 0, result.err
    document = result.json()
    assert document["schema"] == REPORT_SCHEMA
    assert document["exit_code"] == 0
    assert document["passed"] is True
    assert document["failed_gates"] == []
    assert [g["gate"] for g in document["gates"]] == list(GATES)
    assert set(document) >= {"calls", "deliveries", "evaluations", "outcomes", "latency", "sweep"}
    assert result.out.isascii()
    assert TO not in result.out
    assert "re-run with --run-id c1" in result.err
    saved = cli.state / "runs" / "c1"
    assert json.loads((saved / "report.json").read_text())["run_id"] == "c1"
    assert (saved / "deliveries.jsonl").stat().st_size > 0
    assert (cli.state / "ledger.sqlite3").exists()
    page = html.read_text(encoding="utf-8")
    ET.fromstring(page.split("\n", 1)[1])  # noqa: S314 - the page this run just wrote
    assert "PASSED" in page
    assert "<script" not in page

    # The same command again resumes: nothing is created, the verdict is the same.
    again = cli.run("--to", TO, "-o", "json")
    assert again.code == 0, again.err
    assert {c["source"] for c in again.json()["calls"]} == {"ledger"}
    assert sum(cli.sandbox.creations_per_key().values()) == 4


def test_a_failed_gate_is_the_exit_code_and_the_table_says_which(cli: Cli) -> None:
    result = cli.run("--to", TO, "--to", TO_FAILS, "-o", "table")

    assert result.code == ExitCode.LAUNCH_SYNTHETIC_CALLS
    assert int(ExitCode.LAUNCH_SYNTHETIC_CALLS) == 24
    first = result.out.splitlines()[0]
    assert (
        first
        == "launch check c1 for ten_sandbox, agent front_desk: FAILED (exit 24: synthetic_calls)"
    )
    assert "synthetic_calls           failed   2" in result.out
    assert "+***08" in result.out
    assert TO_FAILS not in result.out
    assert "2 of 4 synthetic calls completed (2 failed)" in result.out


def test_deliveries_from_a_file_and_what_the_check_cannot_use(cli: Cli, tmp_path: Path) -> None:
    first = cli.run("--to", TO, "-o", "json")
    assert first.code == 0, first.err
    captured = cli.state / "runs" / "c1" / "deliveries.jsonl"
    from_file = cli.run("--to", TO, "-o", "json", source=("--deliveries", str(captured)))
    assert from_file.code == 0, from_file.err
    assert from_file.json()["deliveries"]["source"] == f"file {captured}"

    missing = cli.run("--to", TO, source=("--deliveries", str(tmp_path / "nope.jsonl")))
    assert missing.code == ExitCode.INVALID_INPUT
    assert "cannot read the deliveries file" in missing.err

    intents = tmp_path / "intents.json"
    intents.write_text('{"intents": {"reschedule": {"expected_outcome": "rescheduled"}}}')
    bad = cli.run("--to", TO, "--intents", str(intents))
    assert bad.code == ExitCode.INVALID_INPUT
    assert "expected_outcome must be one of" in bad.err

    assert cli.run("--to", TO, source=()).code == ExitCode.USAGE  # no delivery source

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = cli.run("--to", TO, source=("--listen", f"127.0.0.1:{port}"))
    assert busy.code == ExitCode.CONFIGURATION
    assert "cannot listen on" in busy.err
    assert sum(cli.sandbox.creations_per_key().values()) == 4  # only the first run's calls


def test_without_a_webhook_secret_nothing_is_placed(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STATESET_VOICE_WEBHOOK_SECRET")
    result = cli.run("--to", TO)
    assert result.code == ExitCode.CONFIGURATION
    assert "STATESET_VOICE_WEBHOOK_SECRET" in result.err
    assert cli.sandbox.creations_per_key() == {}


def test_help_names_every_launch_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["launch-check", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for code in range(20, 27):
        assert f"{code} " in text
    assert "--run-id" in text
    assert "--listen" in text
    assert "--deliveries" in text
    assert main(["--help"]) == 0
    assert "20-26 launch-check gates" in capsys.readouterr().out


def test_the_gates_are_in_the_order_of_their_exit_codes() -> None:
    from stateset_voice_wrapper.cli._exit import LAUNCH_GATE_CODES

    assert list(LAUNCH_GATE_CODES) == list(GATES)
    codes = [int(LAUNCH_GATE_CODES[g]) for g in GATES]
    assert codes == sorted(codes) == list(range(20, 27))


def test_the_documented_sandbox_run_passes(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/launch-check.md's "Against the sandbox" command, as written, passes against the
    sandbox that page starts (its listening port moved to a free one)."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "launch-check.md").read_text("utf-8")
    block = page.split("## Against the sandbox", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    command = " ".join(block.replace("\\\n", " ").splitlines()[2:])
    argv = shlex.split(command)
    assert argv[:2] == ["stateset-voice", "launch-check"], command
    argv = [a.replace("127.0.0.1:8787", f"127.0.0.1:{cli.port}") for a in argv[1:]]
    assert argv[argv.index("--tenant-id") + 1] == cli.sandbox.tenant_id
    monkeypatch.chdir(tmp_path)  # the state directory and the report land here
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, sleep=cli.sleep, clock=lambda: cli.now)
    assert code == 0, err.getvalue()
    assert "PASSED" in (tmp_path / "launch-report.html").read_text(encoding="utf-8")
    assert sum(cli.sandbox.creations_per_key().values()) == 20
