"""One output policy for text the client does not control: ``escape_untrusted`` and the CLI.

The function is property-tested with hypothesis. The CLI runs against a hostile API on
loopback whose error ``message``, ``code``, ``x-request-id`` and listed items carry ESC
sequences, ``\\r\\n``, C1 and bidi controls: no raw control reaches the terminal in text or
table mode, and ``-o json`` stays parseable with the exact original strings.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from stateset_voice_wrapper._shared.untrusted import escape_untrusted
from stateset_voice_wrapper.cli import ExitCode, main
from stateset_voice_wrapper.sandbox import Sandbox

pytest_plugins = ["stateset_voice_wrapper.sandbox.pytest_plugin"]

HOSTILE = "\x1b[2J\x1b[H\x1b]0;owned\x07ok\r\nstateset-voice: forged line\x9b31m\u202etxt.exe\u2066\u200b\x7f"
DANGEROUS_CATEGORIES = {"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"}


def dangerous(text: str, *, allow_newlines: bool = False) -> list[str]:
    return [
        char
        for char in text
        if unicodedata.category(char) in DANGEROUS_CATEGORIES
        and not (allow_newlines and char == "\n")
    ]


_ESCAPE = re.compile(r"\\(?:[tnr]|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def unescape(text: str) -> str:
    """The inverse of escape_untrusted for text that had no backslash."""
    short = {"\\t": "\t", "\\n": "\n", "\\r": "\r"}
    return _ESCAPE.sub(lambda m: short.get(m[0]) or chr(int(m[0][2:], 16)), text)


# -- the function -----------------------------------------------------------------------------


@given(st.text())
def test_output_never_holds_a_control_format_or_line_break_character(text: str) -> None:
    escaped = escape_untrusted(text)
    assert dangerous(escaped) == []
    assert escaped.splitlines() in ([escaped], [])  # one line, whatever came in


@given(st.text())
def test_nothing_is_lost_escapes_can_be_read_back(text: str) -> None:
    escaped = escape_untrusted(text)
    assert len(escaped) >= len(text)
    if "\\" not in text:
        assert unescape(escaped) == text  # so escaping is injective on such text
    # Every dangerous character left a visible escape behind.
    assert escaped.count("\\") >= len(dangerous(text)) + text.count("\\")


@given(st.text(alphabet=st.characters(categories=["L", "M", "N", "P", "S", "Zs"])))
def test_printable_text_is_kept_as_is(text: str) -> None:
    assert escape_untrusted(text) == text


@given(st.text(), st.integers(min_value=1, max_value=50))
def test_max_length_caps_without_cutting_an_escape(text: str, limit: int) -> None:
    capped = escape_untrusted(text, max_length=limit)
    full = escape_untrusted(text)
    assert len(capped) <= limit
    if len(full) <= limit:
        assert capped == full
    else:
        assert capped.endswith("…")
        assert full.startswith(capped[:-1])
        assert not re.search(r"\\(x[0-9a-f]?|u[0-9a-f]{0,3}|U[0-9a-f]{0,7})?\Z", capped[:-1])


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x1b", "\\x1b"),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("\x00", "\\x00"),
        ("\x7f", "\\x7f"),
        ("\x85", "\\x85"),
        ("\x9b", "\\x9b"),
        ("\u200e", "\\u200e"),
        ("\u200f", "\\u200f"),
        ("\u202a", "\\u202a"),
        ("\u202e", "\\u202e"),
        ("\u2066", "\\u2066"),
        ("\u2069", "\\u2069"),
        ("\u061c", "\\u061c"),
        ("\u200b", "\\u200b"),
        ("\ufeff", "\\ufeff"),
        ("\u2028", "\\u2028"),
        ("\U000e0001", "\\U000e0001"),
    ],
)
def test_each_kind_of_control_is_escaped(char: str, shown: str) -> None:
    assert escape_untrusted(f"a{char}b") == f"a{shown}b"


def test_unicode_text_is_kept() -> None:
    assert escape_untrusted("naïve 東京 עברית 🙂 ^\\+[1-9]") == "naïve 東京 עברית 🙂 ^\\+[1-9]"
    with pytest.raises(ValueError, match="max_length"):
        escape_untrusted("x", max_length=0)


# -- the CLI against a hostile API ------------------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def hostile_error(server: HTTPServer, path: str, status: int) -> None:
    body = {"code": f"bad{HOSTILE}", "message": f"Nope {HOSTILE}", "request_id": "req_1"}
    server.expect_request(path).respond_with_data(
        json.dumps(body),
        status=status,
        content_type="application/json",
        headers={"x-request-id": "req_\x1b[31mred\x9b\x85"},
    )


@pytest.fixture
def hostile_env(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("STATESET_VOICE_API_KEY", "sk_test_hostile")
    return httpserver


@pytest.mark.parametrize("status", [400, 404, 500])
def test_error_lines_escape_message_code_and_request_id(
    hostile_env: HTTPServer, status: int
) -> None:
    hostile_error(hostile_env, "/api/v1/call-logs/call_1", status)
    code, out, err = run("call-logs", "get", "call_1", "--max-retries", "0", "-o", "table")
    assert code not in (0, ExitCode.ERROR)
    assert out == ""
    assert dangerous(err, allow_newlines=True) == []
    assert "\\x1b[2J" in err  # shown, harmlessly
    assert not any(line.startswith("stateset-voice: forged") for line in err.splitlines())
    assert "req_\\x1b[31mred\\x9b\\x85" in err


@pytest.mark.parametrize("status", [400, 404, 500])
def test_json_errors_keep_the_exact_strings_in_ascii(hostile_env: HTTPServer, status: int) -> None:
    hostile_error(hostile_env, "/api/v1/call-logs/call_1", status)
    code, out, err = run("call-logs", "get", "call_1", "--max-retries", "0", "-o", "json")
    assert code != 0
    assert out == ""
    assert err.isascii()
    document = json.loads(err.strip().splitlines()[-1])["error"]
    assert document["code"] == f"bad{HOSTILE}"
    assert HOSTILE in document["message"]
    assert document["request_id"] == "req_\x1b[31mred\x9b\x85"


@pytest.fixture
def hostile_listing(sandbox: Sandbox, hostile_env: HTTPServer) -> list[dict[str, Any]]:
    """A real page of call logs from the sandbox, with hostile text in its string fields."""
    with httpx.Client(base_url=sandbox.base_url) as client:
        headers = {"Authorization": f"Bearer {sandbox.runtime_key}"}
        for key in ("h-1", "h-2"):
            body = {"to": "+15555550101", "from": "+15555551234", "agent_key": "front_desk"}
            created = client.post(
                "/api/v1/make-call", json=body, headers={**headers, "Idempotency-Key": key}
            )
            assert created.status_code == 201, created.text
        page = client.get("/api/v1/call-logs", headers=headers).json()
    for item in page["items"]:
        item["agent_key"] = f"agent{HOSTILE}"
        item["status"] = f"done\r\n{item['call_id']}  forged  row"
    hostile_env.expect_request("/api/v1/call-logs").respond_with_json(page)
    items: list[dict[str, Any]] = page["items"]
    return items


def test_table_cells_cannot_clear_the_screen_or_forge_rows(
    hostile_listing: list[dict[str, Any]],
) -> None:
    code, out, err = run("call-logs", "list", "-o", "table")
    assert code == 0, err
    assert dangerous(out, allow_newlines=True) == []
    assert dangerous(err, allow_newlines=True) == []
    lines = out.splitlines()
    assert len(lines) == 1 + len(hostile_listing)  # the header and one line per item
    assert "agent\\x1b[2J" in out


def test_json_output_is_parseable_ascii_with_the_exact_strings(
    hostile_listing: list[dict[str, Any]],
) -> None:
    for fmt in ("json", "jsonl"):
        code, out, err = run("call-logs", "list", "-o", fmt)
        assert code == 0, err
        assert out.isascii()
        got = json.loads(out) if fmt == "json" else [json.loads(line) for line in out.splitlines()]
        assert [item["agent_key"] for item in got] == [i["agent_key"] for i in hostile_listing]
        assert [item["status"] for item in got] == [i["status"] for i in hostile_listing]


def test_one_item_table_escapes_field_names_and_values(
    hostile_env: HTTPServer, sandbox: Sandbox
) -> None:
    with httpx.Client(base_url=sandbox.base_url) as client:
        headers = {"Authorization": f"Bearer {sandbox.runtime_key}", "Idempotency-Key": "h-3"}
        body = {"to": "+15555550101", "from": "+15555551234", "agent_key": "front_desk"}
        call = client.post("/api/v1/make-call", json=body, headers=headers).json()
        log = client.get(f"/api/v1/call-logs/{call['call_id']}", headers=headers).json()
    log[f"new_field{HOSTILE}"] = HOSTILE  # a field the contract does not know yet is kept
    hostile_env.expect_request(f"/api/v1/call-logs/{call['call_id']}").respond_with_json(log)
    code, out, err = run("call-logs", "get", call["call_id"], "-o", "table")
    assert code == 0, err
    assert dangerous(out, allow_newlines=True) == []
    assert "new_field\\x1b[2J" in out
