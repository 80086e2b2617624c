"""The class report's bar charts, as inline SVG · 全班报告的条形图（内嵌 SVG）.

Two figures per assignment (:mod:`grader.record.report_page`): how many submissions got each
score, and for each exercise how many students got full marks, part of them or none. They
are drawn here as SVG text rather than matplotlib PNGs: matplotlib took about 0.6 s to start
and 0.15 s a figure, two to three seconds of a class run that grades a small class in
fifteen; and as text the labels stay sharp at any zoom, searchable, and in the reader's own
Chinese font. Every text is escaped; nothing here reads a file or runs a program.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata

from grader.record.terminal import short_number

__all__ = ["score_distribution", "exercise_bars", "integer_ticks"]

BLUE = "#0969da"
INK, GRID, MUTED = "#1f2328", "#d0d7de", "#57606a"
FONT = ('font-family="system-ui,-apple-system,Segoe UI,Noto Sans CJK SC,PingFang SC,'
        'sans-serif"')


def integer_ticks(top: float, most: int = 6) -> list[int]:
    """0, step, 2*step, ... up to at least ``top``: at most ``most`` + 1 ticks, the step 1, 2
    or 5 times a power of ten (the counts of a chart are whole numbers)."""
    top = max(1, math.ceil(top))
    step = 1
    while math.ceil(top / step) > most:
        step = _next_step(step)
    return list(range(0, math.ceil(top / step) * step + 1, step))


def _next_step(step: int) -> int:
    """1, 2, 5, 10, 20, 50, 100, ..."""
    digits = str(step)
    lead, zeros = int(digits[0]), len(digits) - 1
    return {1: 2, 2: 5, 5: 10}[lead] * 10 ** zeros


def _width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at font size ``size`` (wide characters count twice)."""
    return sum(size * (1.0 if unicodedata.east_asian_width(c) in "WF" else 0.58) for c in text)


# characters XML 1.0 does not allow (controls but tab, newline, carriage return; surrogates;
# U+FFFE/FFFF): an inline SVG must parse as XML, and html.escape keeps them
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return html.escape(_NOT_XML.sub("?", str(text)))


def _text(x: float, y: float, text: str, size: float = 12, anchor: str = "start",
          fill: str = INK, weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}">{_clean(text)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> str:
    tip = f"<title>{_clean(tip)}</title>" if tip else ""
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
            f'fill="{fill}">{tip}</rect>')


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" role="img" aria-label="{_clean(label)}" {FONT} '
            f'style="max-width:100%;height:auto;background:#fff">'
            f"<title>{_clean(label)}</title>" + "".join(body) + "</svg>")



def score_distribution(scores: list[float], maximum: float, title: str, x_label: str,
                       y_label: str) -> str:
    """A bar per possible score (0 to ``maximum``, when that is a whole number of at most 40
    points; a score counts at its nearest whole point, halves up), else ten equal bins from 0
    to ``maximum``. Scores outside 0 to ``maximum`` are drawn at the nearer end; NaN is left
    out."""
    top = maximum if maximum and maximum > 0 and math.isfinite(maximum) else 1.0
    scores = [min(max(s, 0.0), top) for s in scores if math.isfinite(s)]  # on the chart's axis
    whole = float(top).is_integer() and top <= 40
    if whole:
        edges = [(s - 0.5, s + 0.5) for s in range(int(top) + 1)]
        counts = [sum(1 for s in scores if math.floor(s + 0.5) == i) for i in range(len(edges))]
        names = [str(i) for i in range(len(edges))]
        low, high = -0.7, top + 0.7
    else:
        edges = [(top * i / 10, top * (i + 1) / 10) for i in range(10)]
        counts = [sum(1 for s in scores if a <= s < b or (i == 9 and s == b))
                  for i, (a, b) in enumerate(edges)]
        names = [f"{short_number(a)}–{short_number(b)}" for a, b in edges]
        low, high = 0, top
    width, height, left, right, top_pad, bottom = 520, 300, 52, 16, 34, 52
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    ticks = integer_ticks(max(counts, default=0))

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * plot_w

    def y(count: float) -> float:
        return top_pad + plot_h - count / ticks[-1] * plot_h

    body = [_text(width / 2, 20, title, 13, "middle", weight="600")]
    for tick in ticks:
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" '
                    f'y2="{y(tick):.1f}" stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(left - 6, y(tick) + 4, str(tick), 11, "end", MUTED))
    gap = 0.1 if whole else 0.0
    for (a, b), count, name in zip(edges, counts, names):
        body.append(_rect(x(a + gap), y(count), x(b - gap) - x(a + gap), y(0) - y(count), BLUE,
                          f"{name}: {count}"))
    if whole:  # whole scores, at most about ten of them named
        shown = [s for s in integer_ticks(top, 10) if s <= top]
    else:  # the bins' edges
        shown = [a for a, _ in edges] + [edges[-1][1]]
    for value in shown:
        body.append(_text(x(value), y(0) + 15, short_number(value), 11, "middle", MUTED))
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
                f'stroke="{INK}" stroke-width="1"/>')
    body.append(_text(left + plot_w / 2, height - 12, x_label, 12, "middle"))
    body.append(f'<text transform="translate(14 {top_pad + plot_h / 2:.1f}) rotate(-90)" '
                f'font-size="12" text-anchor="middle" fill="{INK}">{_clean(y_label)}</text>')
    return _svg(width, height, title, body)


def exercise_bars(rows: list[tuple[str, int, int, int]], title: str, x_label: str,
                  legend: tuple[str, str, str], colours: tuple[str, str, str]) -> str:
    """A stacked horizontal bar per exercise (label, full, partly, none), top to bottom in
    the order given, with the legend's three names under the axis."""
    width, row_h, size = 750, 26, 12
    label_w = min(320, max((_width(label, size) for label, *_ in rows), default=40) + 12)
    left, right, top_pad = label_w, 20, 34
    plot_w, plot_h = width - left - right, row_h * max(len(rows), 1)
    height = top_pad + plot_h + 70
    ticks = integer_ticks(max((f + p + z for _, f, p, z in rows), default=0))

    def x(count: float) -> float:
        return left + count / ticks[-1] * plot_w

    body = [_text(width / 2, 20, title, 13, "middle", weight="600")]
    for tick in ticks:
        body.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top_pad}" '
                    f'y2="{top_pad + plot_h}" stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(x(tick), top_pad + plot_h + 15, str(tick), 11, "middle", MUTED))
    for i, (label, *counts) in enumerate(rows):
        y = top_pad + i * row_h
        body.append(_text(left - 8, y + row_h / 2 + 4, label, size, "end"))
        start = 0
        for count, colour, name in zip(counts, colours, legend):
            body.append(_rect(x(start), y + 4, x(start + count) - x(start), row_h - 8, colour,
                              f"{label} — {name}: {count}"))
            start += count
    body.append(_text(left + plot_w / 2, top_pad + plot_h + 34, x_label, 12, "middle"))
    spot = left + plot_w / 2 - sum(_width(n, 12) + 36 for n in legend) / 2
    for name, colour in zip(legend, colours):
        body.append(_rect(spot, top_pad + plot_h + 48, 12, 12, colour))
        body.append(_text(spot + 17, top_pad + plot_h + 58, name, 12))
        spot += _width(name, 12) + 36
    return _svg(width, height, title, body)
