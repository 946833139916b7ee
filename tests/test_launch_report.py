"""The launch check's verdicts as data: the gates' rules on hand-made inputs, and the HTML
report (well-formed, self-contained, escaping what it shows)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from stateset_voice_wrapper.launch import (
    Delivery,
    GateResult,
    LaunchReport,
    SweepComparison,
    SyntheticCall,
    render_html,
)
from stateset_voice_wrapper.launch._deliveries import tally_deliveries
from stateset_voice_wrapper.launch._gates import Threshold, signature_gate, sweep_comparison

if TYPE_CHECKING:
    from tests.launch_events import NOW, SECRET, event, signed
else:
    from launch_events import NOW, SECRET, event, signed


# -- gates as data ----------------------------------------------------------------------------


def test_a_server_warning_does_not_block_and_an_absent_gate_is_not_compared() -> None:
    gates = [
        GateResult(
            gate=name,
            verdict="passed",
            measured=1,
            threshold=1,
            comparison=">=",
            threshold_source="policy",
            detail="",
        )
        for name in ("synthetic_calls", "signature_verification", "duplicate_outbound_calls")
    ]
    sweep = {
        "gates": [
            {"gate": "synthetic_calls", "status": "warning", "observed": 1, "threshold": 1},
            {"gate": "signature_verification_rate", "status": "failed"},
        ]
    }
    rows = {r.gate: r for r in sweep_comparison(gates, sweep)}
    assert rows["synthetic_calls"].agrees is True
    assert rows["signature_verification"].agrees is False
    assert rows["duplicate_outbound_calls"].agrees is None


def test_the_signature_gate_is_the_verified_share_and_needs_a_delivery() -> None:
    deliveries = [signed(event(1)), Delivery(body=json.dumps(event(2)).encode(), received_at=NOW)]
    tally = tally_deliveries(deliveries, secrets=[SECRET], call_ids=["call_1"], now=lambda: NOW)
    gate = signature_gate(tally, Threshold(0.95, "policy"), placed=True)
    assert gate.failed
    assert (gate.measured, gate.threshold, gate.threshold_source) == (0.5, 0.95, "policy")
    assert gate.detail == "1 of 2 deliveries verified (missing_signature 1)"
    empty = tally_deliveries([], secrets=[SECRET], call_ids=["call_1"], now=lambda: NOW)
    assert signature_gate(empty, Threshold(0.95, "policy"), placed=True).verdict == "failed"
    assert signature_gate(empty, Threshold(0.95, "policy"), placed=False).verdict == "skipped"


# -- the HTML report --------------------------------------------------------------------------


def _report(*, tags: tuple[str, ...]) -> LaunchReport:
    call = SyntheticCall(
        key="launch-r-1",
        n=1,
        intent=None,
        to="+***01",
        source="placed",
        call_id="call_1",
        call_ids=("call_1",),
        status="completed",
        outcome="resolved",
        tags=tags,
        create_latency_ms=12.5,
        time_to_final_seconds=0.6,
        webhook_events=("call.completed",),
    )
    gate = GateResult(
        gate="synthetic_calls",
        verdict="failed",
        measured=1,
        threshold=20,
        comparison=">=",
        threshold_source="policy",
        detail="1 of 1 synthetic calls completed",
    )
    return LaunchReport(
        run_id="r",
        tenant_id="ten_1",
        agent_key="front_desk",
        started_at="2026-12-01T10:00:00Z",
        finished_at="2026-12-01T10:01:00Z",
        calls_requested=1,
        gates=(gate,),
        calls=(call,),
        deliveries={"source": "file d.jsonl", "considered": 1, "verified": 1},
        evaluations={"evaluated": 0, "passed": 0, "pass_rate": None, "qa_states": {}},
        outcomes={"resolved": 1},
        latency={"create_ms": {"p50": 12.5, "p95": 12.5}, "time_to_final_seconds": None},
        intents=(),
        policy={"stage": "shadow", "traffic_percent": 0},
        sweep={"sweep_id": "sw_1", "decision": "hold", "gates": []},
        comparison=(
            SweepComparison(
                gate="synthetic_calls",
                server_gate="synthetic_calls",
                client="failed",
                server="failed",
            ),
        ),
    )


def test_the_html_report_is_well_formed_self_contained_and_escapes_what_it_shows() -> None:
    hostile = ("<script>alert(1)</script>", "ok\u202eevil", 'x" onmouseover="y')
    page = render_html(_report(tags=hostile))
    # Well-formed XML after the doctype line (a page this test just generated: no XML attack).
    root = ET.fromstring(page.split("\n", 1)[1])  # noqa: S314
    assert root.tag == "html"
    assert page.startswith("<!DOCTYPE html>")
    assert len(root.findall(".//svg")) == 3  # outcomes, make-call latency, time to final
    lowered = page.lower()
    for external in ("<script", "<link", "<img", "<iframe", " src=", " href=", "url(", "@import"):
        assert external not in lowered, external
    assert "http://" not in page
    assert "https://" not in page
    assert "&lt;script&gt;" in page
    assert "\u202e" not in page
    assert "\\u202e" in page
    assert "x&quot; onmouseover=&quot;y" in page
    assert "FAILED" in page
    assert "synthetic_calls" in page
