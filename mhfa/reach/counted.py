"""Counted toward the target: the one figure ever set against the target, computed here and only here.

*Counted toward the target* = people reached (on the chosen basis) in a council area of the target
region, plus people whose area is not known ("Unknown"). People attributed to an area outside the
region are shown beside it, labelled, and never added to it. Every page, download, API response and
the forecast's input series read the figure through this module (docs/architecture.md,
"Counted toward the target").

The position against the target (:func:`position`) is measured here too:

- *Target*: the programme settings' (from the database), or with an area chosen that area's share of
  it, pro rata to its population (aged 16+ where published). An area outside the region or "Unknown"
  has no share: no target, no status.
- *Required to date*: linear from 0 on the start date to the target on the end date, at the *as-of*
  date: today, or the end of the last month of a chosen period when that is earlier.
- *Rate needed*: people still to reach ÷ months left, the months measured in days (30.4375 days a
  month) from the as-of date to the end date; never by counting month boundaries.
- *Status*: green at or above the required path at the as-of date; amber less than 10% below it, or
  when the last 3 complete months' rate is at least the rate needed; red otherwise.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import has_request_context, request

from mhfa.areas.models import AgeGroup, AreaPopulation, CouncilArea, EqualityPopulation
from mhfa.extensions import db
from mhfa.reach.counts import Filters, kept_month_area
from mhfa.reach.models import UNKNOWN_AREA, ReachMonth
from mhfa.reach.settings import current_settings, region_area_ids
from mhfa.timeutil import london_today

DAYS_PER_MONTH = 30.4375
ANCHOR = "counted-toward-the-target"
RULE = ("Counted toward the target: people reached in the target region plus people whose area is not known. "
        "People reached in areas outside the region are shown beside it, labelled, and never added to it.")
STATUS_RULE = ("Green: at or above the required path on the date shown. Amber: less than 10% below it, or the "
               "last 3 complete months' rate is at least the monthly rate needed. Red: otherwise. The rate needed "
               "is the people still to reach divided by the months left, measured in days (30.4375 days a month).")


def memo(key, compute: Callable):
    """Within one request, each reference read and kept query runs once however many figures use it."""
    if not has_request_context():
        return compute()
    store = request.environ.setdefault("mhfa.reach.memo", {})
    if key not in store:
        store[key] = compute()
    return store[key]


def settings():
    return memo("settings", current_settings)


def region() -> set[int]:
    return memo("region", region_area_ids)


def is_counted(area: int, region_ids: set[int] | None = None) -> bool:
    """The rule: an area key counts toward the target when it is in the region or not known."""
    return area == UNKNOWN_AREA or area in (region() if region_ids is None else region_ids)


def counted_keys() -> frozenset[int]:
    return frozenset(region()) | {UNKNOWN_AREA}


def counted_sql(area_column) -> sa.ColumnElement[bool]:
    """The same rule in SQL, for an area-key column (0 = Unknown)."""
    in_region = sa.select(CouncilArea.id).where(CouncilArea.in_target_region.is_(True)).scalar_subquery()
    return sa.or_(area_column == UNKNOWN_AREA, area_column.in_(in_region))


def month_area(filters: Filters) -> dict[tuple[int, int], int]:
    """(month, area) → people on the filters' basis, variant and course types, every month (memoised)."""
    key = ("month_area", filters.basis, filters.include_awareness, filters.course_type_ids)
    return memo(key, lambda: kept_month_area(Filters(basis=filters.basis, include_awareness=filters.include_awareness,
                                                     course_type_ids=filters.course_type_ids)))


def monthly(filters: Filters, *, outside: bool = False) -> dict[int, int]:
    """month → people counted toward the target (or, ``outside``, people outside the region) under the
    filters' basis, variant, course types and area; every month (the period is the caller's)."""
    key = ("monthly", filters.basis, filters.include_awareness, filters.course_type_ids, filters.area)
    return memo(key, lambda: _monthly_both(filters))[1 if outside else 0]


def _monthly_both(filters: Filters) -> tuple[dict[int, int], dict[int, int]]:
    """month → people counted toward the target, and month → people outside the region, in one pass."""
    counted_keys_ = counted_keys()
    inside: dict[int, int] = {}
    outside: dict[int, int] = {}
    for (month, area), n in month_area(filters).items():
        if filters.area is not None and area != filters.area:
            continue
        out = inside if area in counted_keys_ else outside
        out[month] = out.get(month, 0) + n
    return inside, outside


def between(filters: Filters, first: int | None, last: int | None, *, outside: bool = False) -> int:
    return sum(n for m, n in monthly(filters, outside=outside).items()
               if (first is None or m >= first) and (last is None or m <= last))


# --- targets -------------------------------------------------------------------------------------

def populations() -> dict[int, tuple[int, str]]:
    """Each area's population for per-1,000 figures: aged 16 and over where the reference data has it (the
    latest such year), else all ages; the label says which ("2021, aged 16+" or "2021, all ages"), and when the
    16+ figure is the residents by age band added up, that it is, and whether those are illustrative."""
    out = {}
    sets, banded = memo("population_sets", _read_population_sets)
    for area, kinds in sets.items():
        kind = "16+" if "16+" in kinds else "all"
        year, population = kinds[kind]
        label = f"{year}, {'aged 16+' if kind == '16+' else 'all ages'}"
        out[area] = (population, label + _BANDED.get(banded.get(area, ""), "") if kind == "16+" else label)
    return out


_BANDED = {"official": " (age bands added up)", "illustrative": " (age bands added up; illustrative, not official)"}


def _population_sets() -> dict[int, dict[str, tuple[int, int]]]:
    return memo("population_sets", _read_population_sets)[0]


def _read_population_sets() -> tuple[dict[int, dict[str, tuple[int, int]]], dict[int, str]]:
    """(area → {"16+": (year, people), "all": (year, people)}, the latest year of each that is known; area →
    "official"/"illustrative" where the 16+ figure is residents by age band added up). Aged 16+ comes from the
    area populations, else from the residents aged 16+ by age band when loaded."""
    sets: dict[int, dict[str, tuple[int, int]]] = {}
    banded_sources: dict[int, str] = {}

    def keep(area: int, kind: str, year: int, population: int) -> bool:
        if kind not in sets.setdefault(area, {}) or year > sets[area][kind][0]:
            sets[area][kind] = (year, population)
            return True
        return False

    for area, year, group, population in db.session.execute(sa.select(
            AreaPopulation.council_area_id, AreaPopulation.year, AreaPopulation.age_group, AreaPopulation.population)):
        keep(area, "16+" if group is AgeGroup.AGED_16_PLUS else "all", year, population)
    published = {area for area, kinds in sets.items() if "16+" in kinds}
    e = EqualityPopulation
    banded = db.session.execute(sa.select(e.council_area_id, e.year, sa.func.sum(e.population), sa.func.max(e.source))
                                .where(e.dimension == "age_band").group_by(e.council_area_id, e.year)).all()
    for area, year, population, source in banded:
        if population and area not in published and keep(area, "16+", year, int(population)):
            banded_sources[area] = "illustrative" if "illustrative" in (source or "").lower() else "official"
    return sets, banded_sources


def pro_rata_targets() -> dict[int, int]:
    """Each target-region area's share of the target, pro rata to its population aged 16+ when every area of
    the region has that figure, else to all ages (the same kind for every area)."""
    region_ids = region()
    sets = {a: kinds for a, kinds in _population_sets().items() if a in region_ids}
    kind = "16+" if sets and all("16+" in kinds for kinds in sets.values()) else "all"
    pops = {a: kinds[kind][1] for a, kinds in sets.items() if kind in kinds}
    total = sum(pops.values())
    target = settings().target_people
    return {a: round(target * p / total) for a, p in pops.items()} if total else {}


def target_for(area: int | None) -> int | None:
    """The programme's target, or an area's pro-rata share (None: the area has no share)."""
    if area is None:
        return settings().target_people
    return pro_rata_targets().get(area)


def area_name(area: int | None) -> str | None:
    if area is None:
        return None
    if area == UNKNOWN_AREA:
        return "Unknown"
    return memo(("area_name", area), lambda: db.session.scalar(sa.select(CouncilArea.name)
                                                                .where(CouncilArea.id == area)))


# --- dates ---------------------------------------------------------------------------------------

def month_key(day: date) -> int:
    return day.year * 100 + day.month


def add_months(key: int, n: int) -> int:
    index = (key // 100) * 12 + key % 100 - 1 + n
    return (index // 12) * 100 + index % 12 + 1


def month_end(key: int) -> date:
    return date(key // 100 + (key % 100 == 12), key % 100 % 12 + 1, 1) - timedelta(days=1)


def as_of_for(filters: Filters, today: date | None = None) -> date:
    """The date figures are measured at: today, or the last day of a chosen period that ended earlier."""
    today = today or london_today()
    if filters.end_month is not None and month_end(filters.end_month) < today:
        return month_end(filters.end_month)
    return today


def required_at(day: date, target: int) -> int:
    """People needed by the end of ``day`` on the linear required path."""
    programme = settings()
    span = (programme.end_on - programme.start_on).days or 1
    elapsed = min(max((day - programme.start_on).days, 0), span)
    return round(target * elapsed / span)


def months_left(day: date) -> float:
    """Months from ``day`` to the end date, measured in days (30.4375 a month); 0 once it has passed."""
    return max((settings().end_on - day).days, 0) / DAYS_PER_MONTH


# --- the position ----------------------------------------------------------------------------------

@dataclass
class Position:
    """Where the programme (or one area) stands against its target at a date."""

    counted: int            # counted toward the target, cumulative to the as-of date
    outside: int            # people outside the region, cumulative to the as-of date (never in ``counted``)
    in_period: int          # counted people first reached in the chosen months (= counted with no start month)
    outside_in_period: int
    target: int | None      # None: the chosen area has no share of the target
    required: int | None
    rate_needed: float | None  # None: no target, or the end date has passed with people still to reach
    rate_3: float
    rate_12: float
    status: str             # green, amber, red; "none" without a target
    as_of: date
    start_on: date
    end_on: date
    share_of_time: float
    area: int | None
    area_name: str | None
    period: tuple[int | None, int | None]
    note: str

    @property
    def share_of_target(self) -> float:
        return self.counted / self.target if self.target else 0.0

    @property
    def gap(self) -> int | None:
        return None if self.required is None else self.counted - self.required


def position(filters: Filters, as_of: date | None = None) -> Position:
    """The counted figure and everything set against the target, under the filters, at the as-of date."""
    programme = settings()
    day = as_of_for(filters, as_of)
    last = month_key(day)
    counted_by_month, outside_by_month = monthly(filters), monthly(filters, outside=True)

    def total(by_month: dict[int, int], first: int | None) -> int:
        return sum(n for m, n in by_month.items() if m <= last and (first is None or m >= first))

    counted = total(counted_by_month, None)
    last_complete = add_months(last, -1) if day != month_end(last) else last

    def rate(months: int) -> float:
        first = add_months(last_complete, -(months - 1))
        return sum(n for m, n in counted_by_month.items() if first <= m <= last_complete) / months

    target = target_for(filters.area)
    span = (programme.end_on - programme.start_on).days or 1
    share_time = min(max((day - programme.start_on).days, 0), span) / span
    rate_3, rate_12 = rate(3), rate(12)
    required = rate_needed = None
    status = "none"
    if target is not None:
        required = required_at(day, target)
        still = max(0, target - counted)
        left = months_left(day)
        rate_needed = still / left if left > 0 else (0.0 if still == 0 else None)
        if counted >= required:
            status = "green"
        elif counted >= 0.9 * required or (rate_needed is not None and rate_3 >= rate_needed):
            status = "amber"
        else:
            status = "red"
    return Position(
        counted=counted, outside=total(outside_by_month, None),
        in_period=total(counted_by_month, filters.start_month),
        outside_in_period=total(outside_by_month, filters.start_month),
        target=target, required=required, rate_needed=rate_needed, rate_3=rate_3, rate_12=rate_12, status=status,
        as_of=day, start_on=programme.start_on, end_on=programme.end_on, share_of_time=share_time,
        area=filters.area, area_name=area_name(filters.area), period=(filters.start_month, filters.end_month),
        note=programme.note or "",
    )


# --- for the forecast ------------------------------------------------------------------------------

def home_month_area(through: int, connection=None) -> list[tuple[int, int, int]]:
    """(month yyyymm, area key, people) counted toward the target, by home area, awareness courses
    included, every counting course type, up to and including the month ``through``: the forecast's
    input series, from the kept figures (so it is the same number as the dashboard's)."""
    bind = connection if connection is not None else db.session
    t = ReachMonth
    query = (sa.select(t.month, t.area, sa.func.sum(t.people))
             .where(t.include_awareness.is_(True), t.basis == "home", t.month <= through, counted_sql(t.area))
             .group_by(t.month, t.area).order_by(t.month, t.area))
    return [(int(m), int(a), int(n)) for m, a, n in bind.execute(query) if n]
