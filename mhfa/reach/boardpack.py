"""The board pack: one printable, tagged PDF (WeasyPrint's PDF/UA-1) for a month-end release.

Everything in it is read from the release as it was frozen (``releases.py``): the headline, the
chart of the people counted toward the target against the required path, the area table and the
month's changes (against the month before's release, when there is one), with the latest stored
forecast's probability of reaching the target beside them (read from the forecast area, never run).
"""
from __future__ import annotations

from flask import render_template

from mhfa.forecast.runs import latest_run
from mhfa.pdf import html_to_pdf
from mhfa.reach import counted, dashboard, releases
from mhfa.reach.chart import trajectory_svg
from mhfa.reach.models import ReachRelease


def changes(release: ReachRelease) -> dict:
    """The month's changes: people counted in the month, and each area's change since the month before's release."""
    tables = release.data["tables"]
    last = tables["trajectory"][-1] if tables["trajectory"] else None
    before = releases.previous(release)
    rows = []
    if before is not None:
        earlier = {a["area_name"]: a["people_reached"] for a in before.data["tables"]["areas"]}
        rows = [{"area": a["area_name"], "counted": a["counted_toward_target"],
                 "before": earlier.get(a["area_name"], 0), "now": a["people_reached"],
                 "change": a["people_reached"] - earlier.get(a["area_name"], 0)} for a in tables["areas"]]
    headline, old = tables["headline"][0], (before.data["tables"]["headline"][0] if before else None)
    return {"in_month": last["counted_in_month"] if last else 0, "previous": before,
            "counted_change": headline["counted_toward_target"] - old["counted_toward_target"] if old else None,
            "rows": rows}


def forecast_summary() -> dict | None:
    """The latest stored forecast's probability of reaching the target, as it recorded it."""
    run = latest_run()
    if run is None:
        return None
    coverage = (run.summary or {}).get("coverage") or {}
    return {"probability": run.probability_of_target, "created_at": run.created_at,
            "data_through": run.data_through, "target_people": run.target_people, "method": run.method,
            "lower_80": run.lower_80, "upper_80": run.upper_80, "target_date": run.target_date,
            "coverage_80": coverage.get("coverage_80"), "coverage_95": coverage.get("coverage_95")}


def render(release: ReachRelease, programme: str = "MHFA Reach") -> bytes:
    tables = release.data["tables"]
    headline = tables["headline"][0]
    series = [{"month": r["month"], "cumulative": r["counted_cumulative"], "required": r["required_path"]}
              for r in tables["trajectory"]]
    settings = counted.settings()
    latest = dashboard.latest_forecast()
    chart = trajectory_svg(series, start=headline["start_on"][:7], end=headline["end_on"][:7],
                           target=headline["target_people"], bands=latest["bands"] if latest else [],
                           summary=f"{headline['counted_toward_target']:,} people counted toward the target by "
                                   f"{headline['as_of']}, against {headline['required_to_date']:,} on the required "
                                   f"path to {headline['target_people']:,}.")
    html = render_template("reach/board_pack.html", release=release, headline=headline, areas=tables["areas"],
                           chart=chart, changes=changes(release), forecast=forecast_summary(), programme=programme,
                           rule=counted.RULE, note=settings.note)
    return html_to_pdf(html, pdf_variant="pdf/ua-1", custom_metadata=True)
