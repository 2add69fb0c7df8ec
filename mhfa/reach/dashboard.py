"""The dashboard's figures, built only from the kept counts (see ``counts.py``).

The figure set against the target, and the target, required path, rate needed and status, are
``counted.py``'s (one definition, one place); this module lays them out as the headline, the chart's
series and the tables. Every breakdown table counts the same people as the headline (counted toward
the target, under the same filters) and ends with a total row equal to the headline's people reached
in the period; ``include_outside`` adds the people outside the target region, labelled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.courses.models import CourseType, FundingStream
from mhfa.employers.models import Sector
from mhfa.extensions import db
from mhfa.forecast.models import ForecastRun
from mhfa.people.models import AgeBand, Disability, EthnicGroup, Sex
from mhfa.reach import counted
from mhfa.reach.counted import Position, add_months, month_end, month_key
from mhfa.reach.counts import (
    Filters,
    Spend,
    kept_all_group_counts,
    kept_area_group_counts,
    kept_counts,
    kept_group_counts,
    kept_spend,
)
from mhfa.reach.equality import population_shares, population_source, reached_shares
from mhfa.reach.models import UNKNOWN_AREA

RAG_RULE = counted.STATUS_RULE
TARGET_RULE = counted.RULE
OUTSIDE_NOTE = ("People outside the target region are included in this table (switch: include people outside the "
                "region); its total is then more than the headline's figure counted toward the target.")
SUPPRESSION_RULE = ("Counts from 1 to 9 are shown as 'fewer than 10' (ONS practice); when only one cell of a table "
                    "would be hidden, the next smallest is hidden too, so no hidden count can be worked out from "
                    "the total.")
SHARE_RULE = ("Shares are of the people who gave an answer (not 'Prefer not to say' or 'Not answered'), beside "
              "the share of the target region's residents aged 16 and over where a published figure is loaded; "
              "shares are hidden when a hidden count could be worked out from them.")
FUNDING_RULE = (
    "People: each person reached is counted under the funding stream of the completion that first reached them: "
    "the stream of the employer order that bought their place, else that of the course (publicly funded for a "
    "course the programme schedules, employer-paid for a closed course, unless the coordinator recorded "
    "otherwise). Historical imports carry no course or order: 'Not recorded'. Spend: the net value (before VAT) "
    "invoiced for employer orders, less credit notes for places released by a cancellation, in the month the "
    "order was placed, plus the delivery cost coordinators "
    "record on completed publicly funded and other courses in the month the course started (an employer-paid "
    "course's money is its order, so its cost is not added again; a closed course bought by its organisation's "
    "order cannot be given another stream). On a publicly funded course where employers bought some places, "
    "its delivery cost is publicly funded spend and the people who used bought places count as employer-paid. "
    "Cost per person reached: spend ÷ people "
    "reached in the same months, left blank where some spend is not known.")
SMALL = 10
FEWER_THAN_10 = "fewer than 10"
NOT_KNOWN = "not known"


_memo = counted.memo
_settings = counted.settings
_region = counted.region
month_area = counted.month_area
populations = counted.populations
pro_rata_targets = counted.pro_rata_targets
month_of = month_key


def _areas_between(filters: Filters, ranges: list[tuple[int | None, int | None]]) -> list[dict[int, int]]:
    """Area key → people for each range of months (first, last; None: open), in one pass over the months."""
    out: list[dict[int, int]] = [{} for _ in ranges]
    holding: dict[int, list[dict[int, int]]] = {}  # month → the sums of the ranges that hold it (worked out once)
    for (month, area), n in month_area(filters).items():
        if filters.area is not None and area != filters.area:
            continue
        sums_of_month = holding.get(month)
        if sums_of_month is None:
            sums_of_month = holding[month] = [
                sums for sums, (first, last) in zip(out, ranges, strict=True)
                if (first is None or month >= first) and (last is None or month <= last)]
        for sums in sums_of_month:
            sums[area] = sums.get(area, 0) + n
    return out


def areas_in_order() -> list[CouncilArea]:
    return _memo("areas", lambda: db.session.scalars(sa.select(CouncilArea).order_by(
        CouncilArea.in_target_region.desc(), CouncilArea.name)).all())


def course_types() -> list[CourseType]:
    return _memo("types", lambda: db.session.scalars(sa.select(CourseType).order_by(CourseType.name)).all())


def month_label(key: int) -> str:
    return f"{key // 100:04d}-{key % 100:02d}"


def months_between(first: int, last: int) -> list[int]:
    out, key = [], first
    while key <= last:
        out.append(key)
        key = add_months(key, 1)
    return out


@dataclass
class Table:
    """One table of the dashboard: what it is called, its columns and rows (cells are ints, floats or text)."""

    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


Headline = Position


def headline(filters: Filters, as_of: date | None = None) -> Position:
    """Counted toward the target, people outside the region beside it, the target (the area's share when an
    area is chosen), required path, rates and status at the as-of date (``counted.position``)."""
    return _memo(("position", filters, as_of), lambda: counted.position(filters, as_of))


def _window(filters: Filters, as_of: date | None) -> Filters:
    """The filters' months, ending at the as-of date's month."""
    return filters.with_months(filters.start_month, month_key(counted.as_of_for(filters, as_of)))


def cumulative_series(filters: Filters, as_of: date | None = None) -> list[dict]:
    """Month by month from the programme start to the as-of date: people counted toward the target that month,
    cumulative, the required path (at each month's end; at the as-of date in its month), and beside them the
    people outside the region (cumulative, never added). An area chosen: its people and its share of the target.
    The last row equals the headline."""
    programme = _settings()
    position = headline(filters, as_of)
    first, last = month_key(programme.start_on), month_key(position.as_of)
    inside, outside = counted.monthly(filters), counted.monthly(filters, outside=True)
    total = sum(n for m, n in inside.items() if m < first)
    total_out = sum(n for m, n in outside.items() if m < first)
    target = position.target
    rows = []
    for key in months_between(first, last):
        total += inside.get(key, 0)
        total_out += outside.get(key, 0)
        day = min(month_end(key), position.as_of)
        rows.append({"month": month_label(key), "reached": inside.get(key, 0), "cumulative": total,
                     "required": None if target is None else counted.required_at(day, target),
                     "outside": total_out})
    return rows


def area_table(filters: Filters, as_of: date | None = None) -> Table:
    end = month_key(counted.as_of_for(filters, as_of))
    in_range, to_date, last_12, prev_12 = _areas_between(filters, [
        (filters.start_month, end), (None, end), (add_months(end, -11), end),
        (add_months(end, -23), add_months(end, -12))])
    areas = areas_in_order()
    pops, targets = populations(), pro_rata_targets()
    region = _region()
    table = Table("areas", "People reached by council area", [
        "Council area", "GSS code", "Counted toward the target", "Reached in period", "Reached to date",
        "Population", "Population (year, ages)", "Per 1,000 of the population shown", "Pro-rata target",
        "Share of pro-rata target", "Last 12 months", "Trend (last 12 vs previous 12 months)"],
        note=("Areas outside the target region are shown but never counted toward the target; the last two rows "
              "give the figure counted toward the target and the people outside the region. Per 1,000 residents "
              "uses the population aged 16 and over where the reference data has it, else all ages (said in "
              "the population column). " + TARGET_RULE))
    keys = [(a.id, a.name, a.gss_code) for a in areas] + [(UNKNOWN_AREA, "Unknown", "")]
    sums = {True: [0, 0, 0], False: [0, 0, 0]}
    for key, name, code in keys:
        if filters.area is not None and key != filters.area:
            continue
        reached, to_date_n = in_range.get(key, 0), to_date.get(key, 0)
        population, pop_label = pops.get(key, (None, ""))
        target = targets.get(key)
        recent, earlier = last_12.get(key, 0), prev_12.get(key, 0)
        trend = "up" if recent > earlier else "down" if recent < earlier else "level"
        inside = counted.is_counted(key, region)
        for i, n in enumerate((reached, to_date_n, recent)):
            sums[inside][i] += n
        table.rows.append([
            name, code, "yes" if inside else "no (outside the target region)", reached, to_date_n,
            population, pop_label, round(1000 * to_date_n / population, 2) if population else None,
            target, round(to_date_n / target, 4) if target else None, recent, trend,
        ])
    for inside, label in ((True, "Total counted toward the target"),
                          (False, "Outside the target region (not counted)")):
        reached, to_date_n, recent = sums[inside]
        table.rows.append([label, "", "yes" if inside else "no", reached, to_date_n, None, "", None, None, None,
                           recent, ""])
    return table


def _scope(filters: Filters, include_outside: bool) -> frozenset[int] | None:
    """The area keys a breakdown counts: those counted toward the target, or every area."""
    return None if include_outside else counted.counted_keys()


def _total_label(include_outside: bool) -> str:
    return "Total (including people outside the region)" if include_outside else "Total counted toward the target"


def course_type_table(filters: Filters, as_of: date | None = None, *, include_outside: bool = False) -> Table:
    window = _window(filters, as_of)
    counts = _memo(("types", window, include_outside),
                   lambda: kept_counts("course_type", window, areas=_scope(filters, include_outside)))
    types = course_types()
    table = Table("course_types", "People reached by the course that first reached them",
                  ["Course type", "Code", "Counts toward target", "Awareness course", "People reached"],
                  note=OUTSIDE_NOTE if include_outside else TARGET_RULE)
    for kind in types:
        if filters.course_type_ids is not None and kind.id not in filters.course_type_ids:
            continue
        table.rows.append([kind.name, kind.code, "yes" if kind.counts_toward_target else "no",
                           "yes" if kind.is_awareness else "no", counts.get(kind.id, 0)])
    table.rows.append([_total_label(include_outside), "", "", "", sum(counts.values())])
    return table


GROUP_LABELS = {
    "sector": ("Employer sector", {s.value: s.label for s in Sector}),
    "age_band": ("Age band", {a.value: a.value.replace("-", " to ") if a.value[0].isdigit() else "Prefer not to say"
                              for a in AgeBand}),
    "sex": ("Sex", {s.value: s.value.replace("-", " ").capitalize() for s in Sex}),
    "ethnic_group": ("Ethnic group", {e.value: e.value.replace("-", " ").capitalize() for e in EthnicGroup}),
    "disability": ("Disability", {d.value: d.value.replace("-", " ").capitalize() for d in Disability}),
}
EQUALITY = ("age_band", "sex", "ethnic_group", "disability")


def _group_counts(filters: Filters, as_of: date | None, include_outside: bool = False) -> dict[str, dict[str, int]]:
    """dimension → value → people, under the filters (the kept group rows; with an area chosen, its kept rows
    per area)."""
    window = _window(filters, as_of)
    if filters.area is not None:
        return _memo(("groups", window, include_outside), lambda: kept_area_group_counts(
            window, areas=None if include_outside else counted.counted_keys()))
    return _memo(("groups", window, include_outside),
                 lambda: kept_all_group_counts(window, include_outside=include_outside))


def _group_title(heading: str, filters: Filters, include_outside: bool) -> str:
    who = "People reached" if include_outside else "People counted toward the target"
    where = f" in {counted.area_name(filters.area)}" if filters.area is not None else ""
    return f"{who}{where} by {heading.lower()}" + (" (including people outside the region)" if include_outside
                                                    else "")


def group_table(dimension: str, filters: Filters, as_of: date | None = None, *,
                include_outside: bool = False) -> Table:
    """People by sector or an equality group; equality tables are suppressed and set against the population
    where a published figure is known."""
    counts = _group_counts(filters, as_of, include_outside)[dimension]
    scope_note = OUTSIDE_NOTE if include_outside else TARGET_RULE
    heading, labels = GROUP_LABELS[dimension]
    unknown = "Not known (no employer)" if dimension == "sector" else "Not answered"
    values = [(v, labels[v], counts.get(v, 0)) for v in labels] + [("", unknown, counts.get("", 0))]
    total = sum(n for _v, _label, n in values)
    if dimension not in EQUALITY:
        table = Table(dimension, _group_title(heading, filters, include_outside),
                      [heading, "People reached"], [[label, n] for _v, label, n in values], note=scope_note)
        table.rows.append([_total_label(include_outside), total])
        return table
    cells = suppress([n for _v, _label, n in values])
    answered = [i for i, (v, _label, _n) in enumerate(values) if v and v != "prefer-not-to-say"]
    shares = reached_shares([n for _v, _label, n in values], cells, answered)
    population = population_shares(dimension)
    source = population_source(dimension)
    table = Table(dimension, _group_title(heading, filters, include_outside),
                  [heading, "People reached", "Share of those who answered (%)",
                   "Population share, aged 16+ (%)"],
                  note=" ".join((scope_note, SUPPRESSION_RULE, SHARE_RULE, source)))
    for i, (value, label, _n) in enumerate(values):
        known = i in answered
        pop = (population.get(value, 0.0) if population is not None else NOT_KNOWN) if known else ""
        table.rows.append([label, cells[i], shares[i] if known else "", pop])
    table.rows.append([_total_label(include_outside), total, "", ""])
    return table


STREAM_ROWS = [(s.value, s.label) for s in FundingStream] + [("", "Not recorded (historical imports)")]


#: Said under the funding table when one area is chosen: its people are the area's, its money the programme's.
AREA_SPEND_RULE = ("The people reached are the chosen area's; the spend and the cost per person are the whole "
                   "programme's in the period, as spend is not recorded by area.")


def funding_table(filters: Filters, as_of: date | None = None, *, include_outside: bool = False) -> Table:
    """People reached, spend and the cost per person reached by funding stream.

    The people are those of the headline (counted toward the target) unless ``include_outside``; the
    spend is the programme's whole spend, so the cost per person divides it by everyone it reached
    (outside the region too), whichever people are shown."""
    window = _window(filters, as_of)
    people = _group_counts(filters, as_of, include_outside)["funding_stream"]
    everyone = Filters(basis=filters.basis, include_awareness=filters.include_awareness,
                       course_type_ids=filters.course_type_ids, start_month=window.start_month,
                       end_month=window.end_month)
    reached_by_spend = _memo(("streams", everyone), lambda: kept_group_counts("funding_stream", everyone,
                                                                             include_outside=True))
    spend = _memo(("spend", window), lambda: kept_spend(window))
    table = Table("funding_stream",
                  _group_title("funding stream", filters, include_outside)
                  + ", spend and cost per person reached",
                  ["Funding stream", "People reached", "Spend known (£)", "Courses with no delivery cost recorded",
                   "Cost per person reached, everyone the spend reached (£)", "About the cost"],
                  note=" ".join((OUTSIDE_NOTE if include_outside else TARGET_RULE, FUNDING_RULE,
                                 *([AREA_SPEND_RULE] if filters.area is not None else []))))
    complete = True
    for value, label in STREAM_ROWS:
        reached = people.get(value, 0)
        money = spend.get(value, Spend())
        cost, about = _cost(value, reached_by_spend.get(value, 0), money)
        complete = complete and (cost is not None or (reached == 0 and money.uncosted == 0))
        table.rows.append([label, reached, money.pence / 100 if value else None,
                           money.uncosted if value else None, cost, about])
    reached_all = sum(people.values())
    by_spend_all = sum(reached_by_spend.values())
    pence_all = sum(m.pence for m in spend.values())
    total_cost = round(pence_all / 100 / by_spend_all, 2) if complete and by_spend_all and pence_all else None
    table.rows.append([_total_label(include_outside), reached_all, pence_all / 100,
                       sum(m.uncosted for m in spend.values()), total_cost,
                       "" if total_cost is not None else "Not known: some streams' spend is not known"])
    return table


def _cost(value: str, reached: int, money: Spend) -> tuple[float | None, str]:
    if not value:
        return None, "Not known: no course or order is recorded for these completions"
    if money.uncosted:
        return None, f"Not known: {money.uncosted:,} completed course(s) have no delivery cost recorded"
    if not reached:
        return None, "No one reached in these months"
    if not money.items:
        return None, "Not known: no spend recorded"
    return round(money.pence / 100 / reached, 2), "Spend ÷ people reached"


def suppress(counts: list[int]) -> list:
    """Primary (1 to 9) and secondary suppression of one table with its total shown."""
    hidden = [0 < n < SMALL for n in counts]
    if sum(hidden) == 1:
        candidates = [(n, i) for i, n in enumerate(counts) if not hidden[i] and n > 0]
        if candidates:
            hidden[min(candidates)[1]] = True
        else:
            zeros = [i for i, n in enumerate(counts) if not hidden[i]]
            if zeros:
                hidden[zeros[0]] = True
    return [FEWER_THAN_10 if hide and 0 < n < SMALL else ("hidden" if hide else n)
            for n, hide in zip(counts, hidden, strict=True)]


def latest_forecast() -> dict | None:
    """The latest forecast run's monthly bands (cumulative), when the forecast stored them."""
    run = db.session.scalar(sa.select(ForecastRun).order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc())
                            .limit(1))
    if run is None:
        return None
    bands = []
    for band in (run.summary or {}).get("bands") or []:
        try:
            month = str(band["month"])
            int(month[:4]), int(month[5:7])
            bands.append({"month": month[:7], **{k: float(band[k]) for k in
                                                  ("median", "lower_80", "upper_80", "lower_95", "upper_95")}})
        except (KeyError, TypeError, ValueError):
            continue
    return {"run": run, "bands": bands}


def series_table(series: list[dict]) -> Table:
    return Table("trajectory", "People counted toward the target, cumulative, against the required path",
                 ["Month", "Counted toward the target in month", "Counted toward the target (cumulative)",
                  "Required path (month end; the as-of date in its month)",
                  "Outside the target region, cumulative (not counted)"],
                 [[r["month"], r["reached"], r["cumulative"], r["required"], r["outside"]] for r in series],
                 note=TARGET_RULE)


def all_tables(filters: Filters, *, equality: bool = True, as_of: date | None = None,
               include_outside: bool = False) -> list[Table]:
    tables = [series_table(cumulative_series(filters, as_of)), area_table(filters, as_of),
              course_type_table(filters, as_of, include_outside=include_outside)]
    if equality:
        tables.append(group_table("sector", filters, as_of, include_outside=include_outside))
        tables.append(funding_table(filters, as_of, include_outside=include_outside))
        tables += [group_table(d, filters, as_of, include_outside=include_outside) for d in EQUALITY]
    return tables


def home_summary() -> dict:
    """The board's home-page panel: the same figures as the dashboard's headline."""
    figures = headline(Filters())
    return {"reached": figures.counted, "required_today": figures.required,
            "target_people": figures.target, "target_end": figures.end_on,
            "share_of_target": figures.share_of_target}
