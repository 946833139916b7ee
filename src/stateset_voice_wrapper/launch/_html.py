"""The HTML report: one self-contained file for the people who approve a launch.

Inline CSS and inline SVG charts, no script, no font, no image and no link to fetch: it opens
from a mail attachment or a CI artefact without a network. Every value from the API or from a
delivery is escaped twice over: control and bidi characters shown as escapes
(``escape_untrusted``), then HTML-escaped. The markup is also well-formed XML, which the
test-suite checks by parsing it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from .. import __version__
from .._shared.untrusted import escape_untrusted
from ._model import REPORT_SCHEMA, LaunchReport
from ._svg import OUTCOME_COLOURS, bar_chart, outcome_chart

__all__ = ["render_html"]

_CSS: Final = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:0 20px 32px}
header{padding:20px;color:#fff}
header.passed{background:#2e7d32}header.failed{background:#b71c1c}
header h1{margin:0 0 4px;font-size:22px}header p{margin:2px 0}header code{font-size:inherit}
td code{white-space:nowrap}.scroll{overflow-x:auto}
.verdict{font-size:28px;font-weight:700;letter-spacing:.04em}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:16px 0;padding:12px 16px}
h2{font-size:16px;margin:4px 0 10px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.v{display:inline-block;padding:0 6px;border-radius:3px;font-weight:600;font-size:12px}
.passed .v,.v.passed{background:#e8f5e9;color:#1b5e20}.v.failed{background:#ffebee;color:#b71c1c}
.v.skipped,.v.none{background:#eceff1;color:#455a64}.v.warning{background:#fff8e1;color:#8d6e00}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}figcaption{font-size:12px;color:#555;margin-top:2px}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
footer{color:#666;font-size:12px;padding:0 20px 20px;max-width:1100px;margin:0 auto}
"""


def _t(value: object) -> str:
    """Untrusted text made safe for HTML (None shows as an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, float):
        value = f"{value:g}"
    return html.escape(escape_untrusted(str(value)), quote=True)


def _badge(verdict: object) -> str:
    name = str(verdict) if verdict in ("passed", "failed", "skipped", "warning") else "none"
    return f'<span class="v {name}">{_t(verdict if verdict is not None else "n/a")}</span>'


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = ()
) -> str:
    """A table of already-escaped cells; columns in ``numeric`` are right-aligned."""
    right = set(numeric)
    head = "".join(f"<th>{_t(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i in right else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'  # a wide table scrolls, the page does not


def _gates(report: LaunchReport) -> str:
    server = {c.gate: c for c in report.comparison}
    rows = []
    for gate in report.gates:
        shared = server.get(gate.gate)
        rows.append(
            [
                f"<code>{_t(gate.gate)}</code>",
                _badge(gate.verdict),
                _t(gate.measured),
                _t(f"{gate.comparison} {gate.threshold}" if gate.threshold is not None else ""),
                _t(gate.threshold_source),
                _badge(shared.server) if shared is not None else "",
                _t(gate.detail),
            ]
        )
    return _table(
        ["gate", "verdict", "measured", "threshold", "from", "server", "detail"], rows, (2,)
    )


def _charts(report: LaunchReport) -> str:
    calls = [c for c in report.calls if c.n is not None]
    colour = {c.key: OUTCOME_COLOURS.get(c.outcome or "not final", "#455a64") for c in calls}
    create = report.latency.get("create_ms") or {}
    final = report.latency.get("time_to_final_seconds") or {}
    figures = [
        (outcome_chart(report.outcomes), "How the run's calls ended."),
        (
            bar_chart(
                [(c.key, c.create_latency_ms, colour[c.key]) for c in calls],
                title="make-call latency per call",
                unit="ms per make-call request",
                markers={k: create[k] for k in ("p50", "p95") if k in create},
            ),
            "make-call latency, one bar per call (calls answered from the ledger sent nothing).",
        ),
        (
            bar_chart(
                [(c.key, c.time_to_final_seconds, colour[c.key]) for c in calls],
                title="time from creation to final status",
                unit="s from creation to final status",
                markers={k: final[k] for k in ("p50", "p95") if k in final},
            ),
            "Time from the call's creation to its final status, coloured by outcome.",
        ),
    ]
    return "".join(
        f"<figure>{svg}<figcaption>{_t(caption)}</figcaption></figure>" for svg, caption in figures
    )


def _intents(report: LaunchReport) -> str:
    if not report.intents:
        return "<p>No intents were given: the intents gate was skipped.</p>"
    rows = [
        [
            f"<code>{_t(r.intent)}</code>",
            _badge("passed" if r.passed else "failed"),
            _t(r.expected_outcome),
            _t(f"{r.matched}/{r.calls}"),
            _t(", ".join(f"{k} {n}" for k, n in r.outcomes.items())),
            _t(r.evaluation_pass_rate),
            _t("; ".join(f"{f['key']}: {f['reason']}" for f in r.failures)),
        ]
        for r in report.intents
    ]
    return _table(
        ["intent", "verdict", "expected", "matched", "outcomes", "eval pass rate", "failures"],
        rows,
    )


def _sweep(report: LaunchReport) -> str:
    sweep: Mapping[str, Any] = report.sweep
    policy = report.policy
    intro = (
        f"<p>Dry-run sweep <code>{_t(sweep.get('sweep_id'))}</code> at {_t(sweep.get('evaluated_at'))}:"
        f" decision <strong>{_t(sweep.get('decision'))}</strong>. Rollout policy: stage"
        f" {_t(policy.get('stage'))}, {_t(policy.get('traffic_percent'))}% of traffic.</p>"
    )
    rows = [
        [
            f"<code>{_t(g.get('gate'))}</code>",
            _badge(g.get("status")),
            _t(g.get("observed")),
            _t(g.get("threshold")),
            _t(g.get("detail")),
        ]
        for g in sweep.get("gates") or []
        if isinstance(g, Mapping)
    ]
    agree = {True: "agrees", False: "DISAGREES", None: "not compared"}
    compared = [
        [
            f"<code>{_t(c.gate)}</code>",
            _badge(c.client),
            _badge(c.server),
            _t(agree[c.agrees]),
        ]
        for c in report.comparison
    ]
    return (
        intro
        + _table(["server gate", "status", "observed", "threshold", "detail"], rows, (2, 3))
        + "<h2>Client and server side by side</h2>"
        + _table(["gate", "client", "server", "agreement"], compared)
    )


def _deliveries(report: LaunchReport) -> str:
    d = report.deliveries
    e = report.evaluations
    rows = [
        ["source", _t(d.get("source"))],
        ["received", _t(d.get("received"))],
        ["for this run's calls (or unreadable)", _t(d.get("considered"))],
        ["for other calls (not counted)", _t(d.get("other_calls"))],
        ["signature verified", _t(f"{d.get('verified')} ({d.get('verification_rate')})")],
        ["failures", _t(", ".join(f"{k} {v}" for k, v in (d.get("failures") or {}).items()))],
        ["distinct events / repeats", _t(f"{d.get('distinct_events')} / {d.get('duplicates')}")],
        [
            "evaluations passed",
            _t(f"{e.get('passed')} of {e.get('evaluated')} ({e.get('pass_rate')})"),
        ],
        [
            "session QA states",
            _t(", ".join(f"{k} {v}" for k, v in (e.get("qa_states") or {}).items())),
        ],
    ]
    return _table(["deliveries and evaluations", ""], rows)


def _calls(report: LaunchReport) -> str:
    rows = []
    for c in report.calls:
        evaluation = c.evaluation or {}
        rows.append(
            [
                _t(c.n if c.n is not None else "-"),
                f"<code>{_t(c.key)}</code>",
                f"<code>{_t(', '.join(c.call_ids))}</code>",
                _t(c.source),
                _t(c.to),
                _t(c.intent),
                _t(c.status or (c.error or {}).get("type")),
                _t(c.outcome),
                _t(evaluation.get("score")),
                _t(", ".join(c.tags)),
                _t(len(c.webhook_events)),
                _t(None if c.create_latency_ms is None else round(c.create_latency_ms, 1)),
            ]
        )
    headers = ["#", "key", "call", "source", "to", "intent", "status", "outcome", "score", "tags",
               "event types", "make-call ms"]  # fmt: skip
    return _table(headers, rows, (0, 8, 10, 11))


def render_html(report: LaunchReport) -> str:
    """The report as one self-contained HTML document (UTF-8 text)."""
    verdict = "PASSED" if report.passed else "FAILED"
    state = "passed" if report.passed else "failed"
    failed = ", ".join(report.failed_gates) or "none"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>Launch check {_t(report.run_id)}: {verdict}</title>"
        f"<style>{_CSS}</style></head><body>"
        f'<header class="{state}"><h1>Launch check <code>{_t(report.run_id)}</code></h1>'
        f'<p class="verdict">{verdict}</p>'
        f"<p>tenant <code>{_t(report.tenant_id)}</code> · agent <code>{_t(report.agent_key)}</code>"
        f" · {report.calls_requested} synthetic calls · {_t(report.started_at)} to"
        f" {_t(report.finished_at)}</p><p>failed gates: {_t(failed)}</p></header><main>"
        f"<section><h2>Launch gates</h2>{_gates(report)}</section>"
        f'<section><h2>Outcomes and latency</h2><div class="charts">{_charts(report)}</div></section>'
        f"<section><h2>Supported intents</h2>{_intents(report)}</section>"
        f"<section><h2>Server rollout sweep</h2>{_sweep(report)}</section>"
        f"<section><h2>Webhook deliveries and evaluations</h2>{_deliveries(report)}</section>"
        f"<section><h2>Calls</h2>{_calls(report)}</section></main>"
        f"<footer>{_t(REPORT_SCHEMA)} · stateset-voice {_t(__version__)} · phone"
        " numbers are masked; the JSON report (-o json) holds the same data.</footer>"
        "</body></html>\n"
    )
