"""Typing-only checks of the public API: mypy --strict runs this file in ``make check``.

Nothing here runs (pytest collects ``test_*.py`` only). Each ``assert_type`` pins what a user's
type checker sees; each ``# type: ignore[...]`` pins an error mypy must keep reporting (strict
mode's ``warn_unused_ignores`` fails the build the day one stops being an error).
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Iterator
from typing import assert_type

from stateset_voice_admin.models import RolloutPolicy
from stateset_voice_public.models import Call, CallLog, VoiceSession

from stateset_voice_wrapper import (
    CLEAR,
    APIStatusError,
    AsyncVoiceClient,
    CallingRule,
    CallingWindow,
    IdempotencyConflictError,
    OutsideCallingHoursError,
    Page,
    RateLimitError,
    RawResponse,
    RequestOptions,
    VoiceClient,
    raw_response,
    request_options,
)
from stateset_voice_wrapper import AdminClient as Admin


def sync_client(voice: VoiceClient, admin: Admin) -> None:
    call = voice.calls.create(to="+15555550101", from_="+15555551234", agent_key="front_desk")
    assert_type(call, Call)
    assert_type(voice.call_logs.get("call_1", deadline=5.0), CallLog)
    page = voice.call_logs.list_page(created_after=datetime.datetime.now(datetime.UTC))
    assert_type(page, Page[CallLog])
    assert_type(page.next_offset, int | None)
    assert_type(voice.sessions.list(tag="vip"), Iterator[VoiceSession])
    assert_type(voice.with_options(max_retries=0), VoiceClient)
    assert_type(raw_response(voice.call_logs.get)("call_1"), RawResponse[CallLog])
    assert_type(
        admin.rollout_governance.update_policy("ten_1", stage="canary", traffic_percent=5),
        RolloutPolicy,
    )
    admin.phone_routes.update("pr_1", fallback_number=CLEAR)
    voice.call_logs.get("call_1", dedline=5.0)  # type: ignore[call-arg]
    voice.call_logs.list_page(created_after=5)  # type: ignore[arg-type]
    voice.calls.create(to="+15555550101", agent_key="a")  # type: ignore[call-arg]


async def async_client(voice: AsyncVoiceClient) -> None:
    assert_type(await voice.call_logs.get("call_1"), CallLog)
    assert_type(voice.call_logs.list(), AsyncIterator[CallLog])
    assert_type(await raw_response(voice.call_logs.get)("call_1"), RawResponse[CallLog])
    assert_type(voice.with_options(deadline=1.0), AsyncVoiceClient)


def options_and_errors(exc: Exception) -> None:
    options: RequestOptions = {"timeout": 2.0, "deadline": 10.0, "extra_headers": {"X": "1"}}
    bad: RequestOptions = {"dedline": 1.0}  # type: ignore[typeddict-unknown-key]
    del options, bad
    with request_options(deadline=5.0) as overrides:
        assert_type(overrides.deadline, float | None)
    if isinstance(exc, RateLimitError):
        assert_type(exc.retry_after, float | None)
    if isinstance(exc, IdempotencyConflictError):
        assert_type(exc, IdempotencyConflictError)
        assert isinstance(exc, APIStatusError)


def calling_hours(exc: Exception) -> None:
    window = CallingWindow(rules=(CallingRule(us_states=("FL",), end="20:00"),))
    VoiceClient(calling_window=window).calls.create(
        to="+12125550101", from_="+12125551234", agent_key="a", ignore_calling_window=True
    )
    AsyncVoiceClient(calling_window=window)
    CallingWindow(unknown="sometimes")  # type: ignore[arg-type]
    CallingWindow(start=8)  # type: ignore[arg-type]
    if isinstance(exc, OutsideCallingHoursError):
        assert_type(exc.next_allowed_at, datetime.datetime | None)
        assert_type(exc.zones, tuple[str, ...])


def launch(voice: VoiceClient, admin: Admin) -> None:
    from stateset_voice_wrapper.launch import (
        DeliveryFile,
        DeliverySource,
        GateResult,
        LaunchReport,
        WebhookReceiver,
        launch_check,
        render_html,
    )

    source: DeliverySource = WebhookReceiver()  # the receiver and the files are sources
    source = DeliveryFile("deliveries.jsonl")
    report = launch_check(
        voice=voice, admin=admin, tenant_id="ten_1", run_id="r1", agent_key="a",
        from_="+15555551234", to=["+15555550101"], deliveries=source, webhook_secrets=["whsec_1"],
    )  # fmt: skip
    assert_type(report, LaunchReport)
    assert_type(report.gate("synthetic_calls"), GateResult)
    assert_type(report.failed_gates, tuple[str, ...])
    assert_type(render_html(report), str)
    launch_check(voice=voice, admin=admin, tenant_id="t", run_id="r")  # type: ignore[call-arg]
