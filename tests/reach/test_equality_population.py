"""Equality tables against the population where a published figure is known (here: a fixture, not real figures)."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from mhfa.areas.models import EqualityPopulation
from mhfa.areas.services import EQUALITY_POPULATION_CSV, load_equality_populations
from mhfa.attendance.models import Completion
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.people.models import Sex
from mhfa.reach import dashboard
from mhfa.reach.counts import Filters
from tests import factories

REGION = ("E08000025", "E08000026", "E08000027", "E08000028", "E08000029", "E08000030", "E08000031")
FIXTURE_SOURCE = "Test fixture (not a published figure)"


def write_fixture(path, codes=REGION, female=600, male=400):
    lines = ["gss_code,dimension,value,year,population,source"]
    for code in codes:
        lines += [f"{code},sex,female,2021,{female},{FIXTURE_SOURCE}", f"{code},sex,male,2021,{male},{FIXTURE_SOURCE}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reach_people(female: int, male: int, unanswered: int = 0):
    for sex, n in ((Sex.FEMALE, female), (Sex.MALE, male), (None, unanswered)):
        for i in range(n):
            person = factories.person(f"{sex}{i}", sex=sex)
            db.session.add(Completion(person=person, course_type=factories.course_type(),
                                      completed_on=date(2024, 3, 5)))
    db.session.commit()


def rows_of(dimension):
    return {row[0]: row for row in dashboard.group_table(dimension, Filters(), as_of=date(2026, 12, 1)).rows}


def test_with_a_figure_for_every_region_area_the_population_share_stands_beside_the_reached_share(app_ctx, tmp_path):
    assert load_equality_populations(write_fixture(tmp_path / "pop.csv")) == {"equality population figures added": 14}
    assert load_equality_populations(write_fixture(tmp_path / "pop.csv"))["equality population figures added"] == 0
    reach_people(female=30, male=10, unanswered=12)
    rows = rows_of("sex")
    assert rows["Female"][1:] == [30, 75.0, 60.0]
    assert rows["Male"][1:] == [10, 25.0, 40.0]
    assert rows["Not answered"][1] == 12 and rows["Not answered"][2:] == ["", ""]
    table = dashboard.group_table("sex", Filters(), as_of=date(2026, 12, 1))
    assert f"Population share: {FIXTURE_SOURCE}, 2021" in table.note
    assert rows_of("age_band")["25 to 34"][3] == dashboard.NOT_KNOWN  # no age figures loaded


def test_a_share_is_not_known_unless_every_region_area_has_a_figure(app_ctx, tmp_path):
    load_equality_populations(write_fixture(tmp_path / "pop.csv", codes=REGION[:6]))
    reach_people(female=30, male=10)
    assert rows_of("sex")["Female"][3] == dashboard.NOT_KNOWN
    assert "not known" in dashboard.group_table("sex", Filters()).note


def test_shares_are_hidden_when_they_would_let_a_hidden_count_be_worked_out(app_ctx, tmp_path):
    load_equality_populations(write_fixture(tmp_path / "pop.csv"))
    reach_people(female=30, male=4, unanswered=12)  # one answered cell hidden: the shares would reveal it
    rows = rows_of("sex")
    assert rows["Male"][1] == dashboard.FEWER_THAN_10
    assert rows["Female"][1:3] == [30, "hidden"] and rows["Male"][2] == "hidden"
    assert rows["Female"][3] == 60.0  # the population share is public and stays


def test_a_bad_population_file_is_refused_whole_with_every_line_named(app_ctx, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("gss_code,dimension,value,year,population,source\n"
                    "E08000025,sex,female,2021,600,ONS\n"
                    "E99999999,sex,male,2021,400,ONS\n"
                    "E08000026,religion,none,2021,1,ONS\n"
                    "E08000026,sex,female,21,lots,\n", encoding="utf-8")
    with pytest.raises(DomainError) as refused:
        load_equality_populations(path)
    assert "line 3: unknown council area" in refused.value.message
    assert "line 4: dimension must be one of" in refused.value.message
    assert "line 5: year must be four digits" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EqualityPopulation)) == 0


def test_the_shipped_file_loads_cleanly_and_every_figure_names_its_source(app_ctx):
    load_equality_populations(EQUALITY_POPULATION_CSV)
    assert all(row.source.strip() for row in db.session.scalars(sa.select(EqualityPopulation)))
