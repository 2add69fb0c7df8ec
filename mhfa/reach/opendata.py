"""The public progress figures as open data: one tidy CSV per table, a JSON form and a data package.

Tidy: one header row, one row per observation, ISO 8601 dates (months as ``YYYY-MM``), codes beside
names, no notes or totals inside a file, so ``pandas.read_csv`` reads each as it is. Every column is
named and described in ``datapackage.json`` (Frictionless Data Package, with a Table Schema per
file) under the Open Government Licence v3.0. The figure set against the target is
``counted_toward_target`` (``mhfa.reach.counted``); people outside the region have columns of their own.
``outcomes`` is the public page's region-level outcomes, suppressed as the page shows them; it is today's, so the
monthly releases (``RELEASED``) do not freeze it.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date

from mhfa.outcomes import board as outcomes_board
from mhfa.reach import counted, dashboard
from mhfa.reach.counts import Filters
from mhfa.timeutil import london_today

LICENCE = {"name": "OGL-UK-3.0", "title": "Open Government Licence v3.0",
           "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Table Schema type: string, integer, number, date, yearmonth, boolean
    description: str


COLUMNS: dict[str, tuple[str, list[Column]]] = {
    "headline": ("The programme's position against its target on the date the figures are as of", [
        Column("as_of", "date", "The date the figures are measured at"),
        Column("target_people", "integer", "The programme's target: different people to reach"),
        Column("start_on", "date", "The start of the required path (0 people)"),
        Column("end_on", "date", "The date the target is to be reached"),
        Column("counted_toward_target", "integer",
               "People reached in the target region plus those whose area is not known, to as_of"),
        Column("outside_region", "integer", "People reached in areas outside the target region (not counted)"),
        Column("required_to_date", "integer", "People needed by as_of on the linear required path"),
        Column("rate_needed_per_month", "number",
               "People still to reach divided by the months left (30.4375 days a month); empty once the end "
               "date has passed short of the target"),
        Column("status", "string", "green, amber or red (the rule is on the progress page)"),
    ]),
    "trajectory": ("People counted toward the target by month, cumulative, against the required path", [
        Column("month", "yearmonth", "The month (YYYY-MM)"),
        Column("counted_in_month", "integer", "People counted toward the target first reached in the month"),
        Column("counted_cumulative", "integer", "People counted toward the target reached by the month's end"),
        Column("required_path", "integer",
               "People needed by the month's end (the as_of date in its month) on the required path"),
        Column("outside_region_cumulative", "integer",
               "People reached in areas outside the target region by the month's end (not counted)"),
    ]),
    "areas": ("People reached by council area (where they live) to the date the figures are as of", [
        Column("gss_code", "string", "The area's GSS code (empty for Unknown)"),
        Column("area_name", "string", "The council area, or Unknown"),
        Column("counted_toward_target", "boolean", "true: the area's people count toward the target"),
        Column("people_reached", "integer", "Different people reached to as_of"),
        Column("population", "integer", "The area's population used (see population_ages)"),
        Column("population_year", "integer", "The year of the population figure"),
        Column("population_ages", "string", "aged 16+ where published, else all ages"),
        Column("per_1000", "number", "people_reached per 1,000 of population"),
        Column("pro_rata_target", "integer", "The area's share of the target, pro rata to population"),
    ]),
    "outcomes": ("What the training did, across the target region: the evaluation at the end of a course, the "
                 "follow-up six months on and current first aiders, as the progress page shows them", [
        Column("as_of", "date", "The date the figures are measured at"),
        Column("evaluation_shown", "boolean",
               "false: fewer than 10 trainees counted for the region have answered the evaluation, so no figure "
               "from the evaluation or the follow-up is published (every such column is empty)"),
        Column("invited", "integer", "Completions whose trainee was invited to evaluate the course"),
        Column("answered", "integer", "Evaluations answered"),
        Column("response_rate", "number", "answered divided by invited (0 to 1)"),
        Column("confidence_before_mean", "number",
               "Mean confidence to help someone with a mental health problem before the course, 0 to 10 (empty "
               "below 10 answers to the question)"),
        Column("confidence_before_low_95", "number", "The 95% interval's lower end of confidence_before_mean"),
        Column("confidence_before_high_95", "number", "The 95% interval's upper end of confidence_before_mean"),
        Column("confidence_now_mean", "number", "Mean confidence to help after the course, 0 to 10 (empty below 10 "
                                                "answers to the question)"),
        Column("confidence_now_low_95", "number", "The 95% interval's lower end of confidence_now_mean"),
        Column("confidence_now_high_95", "number", "The 95% interval's upper end of confidence_now_mean"),
        Column("rated_good_or_very_good", "number",
               "Share of those who rated the course who rated it good or very good (0 to 1; empty below 10 ratings)"),
        Column("follow_ups_sent", "integer", "Six-month follow-ups sent"),
        Column("follow_ups_answered", "integer", "Follow-ups answered (empty from 1 to 9: not shown)"),
        Column("follow_up_response_rate", "number",
               "follow_ups_answered divided by follow_ups_sent (0 to 1; empty when follow_ups_answered is)"),
        Column("used_skills", "number",
               "Share of follow-up answers saying they had used their skills (0 to 1; empty below 10 answers)"),
        Column("current_first_aiders", "integer",
               "People counted for the region holding a certificate that is issued, not revoked and not expired on "
               "as_of"),
    ]),
}
NAMES = tuple(COLUMNS)
#: The tables a monthly release freezes (``mhfa.reach.releases``); the others are today's only.
RELEASED = ("headline", "trajectory", "areas")


def tables(as_of: date | None = None, *, month: int | None = None) -> dict[str, list[dict]]:
    """Every table's rows, as of today (or the last day of ``month``, yyyymm)."""
    filters = Filters(end_month=month)
    position = counted.position(filters, as_of)
    headline = [{
        "as_of": position.as_of.isoformat(), "target_people": position.target,
        "start_on": position.start_on.isoformat(), "end_on": position.end_on.isoformat(),
        "counted_toward_target": position.counted, "outside_region": position.outside,
        "required_to_date": position.required,
        "rate_needed_per_month": None if position.rate_needed is None else round(position.rate_needed, 1),
        "status": position.status,
    }]
    trajectory = [{"month": r["month"], "counted_in_month": r["reached"], "counted_cumulative": r["cumulative"],
                   "required_path": r["required"], "outside_region_cumulative": r["outside"]}
                  for r in dashboard.cumulative_series(filters, as_of)]
    areas = []
    table = dashboard.area_table(filters, as_of)
    for row in table.rows:
        name, code, is_counted, _in_period, to_date, population, label, per_1000, target = row[:9]
        if name.startswith(("Total", "Outside the target region")):
            continue  # totals are the headline's, not rows of this table
        year, _, ages = (label or "").partition(", ")
        areas.append({"gss_code": code, "area_name": name, "counted_toward_target": is_counted == "yes",
                      "people_reached": to_date, "population": population,
                      "population_year": int(year) if year else None, "population_ages": ages or None,
                      "per_1000": per_1000, "pro_rata_target": target})
    return {"headline": headline, "trajectory": trajectory, "areas": areas}


def latest_tables() -> dict[str, list[dict]]:
    """Every open data table as of today: the released ones and the region's outcomes."""
    return {**tables(), "outcomes": outcome_rows()}


def outcome_rows(today: date | None = None) -> list[dict]:
    """The progress page's region-level outcomes (``mhfa.outcomes.board.public_region``) as one tidy row."""
    public = outcomes_board.public_region(counted.counted_keys())
    row = {"as_of": (today or london_today()).isoformat(), "evaluation_shown": public.figures is not None,
           "current_first_aiders": public.current_first_aiders}
    f = public.figures
    if f is None:
        return [row]
    row.update(invited=f.invited, answered=f.answered, response_rate=f.shown_response_rate,
               rated_good_or_very_good=f.shown_good_share, follow_ups_sent=f.follow_ups,
               follow_ups_answered=f.shown_follow_ups_answered if isinstance(f.shown_follow_ups_answered, int)
               else None, follow_up_response_rate=f.shown_follow_up_response_rate, used_skills=f.shown_use_rate)
    for key in ("confidence_before", "confidence_now"):
        mean = f.shown_mean(key)
        low, high = mean.interval or (None, None)
        row.update({f"{key}_mean": _round(mean.mean), f"{key}_low_95": _round(low), f"{key}_high_95": _round(high)})
    return [row]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def to_csv(name: str, rows: list[dict]) -> str:
    """One tidy CSV: a header row, then one row per observation (empty cell: no figure)."""
    columns = [c.name for c in COLUMNS[name][1]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_json(data: dict[str, list[dict]], *, release: str | None = None) -> str:
    return json.dumps({"licence": LICENCE, "attribution": ATTRIBUTION, "release": release, **data}, indent=1)


def datapackage(*, name: str, title: str, base: str = "", names: tuple[str, ...] = NAMES) -> dict:
    """A Frictionless Data Package naming and describing every column of every file (``names``: those files)."""
    return {
        "profile": "tabular-data-package",
        "name": name,
        "title": title,
        "licenses": [LICENCE],
        "description": ATTRIBUTION + " " + counted.RULE,
        "resources": [{
            "name": table, "path": f"{base}{table}.csv", "title": title_, "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", "profile": "tabular-data-resource",
            "schema": {"fields": [{"name": c.name, "type": c.type, "description": c.description} for c in columns],
                       "missingValues": [""]},
        } for table, (title_, columns) in COLUMNS.items() if table in names],
    }
