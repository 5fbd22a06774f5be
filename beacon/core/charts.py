"""Accessible line charts as server-rendered SVG (no JavaScript, no inline styles: the CSP forbids both).

The SVG is decoration for sighted users; every chart is followed on the page by a table of the same
figures. Even so it carries role="img", a <title> and a <desc> that lists every value, and each series
has its own colour class *and* dash pattern (beacon.css) so the lines differ without colour.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
HEIGHT = 300
MARGIN_LEFT = 56
MARGIN_RIGHT = 36
MARGIN_TOP = 16
MARGIN_BOTTOM = 40
MAX_SERIES = 6


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one per x label; None = no published value (a gap in the line)


def nice_step(span: float, target_ticks: int = 5) -> float:
    """A 1/2/2.5/5 x 10^n step giving about `target_ticks` intervals over `span`."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def axis_range(values: Sequence[float], *, include_zero: bool) -> tuple[float, float, float]:
    """(low, high, step) covering the values on round ticks."""
    low, high = min(values), max(values)
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _fmt(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def line_chart(
    *,
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    decimals: int = 1,
    include_zero: bool = False,
    format_value: Callable[[float], str] | None = None,
) -> Markup:
    """An SVG line chart. `chart_id` must be unique on the page (it names the title/desc elements).

    The y axis starts at zero only if `include_zero` (or the values cross zero, as Progress 8 does)."""
    series = list(series)[:MAX_SERIES]
    fmt = format_value or (lambda v: _fmt(v, decimals) + ("%" if unit == "%" else ""))
    n = len(x_labels)
    present = [v for s in series for v in s.values if v is not None]
    cid = escape(chart_id, quote=True)

    desc_parts = []
    for s in series:
        pts = [
            f"{x}: {fmt(v) if v is not None else 'no figure'}"
            for x, v in zip(x_labels, s.values, strict=False)
        ]
        desc_parts.append(f"{s.label}: " + "; ".join(pts) + ".")
    desc = " ".join(desc_parts) if present else "No published figures to chart."

    head = (
        f'<svg class="beacon-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{cid}-title">{escape(title)}</title><desc id="{cid}-desc">{escape(desc)}</desc>'
    )
    if not present or n == 0:
        return Markup(  # noqa: S704 - every dynamic part is a number or passed through escape()
            head
            + f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle">No published figures</text></svg>'
        )

    # Scores that go below zero (Progress 8) always show the zero line.
    low, high, step = axis_range(present, include_zero=include_zero or min(present) < 0)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def x_at(i: int) -> float:
        return MARGIN_LEFT + (plot_w / 2 if n == 1 else i * plot_w / (n - 1))

    def y_at(v: float) -> float:
        return MARGIN_TOP + (high - v) / (high - low) * plot_h

    parts = [head, '<g aria-hidden="true">']
    # Horizontal grid lines and y tick labels
    ticks = round((high - low) / step)
    tick_decimals = 0 if step >= 1 else max(0, -math.floor(math.log10(step)) + (1 if step * 10 % 1 else 0))
    for k in range(ticks + 1):
        v = low + k * step
        y = y_at(v)
        cls = "axis" if abs(v) < step / 1000 and low < 0 < high else "grid"
        parts.append(
            f'<line class="{cls}" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        label = _fmt(v, tick_decimals) + ("%" if unit == "%" else "")
        parts.append(
            f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    # Axes
    bottom = HEIGHT - MARGIN_BOTTOM
    parts.append(
        f'<line class="axis" x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT}" y1="{MARGIN_TOP}" y2="{bottom}"/>'
    )
    parts.append(
        f'<line class="axis" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{bottom}" y2="{bottom}"/>'
    )
    for i, x_label in enumerate(x_labels):
        x = x_at(i)
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 20}" text-anchor="middle">{escape(x_label)}</text>'
        )
    # Series: a path per unbroken run of values, plus a marker at every point
    for idx, s in enumerate(series):
        run: list[str] = []
        runs: list[list[str]] = []
        markers: list[str] = []
        for i, point in enumerate(s.values[:n]):
            if point is None:
                if run:
                    runs.append(run)
                run = []
                continue
            x, y = x_at(i), y_at(point)
            run.append(f"{x:.1f},{y:.1f}")
            markers.append(_marker(idx, x, y))
        if run:
            runs.append(run)
        parts.append(f'<g class="series series-{idx}">')
        for r in runs:
            if len(r) > 1:
                parts.append(f'<polyline class="line dash-{idx}" points="{" ".join(r)}"/>')
        parts.extend(markers)
        parts.append("</g>")
    parts.append("</g></svg>")
    return Markup("".join(parts))  # noqa: S704 - labels escaped above, the rest are numbers


def _marker(idx: int, x: float, y: float) -> str:
    """Circle, square, triangle, diamond... so a point identifies its series without colour."""
    shape = idx % 4
    if shape == 0:
        return f'<circle class="marker" cx="{x:.1f}" cy="{y:.1f}" r="4.5"/>'
    if shape == 1:
        return f'<rect class="marker" x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8"/>'
    if shape == 2:
        return f'<polygon class="marker" points="{x:.1f},{y - 5.5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"/>'
    return f'<polygon class="marker" points="{x:.1f},{y - 5.5:.1f} {x + 5.5:.1f},{y:.1f} {x:.1f},{y + 5.5:.1f} {x - 5.5:.1f},{y:.1f}"/>'


def legend_key(idx: int) -> Markup:
    """A small SVG sample of series `idx`'s line and marker, for the HTML legend under a chart."""
    return Markup(  # noqa: S704 - every dynamic part is a number or passed through escape()
        f'<svg class="beacon-legend__key" viewBox="0 0 36 12" aria-hidden="true" focusable="false" '
        f'xmlns="http://www.w3.org/2000/svg"><g class="series series-{idx}">'
        f'<line class="line dash-{idx}" x1="0" x2="36" y1="6" y2="6"/>{_marker(idx, 18, 6)}</g></svg>'
    )
