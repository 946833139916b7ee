"""What a newcomer's first hour with `stateset-voice` ran into, each against a real sandbox.

Failed listings printed an empty result first; messages used Python names; two common
base-URL mistakes had no hint; ``sweep --check`` without a tenant lost the tenant names;
Ctrl-C left the progress line and printed "interrupted" twice; a malformed ``--url`` was a
traceback.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stateset_voice_wrapper._clients._sync import calls as sync_calls
from stateset_voice_wrapper._clients._sync import runtime as sync_runtime
from stateset_voice_wrapper.cli import ExitCode, main
from stateset_voice_wrapper.sandbox import FaultRule, Sandbox

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

TO, FROM = "+15555550101", "+15555551234"
CREATE = ["calls", "create", "--to", TO, "--from", FROM, "--agent-key", "front_desk"]


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr is for a person at a shell."""

    def isatty(self) -> bool:
        return True


def run(*argv: str, stderr: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("STATESET_VOICE_API_KEY", sandbox.runtime_key)
    monkeypatch.setenv("STATESET_VOICE_ADMIN_API_KEY", sandbox.admin_key)
    for name in ("STATESET_VOICE_CONTRACTS_URL", "STATESET_ADMIN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return sandbox


def make_calls(n: int) -> None:
    for i in range(n):
        code, _, err = run(*CREATE, "--idempotency-key", f"fh-{i}", "-o", "json")
        assert code == 0, err


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- nothing on stdout when the first page fails ----------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "jsonl", "table"])
def test_a_refused_key_writes_nothing_on_stdout(
    env: Sandbox, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setenv("STATESET_VOICE_API_KEY", "sk_test_wrong_key_value_123")
    code, out, err = run("call-logs", "list", "-o", fmt)
    assert code == ExitCode.AUTHENTICATION
    assert out == ""  # not `[]`: `| jq length` must not say 0
    assert "status=401" in err or '"status": 401' in err


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_connection_refused_and_404_write_nothing_on_stdout(
    env: Sandbox, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    code, out, _ = run("call-logs", "list", "--base-url", f"http://127.0.0.1:{closed_port()}",
                       "--max-retries", "0", "-o", fmt)  # fmt: skip
    assert (code, out) == (ExitCode.CONNECTION, "")
    code, out, _ = run("call-logs", "list", "--base-url", env.base_url + "/elsewhere", "-o", fmt)
    assert (code, out) == (ExitCode.NOT_FOUND, "")
    # A base URL ending in /api/v1 is refused before anything is sent (see the hint tests).
    code, out, _ = run("call-logs", "list", "--base-url", env.base_url + "/api/v1", "-o", fmt)
    assert (code, out) == (ExitCode.CONFIGURATION, "")


def test_an_empty_first_page_is_still_an_empty_result(env: Sandbox) -> None:
    code, out, _ = run("call-logs", "list", "-o", "json")
    assert (code, json.loads(out)) == (0, [])


@pytest.fixture
def second_page_fails(env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first page is served; before the second, the sandbox starts answering 500."""
    original = sync_runtime.CallLogs.list_page
    calls = {"n": 0}

    def list_page(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            env.set_faults(FaultRule(kind="500", path="/api/v1/call-logs"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sync_runtime.CallLogs, "list_page", list_page)


def test_a_later_page_failure_closes_the_output_validly_and_fails(
    env: Sandbox, second_page_fails: None
) -> None:
    make_calls(3)
    code, out, err = run("call-logs", "list", "--all", "--page-size", "2", "--max-retries", "0",
                         "-o", "json")  # fmt: skip
    assert code == ExitCode.SERVER_ERROR
    assert len(json.loads(out)) == 2  # valid JSON holding what arrived
    assert "the listing is incomplete: 2 call logs were written before it failed" in err


def test_a_later_page_failure_in_a_table_prints_the_rows_it_has(
    env: Sandbox, second_page_fails: None
) -> None:
    make_calls(3)
    code, out, err = run("call-logs", "list", "--all", "--page-size", "2", "--max-retries", "0",
                         "-o", "table")  # fmt: skip
    assert code == ExitCode.SERVER_ERROR
    assert len(out.splitlines()) == 3  # header and two rows
    assert "incomplete" in err


# -- CLI words, not Python names --------------------------------------------------------------


def test_messages_and_help_use_option_names(
    env: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run("calls", "create", "--to", TO, "--from", "5551234", "--agent-key", "a",
                       "-o", "table")  # fmt: skip
    assert code == ExitCode.INVALID_INPUT
    assert "--from must" in err
    assert "from_" not in err
    assert main(["calls", "create", "--help"]) == 0
    assert "FROM_" not in capsys.readouterr().out


def test_a_missing_key_says_what_to_set_in_cli_words(
    env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STATESET_VOICE_API_KEY")
    code, _, err = run("call-logs", "list", "-o", "table")
    assert code == ExitCode.CONFIGURATION
    assert "set the STATESET_VOICE_API_KEY environment variable" in err
    assert "pass it to the client" not in err
    monkeypatch.delenv("STATESET_VOICE_ADMIN_API_KEY")
    code, _, err = run("admin", "runtime-config", "get", env.tenant_id, "-o", "json")
    assert code == ExitCode.CONFIGURATION
    document = json.loads(err.splitlines()[-1])["error"]
    assert "STATESET_VOICE_ADMIN_API_KEY" in document["message"]
    assert "client" not in document["message"]


# -- base URL hints ---------------------------------------------------------------------------


def test_a_base_url_without_a_scheme_gets_a_hint(
    env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", "voice.stateset.app")
    code, out, err = run("call-logs", "list", "-o", "table")
    assert (code, out) == (ExitCode.CONFIGURATION, "")
    assert (
        "hint: the base URL needs its scheme: STATESET_VOICE_BASE_URL=https://voice.stateset.app"
        in err
    )
    code, _, err = run("call-logs", "list", "--base-url", "voice.stateset.app", "-o", "json")
    document = json.loads(err.splitlines()[-1])["error"]
    assert any("--base-url https://voice.stateset.app" in h for h in document["hints"])


def test_a_base_url_ending_in_api_v1_gets_a_hint(
    env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", env.base_url + "/api/v1/")
    code, _, err = run("call-logs", "get", "call_X", "-o", "table")
    # The library refuses such a base URL before sending, and says why.
    assert code == ExitCode.CONFIGURATION
    assert "contains /api/v1" in err
    assert "/api/v1/api/v1/" in err
    # A genuine 404 gets no such hint.
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", env.base_url)
    code, _, err = run("call-logs", "get", "call_X", "-o", "table")
    assert code == ExitCode.NOT_FOUND
    assert "host only" not in err


# -- sweep --check names the tenants ----------------------------------------------------------


def test_sweep_check_without_a_tenant_names_each_tenants_failed_gates(env: Sandbox) -> None:
    code, _, err = run("admin", "rollout", "sweep", "--check", "-o", "json")
    assert code == ExitCode.GATE_BLOCKED
    (line,) = [n for n in err.splitlines() if n.startswith("--check:")]
    assert line.endswith(
        "failed gates: ten_sandbox: synthetic_calls, approval; ten_acme: synthetic_calls, approval"
    )
    assert "ten_dormant" not in line  # suspended tenants are not part of a sweep
    path = "/api/v1/admin/rollout-governance/sweep"
    sweeps = [r for r in env.requests() if r.get("path") == path]
    assert len(sweeps) == 3  # the sweep, then a dry run for each active tenant


# -- Ctrl-C -------------------------------------------------------------------------------------


def test_ctrl_c_during_a_listing_wipes_the_progress_line_first(
    env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_calls(3)
    original = sync_runtime.CallLogs.list_page
    calls = {"n": 0}

    def list_page(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sync_runtime.CallLogs, "list_page", list_page)
    terminal = Terminal()
    code, out, err = run("call-logs", "list", "--all", "--page-size", "2", "-o", "table",
                         stderr=terminal)  # fmt: skip
    assert code == ExitCode.INTERRUPTED
    progress = "\rcall logs: 2/3"
    assert err.startswith(progress)
    wiped = err[len(progress) :]
    assert wiped.startswith("\r" + " " * (len(progress) - 1) + "\r")  # cleared, not left there
    assert len(out.splitlines()) == 3  # the partial table, on its own lines
    assert err.count("interrupted") == 1


def test_ctrl_c_during_a_create_says_interrupted_once_with_the_key(
    env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(sync_calls.Calls, "create", interrupted)
    code, out, err = run(*CREATE, "--idempotency-key", "ctrl-c-1", "-o", "table")
    assert code == ExitCode.INTERRUPTED
    assert out == ""
    assert err.count("interrupted") == 1
    assert "re-run with --idempotency-key ctrl-c-1" in err


# -- webhooks verify --------------------------------------------------------------------------


def test_webhooks_verify_refuses_a_malformed_url_cleanly(
    env: Sandbox, make_payload: Callable[[], str]
) -> None:
    code, out, err = run("webhooks", "verify", "--provider", "twilio", "--url", "http://[::1",
                         "--payload", make_payload(), "--signature", "x", "--auth-token", "t",
                         "-o", "table")  # fmt: skip
    assert (code, out) == (ExitCode.INVALID_INPUT, "")
    assert "--url is not a valid URL" in err
    assert "unexpected" not in err


@pytest.fixture
def make_payload(tmp_path: Path) -> Callable[[], str]:
    def make() -> str:
        path = tmp_path / "form.txt"
        path.write_text("CallSid=CA1&From=%2B15555551234")
        return str(path)

    return make
