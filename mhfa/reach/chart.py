"""The trajectory chart, drawn on the server as SVG: no JavaScript, no inline styles (the CSP holds).

Presentation attributes (``stroke``, ``fill``) are not styles, so the content security policy's
``style-src 'self'`` allows them. The chart carries a title and a description; the page shows the
data table behind it and a text summary beside it.
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

RIGHT, TOP = 20, 20


@dataclass(frozen=True)
class Layout:
    """The chart's drawing box. ``narrow`` is drawn for phones: a viewBox about as wide as the screen, so its
    16-unit text is at least 12 px on a 375 px screen, year labels every other year, and the legend one entry
    a line so none is clipped."""

    name: str
    width: int
    height: int
    left: int
    font: int
    year_step: int
    legend_rows: bool
    labels: tuple[str, str, str]


WIDE = Layout("wide", 800, 380, 80, 13, 1, False,
              ("Counted toward the target", "Required path", "Forecast median (bands: 80% and 95%)"))
NARROW = Layout("narrow", 400, 420, 64, 16, 2, True,
                ("Counted toward the target", "Required path", "Forecast median, 80%/95% bands"))


def _month_index(label: str) -> int:
    """``YYYY-MM`` (any number of year digits: a year before 1000 is not always zero-padded) as months."""
    year, _, month = label.rpartition("-")
    return int(year) * 12 + int(month) - 1


def _nice_max(value: float) -> float:
    if value <= 0:
        return 10
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def trajectory_svg(series: list[dict], *, start: str, end: str, target: int | None, bands: list[dict] | None = None,
                   summary: str = "", layout: Layout = WIDE,
                   title: str = "People counted toward the target, cumulative, against the required path") -> Markup:
    """``series``: rows with month (YYYY-MM), cumulative and required; ``bands``: forecast rows (cumulative);
    ``target`` None: no required path (an area with no share of the target)."""
    bands = bands or []
    first, last = _month_index(start), max(_month_index(end), *(_month_index(b["month"]) for b in bands), 0)
    span = max(1, last - first)
    top = _nice_max(max([target or 0, *(r["cumulative"] for r in series), *(b["upper_95"] for b in bands)]))
    legend = [("#0b0c0c", "", layout.labels[0])]
    if target is not None:
        legend.append(("#d4351c", "8 5", layout.labels[1]))
    if bands:
        legend.append(("#1d70b8", "2 3", layout.labels[2]))
    line = layout.font + 8
    bottom = 34 + line * (len(legend) if layout.legend_rows else 1)
    width, height, left, font = layout.width, layout.height, layout.left, layout.font
    plot_bottom = height - bottom
    year_y = plot_bottom + font + 10  # the year labels' baseline, clear of the axis's 0

    def x(label: str) -> float:
        return left + (width - left - RIGHT) * (_month_index(label) - first) / span

    def y(value: float) -> float:
        return TOP + (plot_bottom - TOP) * (1 - value / top)

    def points(rows, key):
        return " ".join(f"{x(r['month']):.1f},{y(r[key]):.1f}" for r in rows)

    ids = f"chart-{layout.name}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="reach-chart reach-chart--{layout.name}" role="img" aria-labelledby="{ids}-title {ids}-desc" '
        'focusable="false">',
        f'<title id="{ids}-title">{escape(title)}</title>',
        f'<desc id="{ids}-desc">{escape(summary)}</desc>',
    ]
    for i in range(6):
        value = top * i / 5
        parts.append(f'<line x1="{left}" x2="{width - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     'stroke="#b1b4b6" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + font / 3:.1f}" text-anchor="end" font-size="{font}" '
                     f'fill="#0b0c0c">{value:,.0f}</text>')
    for year in range(first // 12, last // 12 + 1, layout.year_step):
        label = f"{year:04d}-01"
        if first <= _month_index(label) <= last:
            parts.append(f'<text x="{x(label):.1f}" y="{year_y}" text-anchor="middle" '
                         f'font-size="{font}" fill="#0b0c0c">{year}</text>')
    if bands:
        for lower, upper, colour in (("lower_95", "upper_95", "#d2e2f1"), ("lower_80", "upper_80", "#a6c5e3")):
            outline = points(bands, upper) + " " + " ".join(
                f"{x(b['month']):.1f},{y(b[lower]):.1f}" for b in reversed(bands))
            parts.append(f'<polygon points="{outline}" fill="{colour}" stroke="none"/>')
        parts.append(f'<polyline points="{points(bands, "median")}" fill="none" stroke="#1d70b8" stroke-width="2" '
                     'stroke-dasharray="2 3"/>')
    if target is not None:
        required_path = [{"month": start, "required": 0}, {"month": end, "required": target}]
        parts.append(f'<polyline points="{points(required_path, "required")}" fill="none" stroke="#d4351c" '
                     'stroke-width="2" stroke-dasharray="8 5"/>')
    if series:
        parts.append(f'<polyline points="{points(series, "cumulative")}" fill="none" stroke="#0b0c0c" '
                     'stroke-width="3"/>')
    # Wide: entries side by side, each placed after the one before it (text about 0.6 em a character).
    lx = left
    for i, (colour, dash, text) in enumerate(legend):
        if layout.legend_rows:
            lx, ly = 10, year_y + (i + 1) * line  # each a line below the year labels
        else:
            ly = height - 14
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{lx}" x2="{lx + 30}" y1="{ly - font / 3:.1f}" y2="{ly - font / 3:.1f}" '
                     f'stroke="{colour}" stroke-width="3"{dashes}/>')
        parts.append(f'<text x="{lx + 36}" y="{ly}" font-size="{font}" fill="#0b0c0c">{escape(text)}</text>')
        if not layout.legend_rows:
            lx += 36 + round(len(text) * font * 0.6) + 24
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text part escaped above; numbers formatted here)


def describe(position, bands: list[dict] | None = None) -> str:
    """The chart's text summary: the headline's own figures (``mhfa.reach.counted.Position``)."""
    where = f" in {position.area_name}" if position.area_name else ""
    day = f"{position.as_of.day} {position.as_of:%B %Y}"
    text = f"On {day}, {position.counted:,} people{where} counted toward the target"
    if position.target is None:
        text += f" ({position.area_name} has no share of the target: it is not in the target region)."
    else:
        gap = position.gap
        text += (f" against {position.required:,} needed by then on the required path to {position.target:,}: "
                 f"{abs(gap):,} {'ahead of' if gap >= 0 else 'behind'} the path.")
    if position.outside:
        text += f" Beside it, not counted: {position.outside:,} people in areas outside the target region."
    if bands:
        final = bands[-1]
        text += (f" The forecast median reaches {final['median']:,.0f} by {final['month']} "
                 f"(80% band {final['lower_80']:,.0f} to {final['upper_80']:,.0f}).")
    return text
