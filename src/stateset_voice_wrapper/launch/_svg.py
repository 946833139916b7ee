"""Two small inline SVG charts for the HTML report: call outcomes, and latency per call.

Plain SVG elements with their numbers printed beside them, no script and no external
reference, so the report renders the same in any browser, offline, and prints.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Final

__all__ = ["OUTCOME_COLOURS", "bar_chart", "outcome_chart"]

#: Outcome -> colour: green for resolved, blue for a handover, warm for no conversation.
OUTCOME_COLOURS: Final = {
    "resolved": "#2e7d32",
    "escalated": "#1565c0",
    "no-answer": "#f9a825",
    "busy": "#ef6c00",
    "failed": "#c62828",
    "canceled": "#757575",
    "not final": "#6a1b9a",
    "not placed": "#4e342e",
}
_FONT: Final = 'font-family="system-ui, sans-serif" font-size="12"'


def _text(value: str) -> str:
    return html.escape(value, quote=True)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"


def outcome_chart(counts: Mapping[str, int], *, title: str = "Call outcomes") -> str:
    """Horizontal bars, one per outcome that occurred, each labelled with its count."""
    rows = [(name, counts[name]) for name in OUTCOME_COLOURS if counts.get(name)]
    rows += [(name, n) for name, n in sorted(counts.items()) if name not in OUTCOME_COLOURS and n]
    width, label, bar, gap = 460, 96, 20, 8
    height = max(len(rows), 1) * (bar + gap) + 8
    top = max((n for _, n in rows), default=1)
    room = width - label - 48
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="{_text(title)}">',
        f"<title>{_text(title)}</title>",
    ]
    if not rows:
        parts.append(f'<text x="0" y="16" {_FONT} fill="#555">no calls</text>')
    for i, (name, n) in enumerate(rows):
        y = 4 + i * (bar + gap)
        length = max(round(room * n / top), 2)
        colour = OUTCOME_COLOURS.get(name, "#455a64")
        parts.append(
            f'<text x="{label - 6}" y="{y + bar - 6}" text-anchor="end" {_FONT}>{_text(name)}</text>'
            f'<rect x="{label}" y="{y}" width="{length}" height="{bar}" rx="3" fill="{colour}"/>'
            f'<text x="{label + length + 6}" y="{y + bar - 6}" {_FONT}>{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    points: Sequence[tuple[str, float | None, str]],
    *,
    title: str,
    unit: str,
    markers: Mapping[str, float] | None = None,
) -> str:
    """Vertical bars, one per ``(label, value, colour)`` (a None value leaves a gap), with
    dashed lines at ``markers`` (``{"p50": 12.0, "p95": 40.0}``) and the scale's top value."""
    width, height, left, bottom, top_pad = 460, 170, 44, 22, 14
    values = [v for _, v, _ in points if v is not None]
    top = max([*values, *(markers or {}).values(), 0.0]) or 1.0
    plot_h = height - bottom - top_pad
    step = (width - left - 8) / max(len(points), 1)
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="{_text(title)}">',
        f"<title>{_text(title)}</title>",
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{height - bottom}" stroke="#999"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}"'
        ' stroke="#999"/>',
        f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" {_FONT}>{_number(top)}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" {_FONT}>0</text>',
        f'<text x="{left}" y="{height - 4}" {_FONT} fill="#555">{_text(unit)}</text>',
    ]
    if not values:
        parts.append(
            f'<text x="{left + 10}" y="{top_pad + plot_h / 2:.1f}" {_FONT} fill="#555">'
            "nothing measured</text>"
        )
    for i, (label, value, colour) in enumerate(points):
        if value is None:
            continue
        h = max(plot_h * value / top, 1.0)
        x = left + 2 + i * step
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{max(step - 2, 1):.1f}"'
            f' height="{h:.1f}" fill="{colour}"><title>{_text(label)}: {_number(value)}'
            f" {_text(unit)}</title></rect>"
        )
    # Markers at one value share a line and a label ("p50/p95 0.6"); a label that would
    # overlap the previous one moves to the line's other end.
    merged: dict[float, list[str]] = {}
    for name, value in (markers or {}).items():
        merged.setdefault(value, []).append(name)
    last_y: float | None = None
    for value, names in sorted(merged.items()):
        y = height - bottom - plot_h * value / top
        crowded = last_y is not None and abs(last_y - y) < 14
        x, anchor = (left + 4, "start") if crowded else (width - 6, "end")
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="#333"'
            ' stroke-dasharray="4 3"/>'
            f'<text x="{x}" y="{y - 3:.1f}" text-anchor="{anchor}" {_FONT}>'
            f"{_text('/'.join(names))} {_number(value)}</text>"
        )
        last_y = None if crowded else y
    parts.append("</svg>")
    return "".join(parts)
