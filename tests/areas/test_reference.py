"""Reference data: council areas with populations and the MHFA course catalogue."""
import pytest
import sqlalchemy as sa

from mhfa.areas.models import AreaPopulation, CouncilArea
from mhfa.areas.services import find_area, latest_populations
from mhfa.courses.models import CourseType
from mhfa.extensions import db

pytestmark = pytest.mark.usefixtures("app_ctx")


def test_load_reference_is_idempotent(runner):
    first = runner.invoke(args=["mhfa", "load-reference"])
    assert first.exit_code == 0
    assert "council areas added: 0" in first.output  # app_ctx loaded them already
    assert db.session.scalar(sa.select(sa.func.count(CouncilArea.id))) == 16
    assert db.session.scalar(sa.select(sa.func.count(CourseType.id))) == 6
    assert db.session.scalar(sa.select(sa.func.count(AreaPopulation.id))) == 7


def test_load_reference_into_an_empty_database_adds_everything(runner):
    for model in (AreaPopulation, CouncilArea):
        db.session.execute(sa.delete(model))
    db.session.execute(sa.text("DELETE FROM course_type_prerequisite"))
    db.session.execute(sa.delete(CourseType))
    db.session.commit()
    result = runner.invoke(args=["mhfa", "load-reference"])
    assert result.exit_code == 0, result.output
    assert "council areas added: 16, populations added: 7" in result.output
    assert "course types added: 6" in result.output


def test_target_region_is_the_seven_constituent_councils():
    region = db.session.scalars(sa.select(CouncilArea).where(CouncilArea.in_target_region)).all()
    assert sorted(a.name for a in region) == [
        "Birmingham", "Coventry", "Dudley", "Sandwell", "Solihull", "Walsall", "Wolverhampton"
    ]
    populations = latest_populations()
    assert sum(populations[a.id] for a in region) == 2_919_500


def test_areas_are_found_by_gss_code_or_name():
    assert find_area("E08000026").name == "Coventry"
    assert find_area("  coventry ").gss_code == "E08000026"
    assert find_area("Atlantis") is None


def test_course_catalogue_carries_the_mhfa_rules():
    by_code = {ct.code: ct for ct in db.session.scalars(sa.select(CourseType))}
    two_day = by_code["ADULT_2DAY"]
    assert (two_day.sessions_in_person, two_day.sessions_online, two_day.hours) == (2, 4, 14)
    assert two_day.max_learners == 16 and two_day.min_age == 16
    assert two_day.certificate_valid_years == 3 and two_day.counts_toward_target
    assert by_code["AWARE"].max_learners == 25 and by_code["AWARE"].certificate_valid_years is None
    refresher = by_code["REFRESHER"]
    assert not refresher.counts_toward_target and refresher.requires_prior_certificate
    assert {p.code for p in refresher.prerequisites} == {"ADULT_2DAY", "ADULT_CHAMPION", "YOUTH_2DAY", "YOUTH_CHAMPION"}
