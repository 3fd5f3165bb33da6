"""Server-rendered SVG charts (bar and line) for the finance reports.

No JavaScript and no inline styles, so they pass the strict Content Security Policy; every label
is escaped; the table beside each chart carries the same figures for screen readers and export.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 90, 16, 16, 64
COLOURS = ("#a4161a", "#1d4e89", "#2a9d8f", "#e9c46a")


def _scale(maximum: Decimal) -> Decimal:
    return maximum if maximum > 0 else Decimal(1)


def _y(value: Decimal, maximum: Decimal, plot_height: int) -> float:
    return TOP + plot_height - float(value / maximum) * plot_height


def _axis(maximum: Decimal) -> list[str]:
    parts = []
    plot_height = HEIGHT - TOP - BOTTOM
    for step in range(5):
        value = maximum * step / 4
        y = TOP + plot_height - plot_height * step / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555">{escape(f"{value:,.0f}")}</text>'
        )
    return parts


def bar_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[Decimal]]], *, title: str
) -> SafeString:
    """Grouped bars: one group per label, one bar per series."""
    values = [Decimal(v) for _name, data in series for v in data]
    maximum = _scale(max(values, default=Decimal(0)))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    group = plot_width / max(len(labels), 1)
    bar = group * 0.8 / max(len(series), 1)
    parts = _axis(maximum)
    for index, label in enumerate(labels):
        x0 = LEFT + group * index + group * 0.1
        for number, (name, data) in enumerate(series):
            value = Decimal(data[index])
            height = float(value / maximum) * plot_height
            x = x0 + bar * number
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_height - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{COLOURS[number % len(COLOURS)]}">'
                f"<title>{escape(label)} · {escape(name)}: {escape(f'{value:,.2f}')}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group * 0.4:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="11" fill="#333">{escape(label[:14])}</text>'
        )
    return _svg(title, parts, [name for name, _data in series])


def line_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[Decimal]]], *, title: str
) -> SafeString:
    """One line per series over the labels (months)."""
    values = [Decimal(v) for _name, data in series for v in data]
    maximum = _scale(max(values, default=Decimal(0)))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(labels) - 1, 1)
    parts = _axis(maximum)
    for number, (name, data) in enumerate(series):
        points = " ".join(
            f"{LEFT + step * i:.1f},{_y(Decimal(v), maximum, plot_height):.1f}"
            for i, v in enumerate(data)
        )
        colour = COLOURS[number % len(COLOURS)]
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(name)}</title></polyline>"
        )
    for index, label in enumerate(labels):
        parts.append(
            f'<text x="{LEFT + step * index:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle" font-size="11" fill="#333">{escape(label)}</text>'
        )
    return _svg(title, parts, [name for name, _data in series])


def _svg(title: str, parts: list[str], legend: list[str]) -> SafeString:
    items = []
    for number, name in enumerate(legend):
        x = LEFT + number * 150
        y = HEIGHT - 20
        items.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" '
            f'fill="{COLOURS[number % len(COLOURS)]}"/>'
            f'<text x="{x + 16}" y="{y}" font-size="12" fill="#333">{escape(name)}</text>'
        )
    body = "".join(parts + items)
    return mark_safe(  # noqa: S308 - every interpolated text above is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="report-chart"><title>{escape(title)}</title>'
        f"{body}</svg>"
    )
