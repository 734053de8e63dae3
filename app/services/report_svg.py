"""Small inline SVG line plots for the report: no scripts, no external requests, print and PDF safe."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 340, 170
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 26, 28


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def line_plot(
    title: str, values: Sequence[float | None], labels: Sequence[str], *, y_min: float, y_max: float,
    unit: str = "", band: tuple[float, float] | None = None, plot_id: str = "",
) -> str:
    """One series over the answers (or sessions); gaps where a value was not measured; an optional target band."""
    values = list(values)
    n = len(values)
    measured = [v for v in values if v is not None]
    if measured:
        y_min, y_max = min(y_min, *measured), max(y_max, *measured)
    if y_max <= y_min:
        y_max = y_min + 1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (inner_w / 2 if n == 1 else inner_w * i / (n - 1))

    def y(v: float) -> float:
        return TOP + inner_h * (1 - (v - y_min) / (y_max - y_min))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{plot_id}-t" data-plot="{escape(plot_id)}">',
        f'<title id="{plot_id}-t">{escape(title)}: '
        + escape(", ".join(f"{lab} {('—' if v is None else _fmt(v) + unit)}" for lab, v in zip(labels, values,
                                                                                                strict=True)))
        + "</title>",
        f'<text x="{LEFT}" y="16" class="plot-title">{escape(title)}</text>',
    ]
    if band is not None:
        lo, hi = max(band[0], y_min), min(band[1], y_max)
        if hi > lo:
            parts.append(f'<rect x="{LEFT}" y="{y(hi):.1f}" width="{inner_w}" height="{y(lo) - y(hi):.1f}" '
                         'class="band" fill="#dcefdc"/>')
    for tick in (y_min, y_max):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ccc"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" class="tick">'
                     f'{_fmt(tick)}{escape(unit)}</text>')
    for i, label in enumerate(labels):
        parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="tick">{escape(label)}</text>')
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, v in enumerate(values):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(v):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    for i, v in enumerate(values):
        if v is not None:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="#1f5fa8"/>')
    if not measured:
        parts.append(f'<text x="{LEFT + inner_w / 2:.1f}" y="{TOP + inner_h / 2:.1f}" text-anchor="middle" '
                     'class="tick">not measured</text>')
    parts.append("</svg>")
    return "".join(parts)
