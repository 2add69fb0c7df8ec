"""The demo history streamed in cohorts: numbered as one history, and true to the programme's rules throughout."""
import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.bookings import seats
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseType, Instructor
from mhfa.demo import services as demo
from mhfa.extensions import db
from mhfa.outcomes.models import OutcomeInvite
from mhfa.people.models import Person
from tests.demo import test_demo

PEOPLE, COHORT = 2400, 800


def test_people_are_split_into_as_few_nearly_equal_cohorts_as_the_cap_allows():
    assert demo.cohort_sizes(400, 200_000) == [400]
    assert demo.cohort_sizes(1_000_000, 200_000) == [200_000] * 5
    assert demo.cohort_sizes(1_000_001, 200_000) == [166_667] * 5 + [166_666]
    assert sum(demo.cohort_sizes(5_000_000, 200_000)) == 5_000_000


def _schema() -> list:
    """Every constraint and index definition (PostgreSQL's catalogue; SQLite's schema as written)."""
    if db.session.connection().dialect.name == "postgresql":
        return db.session.execute(sa.text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace UNION ALL "
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2, 3")).all()
    return db.session.execute(sa.text("SELECT name, sql FROM sqlite_master ORDER BY name")).all()


def test_a_history_written_a_cohort_at_a_time_is_one_history(app_ctx, monkeypatch):
    monkeypatch.setattr(demo, "COHORT_PEOPLE", COHORT)
    monkeypatch.setattr(demo, "SET_ASIDE_FROM_PEOPLE", 0)  # as a large history is loaded
    schema = _schema()
    summary = demo.generate(people=PEOPLE, seed=11, today=test_demo.TODAY)
    db.session.commit()
    assert summary.counts["people"] == PEOPLE
    # The foreign keys and indexes set aside for the load are back as they were, and hold.
    assert _schema() == schema
    # The seats taken the database kept as each cohort's bookings were copied equal a fresh count.
    assert seats.recount() == []

    def count(column, *where):
        return db.session.scalar(sa.select(sa.func.count(sa.distinct(column))).where(*where))

    # Ids run on from one cohort to the next: each table numbered 1..n, as one build would number it.
    for model in (Person, Course, Booking, Completion, Certificate, Instructor, OutcomeInvite):
        assert db.session.scalar(sa.select(sa.func.max(model.id))) == count(model.id), model.__name__
    # Every cohort has its people booked, its own instructors teaching, and its certificates renewed.
    people = sorted(db.session.scalars(sa.select(Booking.person_id).distinct()))
    assert people[0] <= COHORT < people[len(people) // 2] and people[-1] > 2 * COHORT
    assert count(Instructor.id) >= 3 * 10
    refresher = db.session.scalar(sa.select(CourseType.id).where(CourseType.code == "REFRESHER"))
    refreshed = db.session.execute(sa.select(Certificate.person_id, Certificate.refreshes_id)
                                   .where(Certificate.course_type_id == refresher)).all()
    assert refreshed and all(target is not None for _, target in refreshed)
    assert max(person for person, _ in refreshed) > 2 * COHORT
    assert all(db.session.get(Certificate, target).person_id == person for person, target in refreshed)
    # Every course completion is invited to evaluate it, whichever cohort it belongs to.
    assert count(OutcomeInvite.completion_id) == count(Completion.id, Completion.course_id.is_not(None))
    # The programme's rules hold across the whole history, as they do for one built at once.
    test_demo.test_capacity_is_never_exceeded_and_nobody_is_booked_twice_at_once(None)
    test_demo.test_instructors_are_licensed_and_never_teach_two_courses_at_once(None)
    test_demo.test_completion_needs_every_session_and_no_shows_are_five_to_ten_percent(None)
    test_demo.test_nothing_in_the_demo_history_is_dated_after_today(None)
    test_demo.test_demo_invoices_are_numbered_like_new_ones(None)
    # The no-shows' non-completions (written a window of bookings at a time) name the sessions they missed.
    from mhfa.attendance.models import NonCompletion

    missed = db.session.scalars(sa.select(NonCompletion)).all()
    assert missed and all(n.missed_session_ids for n in missed)
    assert max(n.person_id for n in missed) > 2 * COHORT
