"""`stateset-voice`: every command against a real sandbox on loopback, its output and exit code.

Commands run in-process through ``main(argv, stdout=, stderr=)`` (fast, and the sandbox's own
counters can be read afterwards); the console script and ``stateset-voice sandbox`` also run as
real subprocesses. Retrying faults are avoided or run with ``--max-retries 0``, so no test waits
for a backoff.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from stateset_voice_wrapper._shared.redact import mask_phone_numbers
from stateset_voice_wrapper.cli import ExitCode, main
from stateset_voice_wrapper.cli._output import mask_phone
from stateset_voice_wrapper.sandbox import FaultRule, Sandbox

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

REPO = Path(__file__).resolve().parents[1]
TO, FROM = "+15555550101", "+15555551234"
CREATE = ["calls", "create", "--to", TO, "--from", FROM, "--agent-key", "front_desk"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines()]

    def error(self) -> dict[str, Any]:
        """The JSON error document written to stderr (the last stderr line)."""
        document: dict[str, Any] = json.loads(self.err.strip().splitlines()[-1])["error"]
        return document


def run(
    *argv: str,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> Result:
    stdout, stderr = io.StringIO(), io.StringIO()
    pacing: dict[str, Any] = {}
    if sleep is not None:
        pacing["sleep"] = sleep
    if clock is not None:
        pacing["clock"] = clock
    code = main(list(argv), stdout=stdout, stderr=stderr, **pacing)
    return Result(code, stdout.getvalue(), stderr.getvalue())


class Pacer:
    """``calls create --wait``'s sleep and clock: each sleep moves a fake clock and, optionally,
    the sandbox by one step, so a call progresses without anyone waiting."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.sandbox is not None:
            self.sandbox.advance()

    def clock(self) -> float:
        return self.now


@pytest.fixture
def env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The sandbox's keys and URL in the variables the clients (and so the CLI) read."""
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("STATESET_VOICE_API_KEY", sandbox.runtime_key)
    monkeypatch.setenv("STATESET_VOICE_ADMIN_API_KEY", sandbox.admin_key)
    monkeypatch.setenv("STATESET_VOICE_CONTRACTS_URL", sandbox.base_url)
    monkeypatch.setenv("STATESET_VOICE_WEBHOOK_SECRET", sandbox.webhook_secret)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", sandbox.twilio_auth_token)
    return sandbox


def make_calls(n: int, *, prefix: str = "k") -> list[str]:
    ids = []
    for i in range(n):
        result = run(*CREATE, "--idempotency-key", f"{prefix}-{i}", "-o", "json")
        assert result.code == 0, result.err
        ids.append(result.json()["call_id"])
    return ids


# -- top level --------------------------------------------------------------------------------


def test_version_and_help_name_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip().startswith("stateset-voice 0.")
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in (
        "calls",
        "call-logs",
        "sessions",
        "evaluations",
        "admin",
        "webhooks",
        "contracts",
        "sandbox",
    ):
        assert command in text
    for variable in (
        "STATESET_VOICE_API_KEY",
        "STATESET_VOICE_ADMIN_API_KEY",
        "STATESET_VOICE_BASE_URL",
    ):
        assert variable in text


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == ExitCode.USAGE
    assert main(["calls", "create", "--to", TO]) == ExitCode.USAGE
    assert "--from" in capsys.readouterr().err
    assert main(["call-logs", "list", "--status", "sleeping"]) == ExitCode.USAGE
    assert "invalid choice: 'sleeping'" in capsys.readouterr().err
    assert run("call-logs", "get", "c1", "--bogus").code == ExitCode.USAGE


def test_exit_codes_are_distinct() -> None:
    values = [int(code) for code in ExitCode]
    assert len(values) == len(set(values))


# -- calls create -----------------------------------------------------------------------------


def test_create_then_repeat_returns_the_same_call(env: Sandbox) -> None:
    first = run(*CREATE, "--idempotency-key", "appt-1", "--metadata", '{"a": 1}', "-o", "json")
    assert first.code == 0, first.err
    call = first.json()
    assert call["call_id"].startswith("call_")
    assert (call["to"], call["from"], call["metadata"]) == (TO, FROM, {"a": 1})
    assert f"created {call['call_id']}" in first.err
    assert "request_id=req_" in first.err
    assert "idempotency_key=appt-1" in first.err

    again = run(*CREATE, "--idempotency-key", "appt-1", "--metadata", '{"a": 1}', "-o", "json")
    assert again.code == 0
    assert again.json()["call_id"] == call["call_id"]
    assert "replayed" in again.err
    assert env.creations_per_key() == {"appt-1": 1}


def test_create_without_key_uses_a_fresh_key_each_time(env: Sandbox) -> None:
    a, b = run(*CREATE, "-o", "json"), run(*CREATE, "-o", "json")
    assert a.code == b.code == 0
    assert a.json()["call_id"] != b.json()["call_id"]
    counts = env.creations_per_key()
    assert len(counts) == 2
    assert set(counts.values()) == {1}


def test_create_and_wait_follows_the_call_to_its_end(env: Sandbox) -> None:
    pacer = Pacer(env)
    result = run(*CREATE, "--idempotency-key", "wait-1", "--wait", "--poll-interval", "0.5",
                 "-o", "json", sleep=pacer.sleep, clock=pacer.clock)  # fmt: skip
    assert result.code == 0, result.err
    log = result.json()
    assert log["status"] == "completed"
    assert log["duration_seconds"] > 0
    statuses = [
        line.split(": ", 1)[1] for line in result.err.splitlines() if line.startswith("status: ")
    ]
    assert statuses == ["queued", "ringing", "in-progress", "completed"]
    assert set(pacer.sleeps) == {0.5}
    assert env.creations_per_key() == {"wait-1": 1}


def test_wait_gives_up_with_its_own_exit_code(env: Sandbox) -> None:
    pacer = Pacer()  # the sandbox clock never moves: the call stays queued
    result = run(*CREATE, "--idempotency-key", "wait-2", "--wait", "--poll-interval", "5",
                 "--wait-timeout", "20", "-o", "table", sleep=pacer.sleep, clock=pacer.clock)  # fmt: skip
    assert result.code == ExitCode.STILL_RUNNING
    assert "is still queued after 20s" in result.err
    assert "call-logs get call_" in result.err
    assert pacer.sleeps == [5.0, 5.0, 5.0, 5.0]
    bad = run(*CREATE, "--idempotency-key", "wait-3", "--wait", "--poll-interval", "0")
    assert bad.code == ExitCode.INVALID_INPUT
    assert "wait-3" not in env.creations_per_key()  # refused before anything was sent


def test_key_reused_with_other_parameters_is_a_conflict_with_ids(env: Sandbox) -> None:
    assert run(*CREATE, "--idempotency-key", "appt-2").code == 0
    other = ["calls", "create", "--to", "+15555550102", "--from", FROM, "--agent-key", "front_desk"]
    result = run(*other, "--idempotency-key", "appt-2", "-o", "json")
    assert result.code == ExitCode.CONFLICT
    error = result.error()
    assert (error["type"], error["status"], error["code"]) == (
        "IdempotencyConflictError",
        409,
        "idempotency_conflict",
    )
    assert error["request_id"].startswith("req_")
    assert error["idempotency_key"] == "appt-2"
    assert error["exit_code"] == 7
    assert env.creations_per_key() == {"appt-2": 1}


def test_invalid_number_is_rejected_before_sending_without_echoing_it(env: Sandbox) -> None:
    result = run("calls", "create", "--to", "917-555-0142", "--from", FROM, "--agent-key", "a",
                 "-o", "table")  # fmt: skip
    assert result.code == ExitCode.INVALID_INPUT
    assert "--to must match the pattern" in result.err
    assert "917-555-0142" not in result.err
    assert "5550142" not in result.err
    assert result.out == ""
    assert not [r for r in env.requests() if r.get("path") == "/api/v1/make-call"]


@pytest.mark.parametrize(
    ("metadata", "message"),
    [("{not json", "--metadata must be a JSON object"), ("[1, 2]", "got list")],
)
def test_bad_metadata_json(env: Sandbox, metadata: str, message: str) -> None:
    result = run(*CREATE, "--metadata", metadata, "-o", "table")
    assert result.code == ExitCode.INVALID_INPUT
    assert message in result.err
    assert env.creations_per_key() == {}


def test_table_masks_numbers_unless_asked(env: Sandbox) -> None:
    table = run(*CREATE, "--idempotency-key", "t-1", "-o", "table")
    assert table.code == 0
    assert TO not in table.out
    assert mask_phone(TO) in table.out
    assert "+***01" in table.out
    shown = run(*CREATE, "--idempotency-key", "t-1", "-o", "table", "--show-numbers")
    assert TO in shown.out
    assert FROM in shown.out


def test_mask_phone() -> None:
    # The package's one mask, the same as in its logs and errors.
    assert mask_phone("+15555550101") == "+***01" == mask_phone_numbers("+15555550101")
    assert mask_phone("+4420") == "***"


# -- credentials and configuration ------------------------------------------------------------


def test_missing_key_names_the_variable(env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATESET_VOICE_API_KEY")
    result = run("call-logs", "list", "-o", "table")
    assert result.code == ExitCode.CONFIGURATION
    assert "STATESET_VOICE_API_KEY" in result.err
    monkeypatch.delenv("STATESET_VOICE_ADMIN_API_KEY")
    admin = run("admin", "runtime-config", "get", "ten_sandbox", "-o", "json")
    assert admin.code == ExitCode.CONFIGURATION
    assert "STATESET_VOICE_ADMIN_API_KEY" in admin.error()["message"]


def test_plain_http_to_a_remote_host_is_refused(env: Sandbox) -> None:
    result = run("call-logs", "list", "--base-url", "http://voice.example.com", "-o", "table")
    assert result.code == ExitCode.CONFIGURATION
    assert "https" in result.err


def test_wrong_key_is_an_authentication_error_with_a_hint(
    env: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATESET_VOICE_API_KEY", "sk_test_wrong_key_value_123")
    result = run("call-logs", "list", "-o", "table")
    assert result.code == ExitCode.AUTHENTICATION
    assert "request_id=req_" in result.err
    assert "hint: check STATESET_VOICE_API_KEY" in result.err
    assert "sk_test_wrong_key_value_123" not in result.err


# -- call-logs --------------------------------------------------------------------------------


def test_call_logs_list_limit_pages_and_formats(env: Sandbox) -> None:
    ids = make_calls(7)
    newest_first = list(reversed(ids))

    listed = run("call-logs", "list", "--limit", "5", "--page-size", "2", "-o", "json")
    assert listed.code == 0
    assert [log["call_id"] for log in listed.json()] == newest_first[:5]
    pages = [r for r in env.requests() if r.get("path") == "/api/v1/call-logs"]
    assert [r["query"].get("limit") for r in pages] == ["2", "2", "1"]

    every = run("call-logs", "list", "--all", "--page-size", "3", "-o", "jsonl")
    assert [log["call_id"] for log in every.lines()] == newest_first

    skipped = run("call-logs", "list", "--offset", "5", "-o", "json")
    assert [log["call_id"] for log in skipped.json()] == newest_first[5:]

    empty = run("call-logs", "list", "--direction", "inbound", "-o", "json")
    assert empty.code == 0
    assert empty.json() == []

    table = run("call-logs", "list", "--limit", "3", "-o", "table")
    header, *rows = table.out.splitlines()
    assert header.split()[:3] == ["CALL", "ID", "STATUS"]
    assert [row.split()[0] for row in rows] == newest_first[:3]
    assert "3 of 7 call logs shown" in table.err


def test_call_logs_progress_on_request(env: Sandbox) -> None:
    make_calls(5)
    result = run("call-logs", "list", "--all", "--page-size", "2", "--progress", "-o", "jsonl")
    assert result.code == 0
    assert len(result.lines()) == 5
    assert result.err.splitlines() == ["call logs: 2/5", "call logs: 4/5", "call logs: 5/5"]
    quiet = run("call-logs", "list", "--all", "--page-size", "2", "-o", "jsonl")
    assert quiet.err == ""


def test_call_logs_filter_and_get(env: Sandbox) -> None:
    (call_id,) = make_calls(1)
    assert run("call-logs", "list", "--status", "completed", "-o", "json").json() == []
    env.advance(settle=True)
    done = run("call-logs", "list", "--status", "completed", "-o", "json").json()
    assert [log["call_id"] for log in done] == [call_id]

    log = run("call-logs", "get", call_id, "-o", "json")
    assert log.code == 0
    assert log.json()["call_id"] == call_id
    assert log.json()["status"] == "completed"

    table = run("call-logs", "get", call_id, "-o", "table")
    rows = [line.split(maxsplit=1) for line in table.out.splitlines()]
    assert ["call_id", call_id] in rows
    assert ["status", "completed"] in rows


def test_unknown_call_is_not_found_with_request_id(env: Sandbox) -> None:
    result = run("call-logs", "get", "call_DOESNOTEXIST", "-o", "table")
    assert result.code == ExitCode.NOT_FOUND
    assert "status=404" in result.err
    assert "request_id=req_" in result.err
    as_json = run("call-logs", "get", "call_DOESNOTEXIST", "-o", "json").error()
    assert as_json["status"] == 404
    assert as_json["request_id"].startswith("req_")


def test_limit_must_be_positive(env: Sandbox) -> None:
    result = run("call-logs", "list", "--limit", "0", "-o", "table")
    assert result.code == ExitCode.INVALID_INPUT
    assert "--limit must be 1 or more" in result.err
    too_big = run("call-logs", "list", "--page-size", "500", "-o", "table")
    assert too_big.code == ExitCode.INVALID_INPUT
    assert "--page-size must be 1 to 200, got 500" in too_big.err
    for option, value, message in (
        ("--deadline", "0", "deadline must be > 0 seconds"),
        ("--max-retries", "-1", "--max-retries must be an integer >= 0"),
    ):
        bad = run("call-logs", "list", option, value, "-o", "json")
        assert bad.code == ExitCode.INVALID_INPUT
        assert bad.error()["type"] == "InvalidParameterError"
        assert message in bad.error()["message"]


# -- sessions ---------------------------------------------------------------------------------


def test_sessions_list_and_get_with_transcript(env: Sandbox) -> None:
    (call_id,) = make_calls(1)
    env.advance(settle=True)
    sessions = run("sessions", "list", "--call-id", call_id, "-o", "json")
    assert sessions.code == 0
    (session,) = sessions.json()
    assert session["call_id"] == call_id

    full = run("sessions", "get", session["session_id"], "-o", "json").json()
    assert full["session_id"] == session["session_id"]
    assert full["transcript"]
    assert {"speaker", "text", "start_ms"} <= set(full["transcript"][0])

    table = run("sessions", "get", session["session_id"], "-o", "table").out
    assert f"TRANSCRIPT ({len(full['transcript'])})" in table
    assert full["transcript"][0]["text"] in table
    assert "TOOL CALLS" in table

    listing = run("sessions", "list", "-o", "table").out.splitlines()
    assert listing[0].split()[:2] == ["SESSION", "ID"]
    assert session["session_id"] in listing[1]

    assert run("sessions", "list", "--status", "active", "-o", "json").json() == []


def test_evaluations_list_filter_and_get(env: Sandbox) -> None:
    (call_id,) = make_calls(1)
    assert run("evaluations", "list", "-o", "json").json() == []
    env.advance(settle=True)
    listed = run("evaluations", "list", "--call-id", call_id, "-o", "json")
    assert listed.code == 0
    (evaluation,) = listed.json()
    assert evaluation["call_id"] == call_id
    same = "--passed" if evaluation["passed"] else "--no-passed"
    other = "--no-passed" if evaluation["passed"] else "--passed"
    assert [e["evaluation_id"] for e in run("evaluations", "list", same, "-o", "json").json()] == [
        evaluation["evaluation_id"]
    ]
    assert run("evaluations", "list", other, "-o", "json").json() == []

    table = run("evaluations", "get", evaluation["evaluation_id"], "-o", "table")
    assert table.code == 0
    assert f"CRITERIA ({len(evaluation['criteria'])})" in table.out
    assert evaluation["criteria"][0]["name"] in table.out
    assert run("evaluations", "get", "ev_NOPE", "-o", "json").code == ExitCode.NOT_FOUND


def test_unknown_session_is_not_found(env: Sandbox) -> None:
    assert run("sessions", "get", "vs_NOPE", "-o", "json").code == ExitCode.NOT_FOUND


# -- admin ------------------------------------------------------------------------------------


def test_runtime_config_get_and_set_merges(env: Sandbox) -> None:
    before = run("admin", "runtime-config", "get", env.tenant_id, "-o", "json")
    assert before.code == 0
    current = before.json()

    changed = run("admin", "runtime-config", "set", env.tenant_id, "--voice", "verse",
                  "--telephony", '{"recording_enabled": true}', "-o", "json")  # fmt: skip
    assert changed.code == 0, changed.err
    after = changed.json()
    assert after["voice"] == "verse"
    assert after["model"] == current["model"]
    assert after["system_prompt_key"] == current["system_prompt_key"]
    assert after["telephony"]["recording_enabled"] is True
    assert after["revision"] == current["revision"] + 1
    assert f"read revision {current['revision']}" in changed.err

    read_back = run("admin", "runtime-config", "get", env.tenant_id, "-o", "json").json()
    assert read_back["voice"] == "verse"
    assert read_back["revision"] == after["revision"]


def test_runtime_config_set_validation(env: Sandbox) -> None:
    nothing = run("admin", "runtime-config", "set", env.tenant_id, "-o", "table")
    assert nothing.code == ExitCode.INVALID_INPUT
    assert "nothing to set" in nothing.err
    partial = run("admin", "runtime-config", "set", env.tenant_id, "--voice", "v", "--replace",
                  "-o", "table")  # fmt: skip
    assert partial.code == ExitCode.INVALID_INPUT
    assert "--model" in partial.err
    assert "--system-prompt-key" in partial.err
    insecure = run("admin", "runtime-config", "set", env.tenant_id, "--webhook-url",
                   "http://hooks.example.com", "-o", "table")  # fmt: skip
    assert insecure.code == ExitCode.INVALID_INPUT
    assert "https://" in insecure.err
    missing = run("admin", "runtime-config", "get", "ten_missing", "-o", "table")
    assert missing.code == ExitCode.NOT_FOUND


def test_runtime_key_is_not_an_admin_key(env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATESET_VOICE_ADMIN_API_KEY", env.runtime_key)
    result = run("admin", "runtime-config", "get", env.tenant_id, "-o", "json")
    assert result.code == ExitCode.AUTHENTICATION
    assert result.error()["status"] in (401, 403)


def test_rollout_sweep_dry_run_and_check(env: Sandbox) -> None:
    result = run("admin", "rollout", "sweep", "--tenant-id", env.tenant_id, "-o", "json")
    assert result.code == 0
    sweep = result.json()
    assert sweep["dry_run"] is True
    assert sweep["decision"] in ("promote", "hold", "rollback")
    assert {gate["gate"] for gate in sweep["gates"]} >= {"synthetic_calls", "approval"}
    assert f"decision: {sweep['decision']} (dry run" in result.err

    checked = run("admin", "rollout", "sweep", "--tenant-id", env.tenant_id, "--check",
                  "-o", "table")  # fmt: skip
    # A fresh sandbox has no approved agent version, so the approval gate holds the rollout.
    assert checked.code == ExitCode.GATE_BLOCKED
    assert "GATES (" in checked.out
    assert "failed gates:" in checked.err
    assert "approval" in checked.err


# -- faults: errors carry the request IDs -----------------------------------------------------


def test_server_error_exit_code_and_ids(env: Sandbox) -> None:
    env.set_faults(FaultRule(kind="500", path="/api/v1/call-logs"))
    result = run("call-logs", "list", "--max-retries", "0", "-o", "table")
    assert result.code == ExitCode.SERVER_ERROR
    assert "status=500" in result.err
    assert "request_id=req_" in result.err
    assert "client_request_id=" in result.err
    error = run("call-logs", "list", "--max-retries", "0", "-o", "json").error()
    assert error["status"] == 500
    assert error["client_request_id"]
    sent = {r["client_request_id"] for r in env.requests() if r.get("client_request_id")}
    assert error["client_request_id"] in sent


def test_html_proxy_page_is_a_typed_error(env: Sandbox) -> None:
    env.set_faults(FaultRule(kind="html", path="/api/v1/call-logs/*"))
    result = run("call-logs", "get", "call_X", "--max-retries", "0", "-o", "json")
    assert result.code == ExitCode.SERVER_ERROR
    error = result.error()
    assert error["status"] == 502
    assert "<html" not in error["message"].lower()


def test_dropped_connection_is_a_connection_error(env: Sandbox) -> None:
    env.set_faults(FaultRule(kind="drop", path="/api/v1/call-logs"))
    result = run("call-logs", "list", "--max-retries", "0", "-o", "table")
    assert result.code == ExitCode.CONNECTION
    assert "client_request_id=" in result.err
    assert "hint:" in result.err


def test_unreachable_api_is_a_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATESET_VOICE_API_KEY", "sk_test_unused")
    result = run("call-logs", "list", "--base-url", "http://127.0.0.1:9", "--max-retries", "0",
                 "-o", "json")  # fmt: skip
    assert result.code == ExitCode.CONNECTION
    error = result.error()
    assert error["type"] == "APIConnectionError"
    assert error["client_request_id"]


def test_verbose_logs_attempts_to_stderr(env: Sandbox) -> None:
    env.set_faults(FaultRule(kind="503", path="/api/v1/call-logs", retry_after=0))
    quiet = run("call-logs", "list", "--max-retries", "0", "-o", "table")
    assert "WARNING" not in quiet.err
    loud = run("call-logs", "list", "--max-retries", "0", "-o", "table", "-v")
    assert loud.code == ExitCode.SERVER_ERROR
    assert "WARNING stateset_voice" in loud.err
    assert env.runtime_key not in loud.err


# -- webhooks verify --------------------------------------------------------------------------


def _capture_deliveries(httpserver: HTTPServer) -> list[tuple[dict[str, str], bytes]]:
    received: list[tuple[dict[str, str], bytes]] = []

    def handler(request: Request) -> Response:
        received.append((dict(request.headers), request.get_data()))
        return Response("", status=204)

    httpserver.expect_request("/hooks", method="POST").respond_with_handler(handler)
    return received


def test_webhooks_verify_a_real_delivery(
    sandbox_factory: Callable[..., Sandbox],
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received = _capture_deliveries(httpserver)
    box = sandbox_factory(webhook_url=httpserver.url_for("/hooks"))
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", box.base_url)
    monkeypatch.setenv("STATESET_VOICE_API_KEY", box.runtime_key)
    monkeypatch.setenv("STATESET_VOICE_WEBHOOK_SECRET", box.webhook_secret)
    assert run(*CREATE, "--idempotency-key", "wh-1").code == 0
    assert box.flush_webhooks()
    headers, body = received[0]
    payload = tmp_path / "event.json"
    payload.write_bytes(body)
    signature = headers["Stateset-Signature"]

    ok = run(
        "webhooks", "verify", "--payload", str(payload), "--signature", signature, "-o", "json"
    )
    assert ok.code == 0, ok.err
    event = ok.json()
    assert event["id"] == headers["Stateset-Event-Id"]
    assert event["type"] == "call.queued"
    assert f"valid signature: call.queued {event['id']}" in ok.err

    payload.write_bytes(body.replace(b"call.queued", b"call.failed"))
    tampered = run("webhooks", "verify", "--payload", str(payload), "--signature", signature,
                   "-o", "json")  # fmt: skip
    assert tampered.code == ExitCode.INVALID_WEBHOOK
    assert tampered.error()["type"] == "InvalidSignatureError"
    assert box.webhook_secret not in tampered.err

    payload.write_bytes(body)
    rotated = run("webhooks", "verify", "--payload", str(payload), "--signature", signature,
                  "--secret", "whsec_new_one", "--secret", box.webhook_secret, "-o", "json")  # fmt: skip
    assert rotated.code == 0

    monkeypatch.delenv("STATESET_VOICE_WEBHOOK_SECRET")
    unset = run("webhooks", "verify", "--payload", str(payload), "--signature", signature)
    assert unset.code == ExitCode.CONFIGURATION
    assert "STATESET_VOICE_WEBHOOK_SECRET" in unset.err

    missing = run("webhooks", "verify", "--payload", str(tmp_path / "nope.json"),
                  "--signature", signature, "--secret", "x")  # fmt: skip
    assert missing.code == ExitCode.INVALID_INPUT
    assert "cannot read the payload file" in missing.err


def test_webhooks_verify_twilio_inbound(
    env: Sandbox, httpserver: HTTPServer, tmp_path: Path
) -> None:
    captured: list[tuple[dict[str, str], bytes]] = []

    def handler(request: Request) -> Response:
        captured.append((dict(request.headers), request.get_data()))
        return Response("<Response/>", status=200, content_type="text/xml")

    httpserver.expect_request("/twilio/inbound", method="POST").respond_with_handler(handler)
    url = httpserver.url_for("/twilio/inbound")
    env.send_twilio_inbound(url)
    headers, body = captured[0]
    payload = tmp_path / "form.txt"
    payload.write_bytes(body)

    ok = run("webhooks", "verify", "--provider", "twilio", "--url", url, "--payload",
             str(payload), "--signature", headers["X-Twilio-Signature"], "-o", "json")  # fmt: skip
    assert ok.code == 0, ok.err
    assert ok.json()["valid"] is True
    assert ok.json()["call_sid"].startswith("CA")
    assert ok.json()["to"].startswith("+")
    table = run("webhooks", "verify", "--provider", "twilio", "--url", url, "--payload",
                str(payload), "--signature", headers["X-Twilio-Signature"], "-o", "table")  # fmt: skip
    assert ok.json()["to"] not in table.out
    assert mask_phone(ok.json()["to"]) in table.out

    wrong_url = run("webhooks", "verify", "--provider", "twilio", "--url", url + "x",
                    "--payload", str(payload), "--signature", headers["X-Twilio-Signature"],
                    "-o", "json")  # fmt: skip
    assert wrong_url.code == ExitCode.INVALID_WEBHOOK


# -- contracts --------------------------------------------------------------------------------


def test_contracts_check_against_the_sandbox_uses_the_installed_hashes(
    env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stateset_voice_facts as facts

    # No checkout needed: run from an empty directory.
    monkeypatch.chdir(tmp_path)
    in_sync = run("contracts", "check", "-o", "json")
    assert in_sync.code == 0, in_sync.err
    rows = in_sync.json()
    assert [(c["name"], c["status"]) for c in rows] == [("public", "in-sync"), ("admin", "in-sync")]
    for row in rows:
        assert row["live_sha256"] == row["pinned_sha256"] == facts.CONTRACTS[row["name"]]["sha256"]
        assert row["url"] == f"{env.base_url}/api-docs/{row['name']}.json"
    assert "match the contracts stateset-voice" in in_sync.err

    # --out-dir compares with files instead: a changed admin file differs.
    out_dir = tmp_path / "contracts"
    out_dir.mkdir()
    for name in ("stateset-voice-public.json", "stateset-voice-admin.json"):
        (out_dir / name).write_bytes((REPO / "api-contracts" / name).read_bytes())
    (out_dir / "stateset-voice-admin.json").write_text("{}\n")
    drift = run("contracts", "check", "--out-dir", str(out_dir), "-o", "table")
    assert drift.code == ExitCode.CONTRACT_DRIFT
    assert "admin   differs" in drift.out
    assert "public  in-sync" in drift.out


def test_contracts_url_precedence(env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """--base-url, then $STATESET_VOICE_CONTRACTS_URL, then $STATESET_VOICE_BASE_URL."""
    closed = "http://127.0.0.1:9"
    monkeypatch.setenv("STATESET_VOICE_CONTRACTS_URL", closed)
    assert run("contracts", "check", "-o", "json").code == ExitCode.CONTRACT_FETCH
    assert run("contracts", "check", "--base-url", env.base_url, "-o", "json").code == 0
    monkeypatch.delenv("STATESET_VOICE_CONTRACTS_URL")
    assert run("contracts", "check", "-o", "json").code == 0  # STATESET_VOICE_BASE_URL
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", closed)
    assert run("contracts", "check", "-o", "json").code == ExitCode.CONTRACT_FETCH


def test_contracts_fetch_is_deprecated_with_its_own_exit_code(env: Sandbox, tmp_path: Path) -> None:
    result = run("contracts", "fetch", "--out-dir", str(tmp_path), "-o", "table")
    assert result.code == ExitCode.DEPRECATED
    assert int(result.code) == 17
    assert "make fetch-contracts" in result.err
    assert result.out == ""
    assert not list(tmp_path.iterdir())
    assert not [r for r in env.requests() if str(r.get("path", "")).startswith("/api-docs")]


def test_contracts_unreachable_is_a_fetch_error(tmp_path: Path) -> None:
    result = run("contracts", "check", "--out-dir", str(tmp_path), "--base-url",
                 "http://127.0.0.1:9", "-o", "json")  # fmt: skip
    assert result.code == ExitCode.CONTRACT_FETCH
    error = result.error()
    assert error["type"] == "ContractFetchError"
    assert "127.0.0.1:9" in error["message"]
    assert not list(tmp_path.iterdir())


# -- the console script and `stateset-voice sandbox` as real processes ------------------------


def _console_script() -> str:
    found = shutil.which("stateset-voice", path=str(Path(sys.executable).parent))
    assert found, "the stateset-voice console script is not installed next to this Python"
    return found


def test_console_script_runs() -> None:
    done = subprocess.run([_console_script(), "--version"], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.startswith("stateset-voice ")


def test_sandbox_command_serves_until_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [_console_script(), "sandbox", "--port", "0", "--seed", "11", "--json", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert info["runtime_key"].startswith("sk_test_")
        assert info["admin_key"].startswith("ak_test_")
        environment = {
            **os.environ,
            "STATESET_VOICE_BASE_URL": info["base_url"],
            "STATESET_VOICE_API_KEY": info["runtime_key"],
        }
        created = subprocess.run(
            [_console_script(), *CREATE, "--idempotency-key", "proc-1", "-o", "json"],
            capture_output=True, text=True, env=environment, timeout=60, check=False,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        assert json.loads(created.stdout)["call_id"].startswith("call_")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0


def test_sandbox_command_rejects_a_bad_option() -> None:
    done = subprocess.run([_console_script(), "sandbox", "--port", "70000"], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "port must be 0-65535" in done.stderr
    assert "Traceback" not in done.stderr
