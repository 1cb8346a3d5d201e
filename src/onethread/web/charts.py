"""Charts drawn on the server as inline SVG: no JavaScript, readable without colour or sight.

Every chart carries a ``<title>`` and a ``<desc>`` (named by ``aria-labelledby``), each bar has
its own ``<title>`` ("2026-W10: 3 clocks breached") and its value and label as text, so a screen
reader, a text browser and a test all read the same numbers the eye sees. Pure: takes numbers,
returns markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 260
TOP, BOTTOM, LEFT, RIGHT = 28, 46, 36, 12  # room for values above the bars and labels below


@dataclass(frozen=True)
class Bar:
    label: str  # said in the bar's title: "2026-W10"
    value: int
    short: str | None = None  # written under the bar when the label is too long for it: "W10"
    href: str | None = None  # where the bar leads: the list of what it counts


def _id(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


def _ticks(top: int) -> list[int]:
    """Round gridline values from 0 to the first step at or above ``top`` (at most six lines)."""
    step, factors = 1, (2, 2.5, 2)  # 1, 2, 5, 10, 20, 50, ...
    i = 0
    while -(-top // step) > 5:
        step = int(step * factors[i % 3])
        i += 1
    last = max(-(-top // step), 1) * step
    return list(range(0, last + 1, step))


def bar_chart(title: str, description: str, bars: Sequence[Bar], *, unit: tuple[str, str] = ("case", "cases"),
              chart_id: str | None = None) -> Markup:
    """A vertical bar chart. ``unit`` is the (singular, plural) noun each bar counts."""
    if any(b.value < 0 for b in bars):
        raise ValueError("a bar chart counts things: no negative values")
    cid = chart_id or _id(title)
    total = sum(b.value for b in bars)
    ticks = _ticks(max((b.value for b in bars), default=0))
    scale_top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(bars), 1)
    bar_w = slot * 0.7

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / scale_top

    def noun(n: int) -> str:
        return unit[0] if n == 1 else unit[1]

    out = [f'<svg class="chart" id="{cid}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">',
           f'<title id="{cid}-title">{escape(title)}</title>',
           f'<desc id="{cid}-desc">{escape(description)} Total: {total} {escape(noun(total))}.</desc>']
    for tick in ticks:
        ty = y(tick)
        out.append(f'<g class="grid" aria-hidden="true"><line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" '
                   f'y2="{ty:.1f}" stroke="#d0d7de" stroke-width="1"/>'
                   f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#57606a">{tick}</text></g>')
    for i, bar in enumerate(bars):
        x = LEFT + i * slot + (slot - bar_w) / 2
        top = y(bar.value)
        middle = x + bar_w / 2
        label, said = escape(bar.label), f"{bar.value} {escape(noun(bar.value))}"
        written = escape(bar.short or bar.label)
        out.append(f'<g class="bar" data-label="{label}" data-value="{bar.value}">'
                   f'<title>{label}: {said}</title>'
                   f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" height="{TOP + plot_h - top:.1f}" '
                   f'fill="#0b5cad"/>'
                   f'<text class="value" x="{middle:.1f}" y="{top - 5:.1f}" text-anchor="middle" '
                   f'fill="#1b1f24" font-weight="600">{bar.value}</text>'
                   f'<text class="label" x="{middle:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                   f'fill="#1b1f24">{written}</text></g>')
        if bar.href:
            out[-1] = f'<a href="{escape(bar.href)}" class="figure">{out[-1]}</a>'

    if not bars:
        out.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#57606a">Nothing to show'
                   '</text>')
    out.append("</svg>")
    return Markup("".join(out))
