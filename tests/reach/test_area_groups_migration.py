"""Migration 2026_12_07_99 fills the kept group rows per area from ``reach_first`` as the keeping computes them.

Both backends, on a database of the test's own migrated with rows in it (``fresh_database_url``)."""
from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa
from flask_migrate import upgrade

from mhfa.attendance.models import Completion, CompletionSource
from mhfa.employers.models import Sector
from mhfa.extensions import db
from mhfa.people.models import AgeBand, Sex
from mhfa.reach import keeping
from mhfa.reach.reached import FIRST_COLUMNS, area_group_t, first_reach_select, first_t
from tests import factories
from tests.test_migrations_status_index import fresh_database_url, migrating_app  # noqa: F401 (a fixture)

KEYS = ("include_awareness", "basis", "area", "dimension", "value", "month", "course_type_id")


def _rows(select) -> Counter:
    return Counter({(bool(row[0]), *row[1:-1]): row[-1] for row in db.session.execute(select) if row[-1]})


def test_the_migration_fills_the_rows_per_area_as_the_keeping_computes_them(fresh_database_url, tmp_path):  # noqa: F811
    with migrating_app(fresh_database_url, tmp_path):
        upgrade(revision="2026_12_07_98")
        db.session.info["reach_listener"] = False  # the table per area does not exist yet
        factories.load_reference()
        employer = factories.employer(sector=Sector.PRIVATE)
        places = [("Birmingham", "Coventry", None), (None, "Birmingham", "Shropshire"), ("Coventry", None, "Coventry")]
        for n in range(12):
            home, work, delivery = places[n % 3]
            person = factories.person(home_council_area=factories.area(home) if home else None,
                                      work_council_area=factories.area(work) if work else None,
                                      employer=employer if n % 2 else None, age_band=list(AgeBand)[n % 3],
                                      sex=list(Sex)[n % 2] if n % 4 else None)
            for code, day in (("AWARE", 1 + n), ("ADULT_2DAY", 20 - n)):
                db.session.add(Completion(person=person, course_type=factories.course_type(code),
                                          completed_on=date(2025, 1 + n % 5, day), source=CompletionSource.IMPORT,
                                          delivery_council_area_id=factories.area(delivery).id if delivery else None))
        db.session.flush()
        db.session.execute(first_t.insert().from_select(FIRST_COLUMNS, first_reach_select()))
        db.session.commit()

        upgrade()

        filled = _rows(sa.select(*(area_group_t.c[k] for k in KEYS), area_group_t.c.people))
        computed = keeping._group_contributions(sa.true(), by_area=True).subquery()
        assert filled and filled == _rows(sa.select(*(computed.c[k] for k in KEYS), computed.c.people))
        assert {key[1] for key in filled} == {"home", "work", "delivery"}
