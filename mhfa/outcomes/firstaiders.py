"""Current first aiders: people holding a certificate that is issued, not revoked and not expired, on a day, of a
course type that is not an awareness course (an awareness course's certificate of attendance, which never
expires, makes no one a first aider).

Counted once per person (someone holding two current certificates is one first aider), by the council
area of their record (where they live, or with the work basis where they work; "Unknown" when not
recorded), per 1,000 of the area's latest published population aged 16 and over (all ages where 16+ is
not published for that year: each row says which), and as "1 in N". The trend: the same count at the
end of each month (a certificate revoked later was current then).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from mhfa.certificates.models import Certificate, makes_a_first_aider
from mhfa.extensions import db
from mhfa.outcomes import keeping
from mhfa.outcomes.models import FirstAiderDay, FirstAiderMonth, FirstAiderSpanMonth
from mhfa.people.models import Person
from mhfa.reach.dashboard import add_months, areas_in_order, month_of, populations
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.timeutil import LONDON, london_today


def _cutoff(day: date) -> datetime:
    """The first moment after the London day ``day``, as stored (naive UTC)."""
    moment = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)
    return moment.astimezone(UTC).replace(tzinfo=None)


def current_on(day: date):
    """A condition on Certificate: issued by ``day``, not expired on it, not revoked by its end, not an awareness
    course's certificate of attendance."""
    return sa.and_(makes_a_first_aider(), Certificate.issued_on <= day,
                   sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= day),
                   Certificate.revoked_at.is_(None) if day >= london_today() else
                   sa.or_(Certificate.revoked_at.is_(None), Certificate.revoked_at >= _cutoff(day)))


def _area_column(basis: str):
    return Person.work_council_area_id if basis == "work" else Person.home_council_area_id


def current_by_area(day: date | None = None, basis: str = "home") -> dict[int, int]:
    """People holding a current certificate on ``day`` (today), by area key (UNKNOWN_AREA: not recorded)."""
    day = day or london_today()
    area = sa.func.coalesce(_area_column(basis), UNKNOWN_AREA)
    rows = db.session.execute(
        sa.select(area, sa.func.count(sa.distinct(Certificate.person_id)))
        .join(Person, Person.id == Certificate.person_id).where(current_on(day)).group_by(area)).all()
    return {int(key): int(n) for key, n in rows}


def current_total(day: date | None = None) -> int:
    day = day or london_today()
    return int(db.session.scalar(sa.select(sa.func.count(sa.distinct(Certificate.person_id)))
                                 .where(current_on(day))) or 0)


@dataclass
class AreaRow:
    key: int
    name: str
    gss_code: str
    in_target_region: bool | None
    current: int
    population: int | None
    population_label: str

    @property
    def per_1000(self) -> float | None:
        return round(1000 * self.current / self.population, 2) if self.population else None

    @property
    def one_in(self) -> int | None:
        return round(self.population / self.current) if self.population and self.current else None


def area_rows(day: date | None = None, basis: str = "home") -> list[AreaRow]:
    counts, pops = kept_current_by_area(day, basis), populations()
    rows = []
    for area in areas_in_order():
        population, label = pops.get(area.id, (None, ""))
        rows.append(AreaRow(area.id, area.name, area.gss_code, area.in_target_region, counts.get(area.id, 0),
                            population, label))
    rows.append(AreaRow(UNKNOWN_AREA, "Unknown", "", None, counts.get(UNKNOWN_AREA, 0), None, ""))
    return rows


def month_end(key: int) -> date:
    year, month = divmod(add_months(key, 1), 100)
    return date(year, month, 1) - timedelta(days=1)


def counted_trend(months: int = 24, today: date | None = None, area: int | None = None,
                  basis: str = "home") -> list[tuple[int, int]]:
    """(yyyymm, people holding a current certificate at the month's end; today for this month), oldest first,
    counted from the certificates.

    One query: the months are a small derived table joined to the certificates.
    """
    today = today or london_today()
    last = month_of(today)
    keys = [add_months(last, -i) for i in range(months - 1, -1, -1)]
    ends = {key: min(month_end(key), today) for key in keys}
    month_table = sa.union_all(*[
        sa.select(sa.literal(key).label("key"), sa.literal(end, sa.Date).label("day"),
                  sa.literal(_cutoff(end), sa.DateTime).label("cutoff"))
        for key, end in ends.items()]).subquery("months")
    condition = sa.and_(makes_a_first_aider(), Certificate.issued_on <= month_table.c.day,
                        sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= month_table.c.day),
                        sa.or_(Certificate.revoked_at.is_(None), Certificate.revoked_at >= month_table.c.cutoff))
    query = (sa.select(month_table.c.key, sa.func.count(sa.distinct(Certificate.person_id)))
             .select_from(month_table).join(Certificate, condition).group_by(month_table.c.key))
    if area is not None:
        column = _area_column(basis)
        query = query.join(Person, Person.id == Certificate.person_id).where(
            column.is_(None) if area == UNKNOWN_AREA else column == area)
    counts = {int(k): int(n) for k, n in db.session.execute(query).all()}
    return [(key, counts.get(key, 0)) for key in keys]


# --- kept (today) -----------------------------------------------------------------------------------------

def _kept_current(basis: str):
    """People current on the day ``day`` by area, from the kept counts: those whose latest expiry falls in a later
    month than ``this_month``, plus this month's from ``day`` on (the days before ``next_month``: an indexed range
    of at most a month's days by areas, whatever the number of people)."""
    m, d = FirstAiderMonth, FirstAiderDay
    later = sa.select(m.area.label("area"), m.people.label("people")).where(
        m.basis == basis, m.expiry_month > sa.bindparam("this_month", type_=sa.Integer))
    this = sa.select(d.area.label("area"), d.people.label("people")).where(
        d.basis == basis, d.expires_on >= sa.bindparam("day", type_=sa.Date),
        d.expires_on < sa.bindparam("next_month", type_=sa.Date))
    return sa.union_all(later, this).subquery("current")


@functools.cache
def _kept_current_statement(basis: str) -> sa.Select:
    """Today's current first aiders by area (:func:`_kept_current`), built once per basis."""
    both = _kept_current(basis)
    return sa.select(both.c.area, sa.func.sum(both.c.people)).group_by(both.c.area)


def _kept_params(day: date) -> dict:
    return {"day": day, "this_month": day.year * 100 + day.month,
            "next_month": date(day.year + day.month // 12, day.month % 12 + 1, 1)}


@functools.cache
def _kept_counts_statement(basis: str) -> sa.Select:
    both = _kept_current(basis)
    in_area = sa.case((both.c.area == sa.bindparam("aiders_area", type_=sa.Integer), both.c.people), else_=0)
    return sa.select(sa.func.sum(both.c.people).label("first_aiders"),
                     sa.func.sum(in_area).label("area_first_aiders"))


def kept_counts_statement(day: date, basis: str, area: int | None) -> tuple[sa.Select, dict]:
    """One row over the kept rows, and its parameters: today's current first aiders (``first_aiders``) and those
    of ``area`` on ``basis`` (``area_first_aiders``), for a caller that reads them with other figures at once."""
    return _kept_counts_statement("work" if basis == "work" else "home"), \
        {**_kept_params(day), "aiders_area": -1 if area is None else area}


def kept_current_by_area(day: date | None = None, basis: str = "home") -> dict[int, int]:
    """The same as :func:`current_by_area` for today or a later day, from the kept rows (``keeping.py``):
    people whose latest expiry falls after this month, plus this month's not yet expired on ``day``."""
    day = day or london_today()
    if day < london_today():
        return current_by_area(day, basis)  # a past day: a certificate revoked since was current then
    keeping.settled(db.session())
    counts = db.session.execute(_kept_current_statement("work" if basis == "work" else "home"), _kept_params(day))
    return {int(key): int(n) for key, n in counts if n}


def kept_current_total(day: date | None = None) -> int:
    """People holding a current certificate today, from the kept rows (each counted once, by home area)."""
    return sum(kept_current_by_area(day, "home").values())


def trend(months: int = 24, today: date | None = None, area: int | None = None,
          basis: str = "home") -> list[tuple[int, int]]:
    """The same as :func:`counted_trend` from the kept rows (``keeping.py``): at each earlier month's end the kept
    spans whose first month is that month or before and whose last month-end covered is that month or after
    (one query over ``first_aider_span_month``, the months a small derived table); this month, today's current
    first aiders (:func:`kept_current_by_area`)."""
    today = today or london_today()
    if today != london_today():
        return counted_trend(months, today, area, basis)
    keeping.settled(db.session())
    basis = "work" if basis == "work" else "home"
    last = month_of(today)
    keys = [add_months(last, -i) for i in range(months - 1, -1, -1)]
    earlier = keys[:-1]
    counts: dict[int, int] = {}
    if earlier:
        m = FirstAiderSpanMonth
        month_table = sa.union_all(*[sa.select(sa.literal(key).label("key")) for key in earlier]).subquery("months")
        query = (sa.select(month_table.c.key, sa.func.sum(m.people)).select_from(month_table)
                 .join(m, sa.and_(m.from_month <= month_table.c.key, m.to_month >= month_table.c.key))
                 .where(m.basis == basis).group_by(month_table.c.key))
        if area is not None:
            query = query.where(m.area == area)
        counts = {int(k): int(n or 0) for k, n in db.session.execute(query)}
    now = kept_current_by_area(today, basis)
    counts[last] = now.get(area, 0) if area is not None else sum(now.values())
    return [(key, counts.get(key, 0)) for key in keys]
