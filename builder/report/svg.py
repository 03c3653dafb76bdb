"""Charts as inline SVG, drawn in Python.

Why SVG from Python rather than a vendored chart library: the page stays one small file that opens
offline from disk, each chart is a few hundred bytes of plain markup (a 20k-item build costs no more than
the demo), nothing runs before a chart is visible, and a test can count a chart's marks in the HTML
itself. A chart is only drawn when it has a non-zero value; the page says why otherwise.
"""

from __future__ import annotations

from html import escape
from typing import Sequence

PALETTE = {"in": "#64748b", "kept": "#16a34a", "rejected": "#dc2626", "routing": "#a3a3a3", "difference": "#f59e0b",
           "bar": "#2563eb", "flag": "#d97706"}


def _num(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.3g}"


def bars(rows: Sequence[tuple[str, float] | tuple[str, float, str]], name: str, title: str, width: int = 720,
         label_width: int = 230, unit: str = "") -> str:
    """Horizontal bars, one per (label, value[, kind]); the kind picks the colour (see PALETTE)."""
    rows = [(r[0], float(r[1]), r[2] if len(r) > 2 else "bar") for r in rows]  # type: ignore[misc]
    top = max((v for _, v, _ in rows), default=0)
    if not rows or top <= 0:
        return ""
    bar_h, gap, head = 16, 5, 22
    height = head + len(rows) * (bar_h + gap) + 4
    room = width - label_width - 90
    out = [f'<svg class="chart" data-chart="{escape(name)}" role="img" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
           f'<text x="0" y="14" class="ct">{escape(title)}</text>']
    for i, (label, value, kind) in enumerate(rows):
        y = head + i * (bar_h + gap)
        w = max(1.0, room * value / top) if value > 0 else 0.0
        shown = label if len(label) <= 34 else label[:33] + "…"
        out.append(f'<text x="{label_width - 6}" y="{y + 12}" text-anchor="end" class="cl"><title>{escape(label)}</title>'
                   f'{escape(shown)}</text>')
        if w:
            out.append(f'<rect class="mark" x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                       f'fill="{PALETTE.get(kind, PALETTE["bar"])}"><title>{escape(label)}: {_num(value)}{unit}</title></rect>')
        out.append(f'<text x="{label_width + w + 4:.1f}" y="{y + 12}" class="cv">{_num(value)}{unit}</text>')
    out.append("</svg>")
    return "".join(out)


def histogram(counts: Sequence[int], labels: Sequence[str], name: str, title: str, width: int = 420, height: int = 190) -> str:
    """Vertical bars over ordered bins (a length or similarity histogram)."""
    top = max(counts, default=0)
    if not counts or top <= 0:
        return ""
    head, foot, left = 32, 46, 6
    n = len(counts)
    slot = (width - left - 36) / n  # room on the right for the last slanted label
    room = height - head - foot
    out = [f'<svg class="chart" data-chart="{escape(name)}" role="img" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
           f'<text x="0" y="13" class="ct">{escape(title)}</text>']
    for i, (c, label) in enumerate(zip(counts, labels)):
        x = left + i * slot
        h = room * c / top
        if c:
            out.append(f'<rect class="mark" x="{x + 1:.1f}" y="{head + room - h:.1f}" width="{slot - 2:.1f}" height="{max(h, 1):.1f}" '
                       f'fill="{PALETTE["bar"]}"><title>{escape(label)}: {c:,}</title></rect>')
            out.append(f'<text x="{x + slot / 2:.1f}" y="{head + room - h - 2:.1f}" text-anchor="middle" class="cv">{c:,}</text>')
        out.append(f'<text x="{x + slot / 2 - 4:.1f}" y="{height - foot + 12}" text-anchor="start" class="cx" '
                   f'transform="rotate(35 {x + slot / 2:.1f} {height - foot + 12})">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
