"""The dashboard's figures, built only from the kept counts (see ``counts.py``).

Rules written here once, shown beside the figures:

- *Toward the target*: every person reached except those attributed (on the chosen basis) to an
  area outside the target region; "Unknown" counts toward the target and is shown as its own row.
- *Required path*: linear from 0 on the start date to the target on the end date.
- *Monthly rate needed*: people still to reach ÷ months left to the end date.
- *Actual rate*: people reached toward the target in the last 3 (12) complete months, per month.
- *Status*: green when reach is at or above the required path today; amber when within 10% below
  it, or when the last 3 months' rate is at least the rate needed; red otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import has_request_context, request

from mhfa.areas.models import AgeGroup, AreaPopulation, CouncilArea, EqualityPopulation
from mhfa.courses.models import CourseType, FundingStream
from mhfa.employers.models import Sector
from mhfa.extensions import db
from mhfa.forecast.models import ForecastRun
from mhfa.people.models import AgeBand, Disability, EthnicGroup, Sex
from mhfa.reach.counts import Filters, Spend, kept_all_group_counts, kept_counts, kept_month_area, kept_spend
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.reach.settings import current_settings, region_area_ids
from mhfa.timeutil import london_today

RAG_RULE = ("Green: at or above the required path today. Amber: less than 10% below it, or the last 3 months' "
            "rate is at least the monthly rate needed. Red: otherwise.")
TARGET_RULE = ("Counted toward the target: everyone reached except people attributed to an area outside the "
               "target region; people whose area is not known count and are shown as Unknown.")
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


def _memo(key, compute):
    """Within one request, each reference read and kept query runs once however many tables use it."""
    if not has_request_context():
        return compute()
    store = request.environ.setdefault("mhfa.reach.memo", {})
    if key not in store:
        store[key] = compute()
    return store[key]


def _settings():
    return _memo("settings", current_settings)


def _region() -> set[int]:
    return _memo("region", region_area_ids)


def month_area(filters: Filters) -> dict[tuple[int, int], int]:
    """(month, area) → people on the filters' basis, variant and course types, every month (memoised)."""
    key = ("month_area", filters.basis, filters.include_awareness, filters.course_type_ids)
    return _memo(key, lambda: kept_month_area(Filters(basis=filters.basis, include_awareness=filters.include_awareness,
                                                      course_type_ids=filters.course_type_ids)))


def _areas_between(filters: Filters, first: int | None, last: int | None) -> dict[int, int]:
    out: dict[int, int] = {}
    for (month, area), n in month_area(filters).items():
        if (first is None or month >= first) and (last is None or month <= last) and (
                filters.area is None or area == filters.area):
            out[area] = out.get(area, 0) + n
    return out


def areas_in_order() -> list[CouncilArea]:
    return _memo("areas", lambda: db.session.scalars(sa.select(CouncilArea).order_by(
        CouncilArea.in_target_region.desc(), CouncilArea.name)).all())


def course_types() -> list[CourseType]:
    return _memo("types", lambda: db.session.scalars(sa.select(CourseType).order_by(CourseType.name)).all())


def month_of(day: date) -> int:
    return day.year * 100 + day.month


def month_label(key: int) -> str:
    return f"{key // 100:04d}-{key % 100:02d}"


def add_months(key: int, n: int) -> int:
    index = (key // 100) * 12 + key % 100 - 1 + n
    return (index // 12) * 100 + index % 12 + 1


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


@dataclass
class Headline:
    reached: int
    reached_all: int
    target_people: int
    share_of_target: float
    share_of_time: float
    required_today: int
    rate_needed: float
    rate_3: float
    rate_12: float
    status: str
    as_of: date
    end_on: date
    start_on: date
    note: str


def _today(as_of: date | None) -> date:
    return as_of or london_today()


def headline(filters: Filters, as_of: date | None = None) -> Headline:
    """Reached to date, share of target and time, rates and the red/amber/green status."""
    settings = _settings()
    today = _today(as_of)
    current = month_of(today)
    end = min(current, filters.end_month or current)
    by_area = _areas_between(filters, None, end)
    region = _region()
    toward = sum(n for area, n in by_area.items() if area == UNKNOWN_AREA or area in region)
    monthly: dict[int, int] = {}
    for (month, area), n in month_area(filters).items():
        if month <= end and (area == UNKNOWN_AREA or area in region) and filters.area in (None, area):
            monthly[month] = monthly.get(month, 0) + n
    last_complete = add_months(current, -1)

    def rate(months: int) -> float:
        first = add_months(last_complete, -(months - 1))
        return sum(n for m, n in monthly.items() if first <= m <= last_complete) / months

    span = (settings.end_on - settings.start_on).days or 1
    elapsed = min(max((today - settings.start_on).days, 0), span)
    share_time = elapsed / span
    required = round(settings.target_people * share_time)
    months_left = max(1, (settings.end_on.year - today.year) * 12 + settings.end_on.month - today.month)
    rate_needed = max(0, settings.target_people - toward) / months_left
    rate_3, rate_12 = rate(3), rate(12)
    if toward >= required:
        status = "green"
    elif toward >= 0.9 * required or rate_3 >= rate_needed:
        status = "amber"
    else:
        status = "red"
    return Headline(
        reached=toward, reached_all=sum(by_area.values()), target_people=settings.target_people,
        share_of_target=toward / settings.target_people if settings.target_people else 0.0,
        share_of_time=share_time, required_today=required, rate_needed=rate_needed, rate_3=rate_3,
        rate_12=rate_12, status=status, as_of=today, end_on=settings.end_on, start_on=settings.start_on,
        note=settings.note,
    )


def cumulative_series(filters: Filters, as_of: date | None = None) -> list[dict]:
    """Month by month from the programme start: people reached that month, cumulative, and the required path.

    Counts everyone reached on the basis (or only the chosen area); the required path is the
    programme's (or the area's pro-rata share of it when an area is chosen).
    """
    settings = _settings()
    today = _today(as_of)
    first = month_of(settings.start_on)
    last = min(month_of(today), filters.end_month or month_of(today))
    monthly: dict[int, int] = {}
    for (month, area), n in month_area(filters).items():
        if month <= last and filters.area in (None, area):
            monthly[month] = monthly.get(month, 0) + n
    before = sum(n for m, n in monthly.items() if m < first)
    target = settings.target_people
    if filters.area is not None:
        target = pro_rata_targets().get(filters.area, 0)
    span = (settings.end_on - settings.start_on).days or 1
    rows, total = [], before
    for key in months_between(first, last):
        total += monthly.get(key, 0)
        month_end = date(key // 100 + (key % 100 == 12), key % 100 % 12 + 1, 1)
        share = min(max((month_end - settings.start_on).days, 0), span) / span
        rows.append({"month": month_label(key), "reached": monthly.get(key, 0), "cumulative": total,
                     "required": round(target * share)})
    return rows


def populations() -> dict[int, tuple[int, str]]:
    """Each area's latest population: aged 16+ where published for that year, else all ages (labelled)."""
    return _memo("populations", _populations)


def _populations() -> dict[int, tuple[int, str]]:
    rows = db.session.execute(sa.select(AreaPopulation.council_area_id, AreaPopulation.year,
                                        AreaPopulation.age_group, AreaPopulation.population)).all()
    best: dict[int, tuple] = {}
    for area_id, year, group, population in rows:
        rank = (year, group is AgeGroup.AGED_16_PLUS)
        if area_id not in best or rank > best[area_id][0]:
            label = f"{year}, {'16+' if group is AgeGroup.AGED_16_PLUS else 'all ages'}"
            best[area_id] = (rank, population, label)
    return {area_id: (value[1], value[2]) for area_id, value in best.items()}


def pro_rata_targets() -> dict[int, int]:
    """Each target-region area's share of the target, pro rata to its population."""
    settings = _settings()
    region = _region()
    pops = {a: p for a, (p, _label) in populations().items() if a in region}
    total = sum(pops.values())
    return {a: round(settings.target_people * p / total) for a, p in pops.items()} if total else {}


def area_table(filters: Filters, as_of: date | None = None) -> Table:
    today = _today(as_of)
    end = min(filters.end_month or month_of(today), month_of(today))
    in_range = _areas_between(filters, filters.start_month, end)
    to_date = _areas_between(filters, None, end)
    last_12 = _areas_between(filters, add_months(end, -11), end)
    prev_12 = _areas_between(filters, add_months(end, -23), add_months(end, -12))
    areas = areas_in_order()
    pops, targets = populations(), pro_rata_targets()
    table = Table("areas", "People reached by council area", [
        "Council area", "GSS code", "In target region", "Reached in period", "Reached to date", "Population",
        "Population (year, ages)", "Per 1,000 residents", "Pro-rata target", "Share of pro-rata target",
        "Last 12 months", "Trend (last 12 vs previous 12 months)"],
        note="Areas outside the target region are shown but do not count toward the regional target. " + TARGET_RULE)
    keys = [(a.id, a.name, a.gss_code, a.in_target_region) for a in areas] + [(UNKNOWN_AREA, "Unknown", "", "")]
    for key, name, code, in_region in keys:
        if filters.area is not None and key != filters.area:
            continue
        reached, to_date_n = in_range.get(key, 0), to_date.get(key, 0)
        population, pop_label = pops.get(key, (None, ""))
        target = targets.get(key)
        recent, earlier = last_12.get(key, 0), prev_12.get(key, 0)
        trend = "up" if recent > earlier else "down" if recent < earlier else "level"
        table.rows.append([
            name, code, "" if key == UNKNOWN_AREA else ("yes" if in_region else "no"), reached, to_date_n,
            population, pop_label, round(1000 * to_date_n / population, 2) if population else None,
            target, round(to_date_n / target, 4) if target else None, recent, trend,
        ])
    return table


def course_type_table(filters: Filters, as_of: date | None = None) -> Table:
    end = min(filters.end_month or month_of(_today(as_of)), month_of(_today(as_of)))
    counts = kept_counts("course_type", filters.with_months(filters.start_month, end))
    types = course_types()
    table = Table("course_types", "People reached by the course that first reached them",
                  ["Course type", "Code", "Counts toward target", "Awareness course", "People reached"])
    for kind in types:
        if filters.course_type_ids is not None and kind.id not in filters.course_type_ids:
            continue
        table.rows.append([kind.name, kind.code, "yes" if kind.counts_toward_target else "no",
                           "yes" if kind.is_awareness else "no", counts.get(kind.id, 0)])
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


def _window(filters: Filters, as_of: date | None) -> Filters:
    end = min(filters.end_month or month_of(_today(as_of)), month_of(_today(as_of)))
    return filters.with_months(filters.start_month, end)


def _group_counts(filters: Filters, as_of: date | None) -> dict[str, dict[str, int]]:
    window = _window(filters, as_of)
    return _memo(("groups", window), lambda: kept_all_group_counts(window))


def group_table(dimension: str, filters: Filters, as_of: date | None = None) -> Table:
    """People reached by sector or an equality group (all areas); equality tables are suppressed and set
    against the population where a published figure is known."""
    counts = _group_counts(filters, as_of)[dimension]
    heading, labels = GROUP_LABELS[dimension]
    unknown = "Not known (no employer)" if dimension == "sector" else "Not answered"
    values = [(v, labels[v], counts.get(v, 0)) for v in labels] + [("", unknown, counts.get("", 0))]
    total = sum(n for _v, _label, n in values)
    if dimension not in EQUALITY:
        table = Table(dimension, f"People reached by {heading.lower()} (all areas, every basis)",
                      [heading, "People reached"], [[label, n] for _v, label, n in values])
        table.rows.append(["Total", total])
        return table
    cells = suppress([n for _v, _label, n in values])
    answered = [i for i, (v, _label, _n) in enumerate(values) if v and v != "prefer-not-to-say"]
    shares = reached_shares([n for _v, _label, n in values], cells, answered)
    population = population_shares(dimension)
    source = population_source(dimension)
    table = Table(dimension, f"People reached by {heading.lower()} (all areas, every basis)",
                  [heading, "People reached", "Share of those who answered (%)",
                   "Population share, aged 16+ (%)"],
                  note=" ".join((SUPPRESSION_RULE, SHARE_RULE, source)))
    for i, (value, label, _n) in enumerate(values):
        known = i in answered
        pop = (population.get(value, 0.0) if population is not None else NOT_KNOWN) if known else ""
        table.rows.append([label, cells[i], shares[i] if known else "", pop])
    table.rows.append(["Total", total, "", ""])
    return table


def reached_shares(counts: list[int], cells: list, answered: list[int]) -> list:
    """Each answered cell's share (%) of the people who answered, or "hidden" where shares would give a
    hidden count away: visible shares reveal the answered total, so they are shown only when neither the
    answered cells nor the others hold exactly one hidden cell (else that cell is a subtraction away)."""
    hidden = [not isinstance(cell, int) for cell in cells]
    others = [i for i in range(len(counts)) if i not in answered]
    base = sum(counts[i] for i in answered)
    if sum(hidden[i] for i in answered) == 1 or sum(hidden[i] for i in others) == 1:
        return ["hidden" if i in answered else "" for i in range(len(counts))]
    return [("hidden" if hidden[i] else round(100 * counts[i] / base, 1)) if i in answered and base else
            (None if i in answered else "") for i in range(len(counts))]


def _region_equality_population() -> dict[str, tuple[int, dict[str, int], str]]:
    """dimension → (year, value → residents, source): the latest year with a figure for every target-region area."""
    region = _region()
    rows = db.session.execute(sa.select(EqualityPopulation.council_area_id, EqualityPopulation.dimension,
                                        EqualityPopulation.value, EqualityPopulation.year,
                                        EqualityPopulation.population, EqualityPopulation.source)).all()
    by_year: dict[tuple[str, int], dict] = {}
    for area_id, dimension, value, year, population, source in rows:
        if area_id not in region:
            continue
        entry = by_year.setdefault((dimension, year), {"areas": set(), "values": {}, "sources": set()})
        entry["areas"].add(area_id)
        entry["values"][value] = entry["values"].get(value, 0) + population
        entry["sources"].add(source)
    out: dict[str, tuple[int, dict[str, int], str]] = {}
    for (dimension, year), entry in sorted(by_year.items()):
        if region and entry["areas"] == region:
            out[dimension] = (year, entry["values"], "; ".join(sorted(entry["sources"])))
    return out


def region_equality_population() -> dict[str, tuple[int, dict[str, int], str]]:
    return _memo("equality_population", _region_equality_population)


def population_shares(dimension: str) -> dict[str, float] | None:
    """value → share (%) of the target region's residents aged 16+, or None when no figure is known."""
    known = region_equality_population().get(dimension)
    if known is None:
        return None
    total = sum(known[1].values())
    return {value: round(100 * n / total, 1) for value, n in known[1].items()} if total else None


def population_source(dimension: str) -> str:
    known = region_equality_population().get(dimension)
    if known is None:
        return ("Population share: not known (no published figure for every area of the target region is "
                "loaded).")
    return f"Population share: {known[2]}, {known[0]}, the target region's areas added together."


STREAM_ROWS = [(s.value, s.label) for s in FundingStream] + [("", "Not recorded (historical imports)")]


def funding_table(filters: Filters, as_of: date | None = None) -> Table:
    """People reached, spend and the cost per person reached by funding stream (all areas)."""
    window = _window(filters, as_of)
    people = _group_counts(filters, as_of)["funding_stream"]
    spend = _memo(("spend", window), lambda: kept_spend(window))
    table = Table("funding_stream",
                  "By funding stream: people reached, spend and cost per person reached (all areas, every basis)",
                  ["Funding stream", "People reached", "Spend known (£)", "Courses with no delivery cost recorded",
                   "Cost per person reached (£)", "About the cost"], note=FUNDING_RULE)
    complete = True
    for value, label in STREAM_ROWS:
        reached = people.get(value, 0)
        money = spend.get(value, Spend())
        cost, about = _cost(value, reached, money)
        complete = complete and (cost is not None or (reached == 0 and money.uncosted == 0))
        table.rows.append([label, reached, money.pence / 100 if value else None,
                           money.uncosted if value else None, cost, about])
    reached_all = sum(people.values())
    pence_all = sum(m.pence for m in spend.values())
    total_cost = round(pence_all / 100 / reached_all, 2) if complete and reached_all and pence_all else None
    table.rows.append(["Total", reached_all, pence_all / 100, sum(m.uncosted for m in spend.values()), total_cost,
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
    return Table("trajectory", "Cumulative people reached against the required path",
                 ["Month", "Reached in month", "Cumulative reached", "Required path"],
                 [[r["month"], r["reached"], r["cumulative"], r["required"]] for r in series])


def all_tables(filters: Filters, *, equality: bool = True, as_of: date | None = None) -> list[Table]:
    tables = [series_table(cumulative_series(filters, as_of)), area_table(filters, as_of),
              course_type_table(filters, as_of)]
    if equality:
        tables.append(group_table("sector", filters, as_of))
        tables.append(funding_table(filters, as_of))
        tables += [group_table(d, filters, as_of) for d in EQUALITY]
    return tables


def home_summary() -> dict:
    """The board's home-page panel: the same figures as the dashboard's headline."""
    figures = headline(Filters())
    return {"reached": figures.reached, "required_today": figures.required_today,
            "target_people": figures.target_people, "target_end": figures.end_on,
            "share_of_target": figures.share_of_target}
