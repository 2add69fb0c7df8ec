"""The trajectory chart, drawn on the server as SVG: no JavaScript, no inline styles (the CSP holds).

Presentation attributes (``stroke``, ``fill``) are not styles, so the content security policy's
``style-src 'self'`` allows them. The chart carries a title and a description; the page shows the
data table behind it and a text summary beside it.
"""
from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 800, 380
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 20, 50


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
                   summary: str = "",
                   title: str = "People counted toward the target, cumulative, against the required path") -> Markup:
    """``series``: rows with month (YYYY-MM), cumulative and required; ``bands``: forecast rows (cumulative);
    ``target`` None: no required path (an area with no share of the target)."""
    bands = bands or []
    first, last = _month_index(start), max(_month_index(end), *(_month_index(b["month"]) for b in bands), 0)
    span = max(1, last - first)
    top = _nice_max(max([target or 0, *(r["cumulative"] for r in series), *(b["upper_95"] for b in bands)]))

    def x(label: str) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (_month_index(label) - first) / span

    def y(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)

    def points(rows, key):
        return " ".join(f"{x(r['month']):.1f},{y(r[key]):.1f}" for r in rows)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="reach-chart" role="img" '
        'aria-labelledby="chart-title chart-desc" focusable="false">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(summary)}</desc>',
    ]
    for i in range(6):
        value = top * i / 5
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     'stroke="#b1b4b6" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="13" '
                     f'fill="#0b0c0c">{value:,.0f}</text>')
    for year in range(first // 12, last // 12 + 1):
        label = f"{year:04d}-01"
        if first <= _month_index(label) <= last:
            parts.append(f'<text x="{x(label):.1f}" y="{HEIGHT - BOTTOM + 20}" text-anchor="middle" font-size="13" '
                         f'fill="#0b0c0c">{year}</text>')
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
    legend = [("#0b0c0c", "", "People reached (cumulative)"), ("#d4351c", "8 5", "Required path")]
    if bands:
        legend += [("#1d70b8", "2 3", "Forecast median (bands: 80% and 95%)")]
    for i, (colour, dash, text) in enumerate(legend):
        lx = LEFT + 10 + i * 240
        parts.append(f'<line x1="{lx}" x2="{lx + 30}" y1="{HEIGHT - 12}" y2="{HEIGHT - 12}" stroke="{colour}" '
                     f'stroke-width="3"{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""}/>')
        parts.append(f'<text x="{lx + 36}" y="{HEIGHT - 8}" font-size="13" fill="#0b0c0c">{escape(text)}</text>')
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
