"""The funnel from booked to certified, and current first aiders per 1,000 adults: each equals a bare count."""
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion
from mhfa.auth.models import Role
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates import services as certificates
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseStatus
from mhfa.extensions import db
from mhfa.outcomes import firstaiders, keeping
from mhfa.outcomes.funnel import funnel
from mhfa.reach.counts import Filters
from mhfa.reach.dashboard import month_of
from mhfa.timeutil import london_today, utcnow
from tests import factories
from tests.outcomes.helpers import completed_course

PRESENT, ABSENT = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT


def _bare_funnel(today: date) -> tuple[int, int, int, int, int]:
    """Read every place and decide each step in Python: the definition, written the plain way."""
    places = db.session.execute(sa.select(Booking.id).join(Course, Course.id == Booking.course_id).where(
        Booking.status == BookingStatus.CONFIRMED, Course.status.in_([CourseStatus.PUBLISHED, CourseStatus.COMPLETED]),
        Course.starts_at <= utcnow())).scalars().all()
    booked = attended = completed = certified = current = 0
    for booking_id in places:
        booked += 1
        marks = db.session.scalars(sa.select(AttendanceMark.status).where(AttendanceMark.booking_id == booking_id))
        attended += any(m is PRESENT for m in marks)
        completion = db.session.scalar(sa.select(Completion).where(Completion.booking_id == booking_id))
        if completion is None:
            continue
        completed += 1
        certs = db.session.scalars(sa.select(Certificate).where(Certificate.completion_id == completion.id)).all()
        certified += bool(certs)
        current += any(c.revoked_at is None and c.issued_on <= today and (c.expires_on is None or c.expires_on >= today)
                       for c in certs)
    return booked, attended, completed, certified, current


def test_the_funnel_counts_each_step_and_its_rates(app_ctx):
    # 4 booked: one never came, one came to the first session only, two completed; one certificate revoked.
    course, teacher, bookings = factories.taught_course(trainees=4)
    first, last = course.sessions[0], course.sessions[-1]
    marks = {first.id: [ABSENT, PRESENT, PRESENT, PRESENT], last.id: [ABSENT, ABSENT, PRESENT, PRESENT]}
    for session_id, statuses in marks.items():
        for booking, status in zip(bookings, statuses, strict=True):
            db.session.add(AttendanceMark(booking_id=booking.id, session_id=session_id, status=status))
    db.session.flush()
    done = certificates.complete_course_and_issue(course, teacher)
    certificates.revoke(done.certificates[0], "Issued in error", factories.user(Role.COORDINATOR))
    factories.course(start=None)  # a future course: not in the funnel yet
    db.session.commit()
    result = funnel(Filters())
    total = result.total
    assert (total.booked, total.attended, total.completed, total.certified, total.current) == (4, 3, 2, 2, 1)
    assert total.no_show_rate == 0.25 and total.completion_rate == round(2 / 3, 4)
    assert [(t.code, s.booked) for t, s in result.by_course_type] == [("ADULT_2DAY", 4)]
    assert result.by_month == [(month_of(london_today() - timedelta(days=3)), total)] or len(result.by_month) == 1
    assert (total.booked, total.attended, total.completed, total.certified, total.current) == _bare_funnel(
        london_today())


def test_the_funnel_follows_the_period_area_and_course_type(app_ctx):
    completed_course(trainees=2)
    completed_course(trainees=3, code="AWARE")
    this_month = month_of(london_today() - timedelta(days=3))
    assert funnel(Filters()).total.booked == 5
    assert funnel(Filters(include_awareness=False)).total.booked == 2
    assert funnel(Filters(start_month=this_month + 100)).total.booked == 0
    birmingham = factories.area("Birmingham").id
    assert funnel(Filters(basis="delivery", area=birmingham)).total.booked == 5  # the factory's venues
    assert funnel(Filters(basis="home", area=birmingham)).total.booked == 5  # the factory's trainees live there
    assert funnel(Filters(basis="home", area=factories.area("Coventry").id)).total.booked == 0
    assert funnel(Filters(basis="work", area=0)).total.booked == 5  # no workplace recorded: "unknown"


def test_current_first_aiders_count_people_once_by_where_they_live(app_ctx):
    birmingham, coventry = factories.area("Birmingham"), factories.area("Coventry")
    a = factories.person("Ann", home_council_area_id=birmingham.id)
    b = factories.person("Ben", home_council_area_id=coventry.id)
    c = factories.person("Cat", home_council_area=None)
    today = london_today()
    factories.certificate(a, issued_on=today - timedelta(days=100))
    factories.certificate(a, "AWARE", issued_on=today - timedelta(days=50), expires_on=None)  # still one person
    factories.certificate(b, issued_on=today - timedelta(days=2000))  # expired
    factories.certificate(c, issued_on=today - timedelta(days=10), revoked=True)
    db.session.commit()
    assert firstaiders.current_by_area() == {birmingham.id: 1}
    assert firstaiders.current_total() == 1
    rows = {r.key: r for r in firstaiders.area_rows()}
    row = rows[birmingham.id]
    assert row.current == 1 and row.population and row.per_1000 == round(1000 / row.population, 2)
    # The reference data publishes all-ages populations only (Census 2021); a 16+ figure is preferred when loaded.
    assert row.one_in == row.population and row.population_label == "2021, all ages"
    trend = dict(firstaiders.trend(24))
    assert trend[month_of(today)] == 1
    # The revoked certificate was current at the end of last month only if issued by then.
    issued_c = today - timedelta(days=10)
    last_month_end = firstaiders.month_end(month_of(today.replace(day=1) - timedelta(days=1)))
    expected = 1 + (issued_c <= last_month_end)
    expected_a = 1 if today - timedelta(days=100) <= last_month_end else 0
    assert trend[month_of(last_month_end)] == expected - 1 + expected_a


def _awareness_courses(*codes: str) -> None:
    """The programme settings, changed through the service: these course types, and only these, are awareness
    courses."""
    from mhfa.courses.models import CourseType
    from mhfa.reach.settings import SettingsChanges, current_settings, region_area_ids, update_settings

    settings = current_settings()
    types = db.session.scalars(sa.select(CourseType)).all()
    update_settings(SettingsChanges(
        settings.target_people, settings.start_on, settings.end_on, region_area_ids(),
        {t.id for t in types if t.counts_toward_target}, {t.id for t in types if t.code in codes}))


def _first_aiders_everywhere(employer) -> tuple:
    """Current first aiders counted every way: kept, counted from the rows, bare (Python), the employer's."""
    from mhfa.employers import coverage, summary
    from tests.outcomes import bare

    kept, counted = firstaiders.kept_current_by_area(), firstaiders.current_by_area()
    assert kept == {k: n for k, n in counted.items() if n} == bare.current_first_aiders()
    assert firstaiders.kept_current_total() == firstaiders.current_total() == sum(kept.values())
    assert firstaiders.trend(3) == firstaiders.counted_trend(3)
    rows = {row.id: row for row in summary.employer_rows()}
    staff = coverage.coverage(employer).certified
    assert coverage.first_aiders(employer).current == rows[employer.id].first_aiders == staff
    return sum(kept.values()), staff


def test_an_awareness_course_certificate_of_attendance_makes_no_first_aider(app_ctx):
    """Someone holding only an awareness course's certificate of attendance (which never expires) is not a
    current first aider, on the outcomes page or the organisation's; making the course an awareness course or
    no longer one moves every count at once."""
    from mhfa.employers.models import EmployerStatus

    acme = factories.employer("Acme", status=EmployerStatus.APPROVED)
    aware_only = factories.person("Ada")
    both = factories.person("Bo")
    today = london_today()
    factories.arranged_certificate(acme, aware_only, "AWARE", issued_on=today - timedelta(days=30))
    factories.arranged_certificate(acme, both, "ADULT_2DAY", issued_on=today - timedelta(days=60))
    factories.arranged_certificate(acme, both, "AWARE", issued_on=today - timedelta(days=20))
    factories.certificate(factories.person("Cy"), "AWARE", issued_on=today - timedelta(days=10))  # not staff
    db.session.commit()
    assert factories.course_type("AWARE").is_awareness
    assert _first_aiders_everywhere(acme) == (1, 1)

    _awareness_courses()  # no course type is an awareness course: every certificate counts
    db.session.commit()
    assert _first_aiders_everywhere(acme) == (3, 2)
    assert keeping.rebuild() == []
    db.session.rollback()

    _awareness_courses("AWARE", "ADULT_2DAY")  # now even the two-day course's certificate makes no first aider
    assert _first_aiders_everywhere(acme) == (0, 0)  # read inside the transaction: settled first
    db.session.commit()
    assert keeping.rebuild() == []
    db.session.rollback()


def test_a_certificate_moved_to_an_awareness_course_type_stops_counting(app_ctx):
    from mhfa.outcomes import keeping

    person = factories.person("Dee")
    certificate = factories.certificate(person, "ADULT_2DAY", issued_on=london_today() - timedelta(days=30))
    db.session.commit()
    assert firstaiders.kept_current_total() == firstaiders.current_total() == 1
    certificate.course_type = factories.course_type("AWARE")
    db.session.commit()
    assert firstaiders.kept_current_total() == firstaiders.current_total() == 0
    assert firstaiders.trend(2) == firstaiders.counted_trend(2)
    assert keeping.rebuild() == []
    db.session.rollback()


def test_a_rebuild_merges_each_persons_spans_whatever_the_range_of_people_it_reads_at_a_time(app_ctx, monkeypatch):
    """The refill reads the certificates a range of people at a time (memory bounded at any scale): every range
    size gives the spans kept as the certificates were issued, with one person's overlapping certificates
    merged into one stretch, and a person after a gap in the ids."""
    from mhfa.outcomes import keeping, kept_first_aiders

    today = london_today()
    ada, bo = factories.person("Ada"), factories.person("Bo")
    factories.certificate(ada, "ADULT_2DAY", issued_on=today - timedelta(days=1200))
    factories.certificate(ada, "ADULT_2DAY", issued_on=today - timedelta(days=400))
    factories.certificate(bo, "YOUTH_2DAY", issued_on=today - timedelta(days=90))
    for n in range(5):
        factories.person(f"Nobody{n}")  # ids between theirs with no certificate
    cy = factories.person("Cy")
    factories.certificate(cy, "ADULT_2DAY", issued_on=today - timedelta(days=30))
    db.session.commit()
    assert firstaiders.kept_current_total() == 3
    for size in (1, 2, 50_000):
        monkeypatch.setattr(kept_first_aiders, "REFILL_PEOPLE", size)
        assert keeping.rebuild() == [], size
        assert firstaiders.trend(48) == firstaiders.counted_trend(48), size
        db.session.rollback()


def test_a_place_booked_through_the_booking_service_is_kept_in_the_funnel_at_once(app_ctx):
    """A booking is one ``INSERT … RETURNING`` (its values in the statement): the kept funnel still takes it in, a
    confirmed place and a waiting one alike, in the same transaction."""
    from mhfa.bookings import services as bookings
    from mhfa.outcomes import keeping
    from mhfa.outcomes.kept_tables import place_t

    course = factories.course(start=datetime.combine(london_today() + timedelta(days=20), time(9)), capacity=1)
    first, second = factories.person("Ola"), factories.person("Pat")
    db.session.commit()
    confirmed, waiting = bookings.book(first, course), bookings.book(second, course)
    db.session.commit()
    assert (confirmed.status, waiting.status) == (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(place_t)
                             .where(place_t.c.booking_id == confirmed.id)) == 1
    assert keeping.rebuild() == []
    db.session.rollback()


def test_a_rebuild_without_comparing_mends_the_kept_figures_and_reports_nothing(app_ctx):
    birmingham = factories.area("Birmingham")
    factories.certificate(factories.person("Ann", home_council_area_id=birmingham.id),
                          issued_on=london_today() - timedelta(days=100))
    db.session.commit()
    assert firstaiders.kept_current_by_area() == {birmingham.id: 1}
    db.session.execute(sa.text("UPDATE first_aider_month SET people = people + 5"))
    assert firstaiders.kept_current_by_area() == {birmingham.id: 6}
    assert keeping.rebuild(compare=False) == []
    assert firstaiders.kept_current_by_area() == {birmingham.id: 1}
    assert keeping.rebuild() == []
