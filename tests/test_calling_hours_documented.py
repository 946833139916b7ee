"""docs/calling-hours.md, run as written: every ``python`` block in order, in one namespace.

The page's client talks to a loopback server (``STATESET_VOICE_BASE_URL``); the only request a
block sends is the documented override, which does not depend on the time. The scheduler
function the page defines is then called with a client whose wall clock the test sets.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from stateset_voice_wrapper import ReliabilityConfig, VoiceClient

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "calling-hours.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text("utf-8"), re.DOTALL)


def _call_body() -> dict[str, Any]:
    contract = json.loads((REPO / "api-contracts" / "stateset-voice-public.json").read_text())
    op = contract["paths"]["/api/v1/make-call"]["post"]
    body: dict[str, Any] = op["responses"]["201"]["content"]["application/json"]["examples"][
        "default"
    ]["value"]
    return body


class Job:
    def __init__(self, to: str, key: str) -> None:
        self.to, self.key = to, key
        self.retry: list[dt.datetime | None] = []

    def retry_at(self, when: dt.datetime | None) -> None:
        self.retry.append(when)


def test_the_page_runs_as_written(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/api/v1/make-call", method="POST").respond_with_json(
        _call_body(), status=201
    )
    base_url = httpserver.url_for("").rstrip("/")
    monkeypatch.setenv("STATESET_VOICE_API_KEY", "sk_test_documented")
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", base_url)
    blocks = _blocks()
    assert len(blocks) == 4
    namespace: dict[str, Any] = {"__name__": "documented_calling_hours"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102  # the page's own code
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "2026-03-03 13:00:00+00:00",
        "('America/New_York',) us_states FL OK WA +***01",
    ]
    (override,) = httpserver.log
    assert json.loads(override[0].data)["to"] == "+18005550199"

    # The scheduler: 07:30 in New York is outside the Manhattan rule (10:00); 10:00 is inside.
    def client_at(now: dt.datetime) -> VoiceClient:
        return VoiceClient(
            calling_window=namespace["window"],
            reliability=ReliabilityConfig(wall_clock=now.timestamp),
        )

    job = Job("+12125550101", "reminder-1")
    namespace["voice"] = client_at(dt.datetime(2026, 3, 2, 12, 30, tzinfo=dt.UTC))
    assert namespace["place"](job) is None
    assert job.retry == [dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)]
    assert len(httpserver.log) == 1  # nothing sent
    namespace["voice"] = client_at(dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC))
    assert namespace["place"](job).call_id == _call_body()["call_id"]
    assert len(httpserver.log) == 2


def test_the_readme_links_the_page() -> None:
    assert "[calling hours](docs/calling-hours.md)" in (REPO / "README.md").read_text()
