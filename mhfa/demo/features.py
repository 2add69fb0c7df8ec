"""The demo history fills the tables behind the features a visitor can see, through the app's own services
where one exists: closed-course requests (one open, one scheduled), a credit note (an order cancelled),
certificate reissues, Workplace Wellbeing Commitment awards at every level (the demo employer's expiring
soon, one waiting for the programme team's check), instructors' development records and one instructor
at risk of lapsing, the non-completions of the history's no-shows, calendar feeds, and equality
population figures — illustrative ones, labelled so on every page that shows them, as no official
figures ship with the app (mhfa/areas/data/SOURCES.md)."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from mhfa.areas.models import AgeGroup, AreaPopulation, CouncilArea, EqualityPopulation
from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion, NonCompletion, NonCompletionReason
from mhfa.auth.models import Role, User
from mhfa.bookings import offers, transfers
from mhfa.bookings import services as bookings
from mhfa.bookings.models import Booking, BookingStatus, CourseInterest
from mhfa.certificates import services as certificates
from mhfa.certificates.models import Certificate
from mhfa.courses import feeds, standing
from mhfa.courses.models import Course, CourseSession, CourseStatus, CourseType, FeedKind, Instructor
from mhfa.employers import commitments, orders, requests
from mhfa.employers.awards import CommitmentLevel, WellbeingCommitment
from mhfa.employers.models import Employer, EmployerStatus, Order, OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.people.models import Person

ILLUSTRATIVE_SOURCE = ("Illustrative demo figures, not official statistics: no ONS figures ship with MHFA Reach "
                       "(load the Census 2021 tables to replace them)")
#: Illustrative shares of residents aged 16 and over, by equality group (not official figures).
ILLUSTRATIVE_SHARES = {
    "age_band": {"16-24": 0.15, "25-34": 0.18, "35-44": 0.16, "45-54": 0.16, "55-64": 0.15, "65+": 0.20},
    "sex": {"female": 0.51, "male": 0.49},
    "ethnic_group": {"asian": 0.15, "black": 0.05, "mixed": 0.03, "white": 0.74, "other": 0.03},
    "disability": {"yes": 0.19, "no": 0.81},
}


def fill_features(builder, logins: dict[str, str]) -> None:
    users = {role: db.session.scalar(sa.select(User).where(User.email == email)) for role, email in logins.items()}
    coordinator = users.get(Role.COORDINATOR.value)
    _non_completions()
    _equality_population()
    if coordinator is not None:
        _calendar_feeds(users)
        _closed_course_requests(builder, users.get(Role.EMPLOYER.value) or coordinator)
        _credit_note(builder, coordinator)
        _reissues(coordinator, builder.today)
        _commitments(builder, coordinator, users.get(Role.EMPLOYER.value))
        _instructor_standing(users.get(Role.INSTRUCTOR.value), builder.today)
        _transfers(users, coordinator, datetime.combine(builder.today, time(12), tzinfo=UTC))
        _waiting_list_seats(coordinator, datetime.combine(builder.today, time(12), tzinfo=UTC))
        _interest(users, datetime.combine(builder.today, time(12), tzinfo=UTC))
    db.session.flush()


def _non_completions(window: int = 100_000) -> None:
    """A confirmed booking on a completed course without a completion: the sessions it missed.

    Read and written ``window`` bookings at a time, so a history of millions never sits in memory whole."""
    last = db.session.scalar(sa.select(sa.func.max(Booking.id))) or 0
    for first in range(1, last + 1, window):
        _non_completions_of(Booking.id.between(first, first + window - 1))


def _non_completions_of(bookings) -> None:
    missing = db.session.execute(
        sa.select(Booking.id, Booking.course_id, Booking.person_id, Course.ends_at)
        .join(Course, Course.id == Booking.course_id)
        .where(bookings, Course.status == CourseStatus.COMPLETED, Booking.status == BookingStatus.CONFIRMED,
               ~sa.exists().where(Completion.booking_id == Booking.id),
               ~sa.exists().where(NonCompletion.booking_id == Booking.id))).all()
    if not missing:
        return
    sessions: dict[int, list[int]] = {}
    for course_id, session_id in db.session.execute(
            sa.select(CourseSession.course_id, CourseSession.id)
            .where(CourseSession.course_id.in_(sorted({m[1] for m in missing})))
            .order_by(CourseSession.starts_at, CourseSession.id)):
        sessions.setdefault(course_id, []).append(session_id)
    present = set(db.session.execute(
        sa.select(AttendanceMark.booking_id, AttendanceMark.session_id)
        .where(AttendanceMark.booking_id.in_([m[0] for m in missing]),
               AttendanceMark.status == AttendanceStatus.PRESENT)).all())
    rows = [{"booking_id": booking_id, "course_id": course_id, "person_id": person_id,
             "missed_session_ids": [s for s in sessions.get(course_id, []) if (booking_id, s) not in present],
             "recorded_at": ends_at} for booking_id, course_id, person_id, ends_at in missing]
    withdrew = None  # the first who came and then missed a session left part-way, with a reason
    for row in rows:
        every = len(row["missed_session_ids"]) == len(sessions.get(row["course_id"], []))
        row["reason"] = (NonCompletionReason.DID_NOT_ATTEND if every else NonCompletionReason.ABSENT_FROM_SESSION).value
        row["detail"] = None
        if withdrew is None and not every:
            mark = db.session.scalar(sa.select(AttendanceMark).where(
                AttendanceMark.booking_id == row["booking_id"],
                AttendanceMark.session_id == row["missed_session_ids"][0]))
            if mark is not None:
                mark.status, mark.reason = AttendanceStatus.WITHDREW, "Felt unwell and went home at lunchtime"
                row["reason"], row["detail"] = NonCompletionReason.WITHDREW.value, mark.reason
                withdrew = row
    db.session.execute(sa.insert(NonCompletion), rows)


def _equality_population() -> None:
    """Illustrative figures for every area of the target region, unless official ones are loaded."""
    if db.session.scalar(sa.select(sa.func.count(EqualityPopulation.id))):
        return
    latest, published = {}, set()
    for area_id, age_group, _year, population in db.session.execute(
            sa.select(AreaPopulation.council_area_id, AreaPopulation.age_group, AreaPopulation.year,
                      AreaPopulation.population)
            .join(CouncilArea, CouncilArea.id == AreaPopulation.council_area_id)
            .where(CouncilArea.in_target_region.is_(True)).order_by(AreaPopulation.year)):
        # Residents aged 16 and over: the published figure, else (illustratively) four in five of all ages.
        aged_16_plus = population if age_group is AgeGroup.AGED_16_PLUS else round(population * 0.8)
        if age_group is AgeGroup.AGED_16_PLUS or area_id not in published:  # the latest year, 16+ first
            latest[area_id] = aged_16_plus
            if age_group is AgeGroup.AGED_16_PLUS:
                published.add(area_id)
    for area_id, population in latest.items():
        for dimension, shares in ILLUSTRATIVE_SHARES.items():
            for value, share in shares.items():
                db.session.add(EqualityPopulation(council_area_id=area_id, dimension=dimension, value=value,
                                                  year=2021, population=round(population * share, -2),
                                                  source=ILLUSTRATIVE_SOURCE))


def _calendar_feeds(users: dict) -> None:
    for role, kind in ((Role.TRAINEE, FeedKind.TRAINEE), (Role.INSTRUCTOR, FeedKind.INSTRUCTOR)):
        if users.get(role.value) is not None:
            feeds.reset_feed(users[role.value], kind)
    area = db.session.scalar(sa.select(CouncilArea).where(CouncilArea.name == "Birmingham"))
    if area is not None and users.get(Role.COORDINATOR.value) is not None:
        feeds.reset_feed(users[Role.COORDINATOR.value], FeedKind.AREA, area)


def _closed_course_requests(builder, contact: User) -> None:
    """The demo employer's open request, and another organisation's request answered with its closed course."""
    top = db.session.get(Employer, builder.top_employer)
    aware = db.session.scalar(sa.select(CourseType).where(CourseType.code == "AWARE"))
    if top is not None and aware is not None:
        requests.request_closed_course(top, requests.RequestDetails(
            aware.id, "Any Tuesday or Wednesday next month", "Our head office, or online", 12,
            "Managers first, please."), by=contact)
    closed = db.session.scalar(
        sa.select(Course).where(Course.employer_id.is_not(None),
                                Course.status.in_([CourseStatus.DRAFT, CourseStatus.PUBLISHED]),
                                Course.starts_at > datetime.combine(builder.today, time(), tzinfo=UTC))
        .order_by(Course.starts_at).limit(1))
    if closed is None:  # no closed course ahead to answer it with: another organisation's request, declined
        other = db.session.scalar(sa.select(Employer).where(Employer.id != builder.top_employer).order_by(Employer.id))
        coordinator = db.session.scalar(sa.select(User).where(User.email.like("coordinator@%")))
        if other is not None and aware is not None and coordinator is not None:
            declined = requests.request_closed_course(other, requests.RequestDetails(
                aware.id, "The last week of August", "Our depot", 20, ""), by=contact)
            requests.decline_request(declined, by=coordinator)
        return
    staff_contact = db.session.scalar(sa.select(User).where(User.id == contact.id))
    request = requests.request_closed_course(closed.employer, requests.RequestDetails(
        closed.course_type_id, "Early in the new year", closed.venue.name if closed.venue else "Online", None, ""),
        by=staff_contact)
    coordinator = db.session.scalar(sa.select(User).where(User.email.like("coordinator@%")))
    try:
        requests.schedule_request(request, closed.id, by=coordinator or contact)
    except DomainError:
        db.session.delete(request)


def _credit_note(builder, coordinator: User) -> None:
    """An invoiced or paid order with places never given out, cancelled: its credit note."""
    order = db.session.scalar(
        sa.select(Order).where(Order.status.in_([OrderStatus.INVOICED, OrderStatus.PAID]),
                               Order.employer_id != builder.top_employer,
                               sa.exists().where(PlaceVoucher.order_id == Order.id,
                                                 PlaceVoucher.status == VoucherStatus.AVAILABLE))
        .order_by(Order.ordered_at.desc()).limit(1))
    if order is not None:
        orders.cancel_order(order, by=coordinator, reason="The organisation could not release the staff this year")


def _reissues(coordinator: User, today) -> None:
    """Two certificates reissued with the holder's name corrected (same number and link, next revision)."""
    found = db.session.scalars(
        sa.select(Certificate).where(Certificate.revoked_at.is_(None), Certificate.issued_on >= today - timedelta(
            days=400)).order_by(Certificate.id).limit(2)).all()
    for certificate in found:
        person = certificate.person
        try:
            certificates.reissue(certificate, person.first_name, f"{person.last_name}-Smith",
                                 "Name corrected at the holder's request (double-barrelled surname)", coordinator)
        except DomainError:
            continue


#: Award levels handed out to the demo's organisations, in turn (the lower levels are the commoner).
_LEVELS = (CommitmentLevel.FOUNDATION, CommitmentLevel.BRONZE, CommitmentLevel.FOUNDATION, CommitmentLevel.SILVER,
           CommitmentLevel.BRONZE, CommitmentLevel.GOLD)


def _commitments(builder, coordinator: User, contact: User | None) -> None:
    """Awards at every level for about a third of the organisations (most listed publicly); the demo
    employer's own Silver award expires in about two months; one award waits for the programme team's check."""
    today = builder.today
    # Signatories first: most awards go to organisations that said they had signed.
    approved = db.session.scalars(
        sa.select(Employer).where(Employer.status == EmployerStatus.APPROVED, Employer.id != builder.top_employer)
        .order_by(Employer.wellbeing_commitment_signatory.desc(), Employer.id)).all()
    for n, employer in enumerate(approved[: max(len(_LEVELS), len(approved) // 3)]):
        awarded = today - timedelta(days=60 + (n * 97) % 900)
        try:
            commitments.record_commitment(employer, commitments.CommitmentDetails(
                _LEVELS[n % len(_LEVELS)], awarded, reference=f"TAW-{2000 + n}"), coordinator, verify=True)
            if n % 4 != 3:
                commitments.set_listing(employer, True, coordinator)
        except DomainError:
            continue
    top = db.session.get(Employer, builder.top_employer)
    if top is not None:
        commitments.record_commitment(top, commitments.CommitmentDetails(
            CommitmentLevel.SILVER, today - timedelta(days=3 * 365 - 65), reference="TAW-1001"), coordinator,
            verify=True)
        commitments.set_listing(top, True, contact or coordinator)
    waiting = db.session.scalar(
        sa.select(Employer).where(Employer.status == EmployerStatus.APPROVED, Employer.id != builder.top_employer,
                                  ~sa.exists().where(WellbeingCommitment.employer_id == Employer.id))
        .order_by(Employer.id.desc()).limit(1))
    if waiting is not None and contact is not None:
        commitments.record_commitment(waiting, commitments.CommitmentDetails(
            CommitmentLevel.BRONZE, today - timedelta(days=20), reference="TAW-3100"), contact, verify=False)


_DEVELOPMENT = (
    (20, "MHFA England instructor webinar: suicide prevention update", 1.5),
    (75, "Peer observation of an Adult MHFA course", 7),
    (160, "Supervision session with the MHFA England instructor team", 1),
    (300, "Safeguarding refresher (online)", 3),
)


def _instructor_standing(instructor_user: User | None, today) -> None:
    """The demo instructor's development records, and another active instructor at risk of lapsing (licence
    expiring in about ten weeks)."""
    mine = None
    if instructor_user is not None and instructor_user.person_id is not None:
        mine = db.session.scalar(sa.select(Instructor).where(Instructor.person_id == instructor_user.person_id))
    if mine is not None:
        for days_ago, activity, hours in _DEVELOPMENT:
            standing.add_development(mine, standing.DevelopmentDetails(today - timedelta(days=days_ago), activity,
                                                                       hours), instructor_user)
    lapsing = db.session.scalar(
        sa.select(Instructor).where(Instructor.active.is_(True), Instructor.id != (mine.id if mine else 0),
                                    Instructor.licence_expires_on > today).order_by(Instructor.id).limit(1))
    if lapsing is not None:
        lapsing.licence_expires_on = today + timedelta(days=70)
        standing.add_development(lapsing, standing.DevelopmentDetails(
            today - timedelta(days=200), "MHFA England instructor conference", 6), None)


def _transfers(users: dict, coordinator: User, now: datetime) -> None:
    """Two bookings moved to another date of the same course type by the programme team (audited); the course
    pages say "moved from another date"."""
    trainee = users.get(Role.TRAINEE.value)
    upcoming = (sa.select(Booking).join(Course, Course.id == Booking.course_id)
                .where(Booking.status == BookingStatus.CONFIRMED, Course.status == CourseStatus.PUBLISHED,
                       Course.starts_at > now + timedelta(days=7), Course.employer_id.is_(None))
                .order_by(Course.starts_at, Booking.id))
    if trainee is not None and trainee.person_id is not None:
        upcoming = upcoming.where(Booking.person_id != trainee.person_id)
    candidates = db.session.scalars(upcoming.limit(20)).all()
    moved = 0
    for booking in candidates:
        if moved == 2 or booking.status is not BookingStatus.CONFIRMED:
            continue
        for course in transfers.other_dates(booking, now):
            try:
                with db.session.begin_nested():
                    transfers.transfer_booking(booking, course, by=coordinator, override_cutoff=True, now=now)
            except DomainError:
                continue
            moved += 1
            break


def _waiting_list_seats(coordinator: User, now: datetime) -> None:
    """A seat freed on a full course within the offer window (offered to the first person waiting, for a limited
    time) and one freed further ahead (given at once, with the link to give it back)."""
    window = offers.offer_rules().window
    with_waiting = sa.exists().where(Booking.course_id == Course.id, Booking.status == BookingStatus.WAITLISTED)
    soon = (Course.starts_at > now, Course.starts_at <= now + window)
    later = (Course.starts_at > now + window,)
    has_seats = sa.exists().where(Booking.course_id == Course.id, Booking.status == BookingStatus.CONFIRMED)
    # Champion courses: a type the demo accounts' own bookings and the browser journeys leave alone, so filling
    # one to show its waiting list never fills a course someone is about to book.
    champion = sa.select(CourseType.id).where(CourseType.code == "ADULT_CHAMPION")
    open_to_all = sa.and_(Course.employer_id.is_(None), Course.course_type_id.in_(champion))
    for when in (soon, later):
        course = db.session.scalar(sa.select(Course).where(Course.status == CourseStatus.PUBLISHED, with_waiting,
                                                           open_to_all, *when).order_by(Course.starts_at).limit(1))
        if course is None:  # none full yet: the next course with places booked fills up, someone joins its list
            course = db.session.scalar(sa.select(Course).where(Course.status == CourseStatus.PUBLISHED, has_seats,
                                                               open_to_all, *when).order_by(Course.starts_at).limit(1))
            if course is None:
                continue
            booked = sa.select(Booking.person_id).where(Booking.course_id == course.id)
            waiting = db.session.scalar(sa.select(Person).where(Person.erased_at.is_(None), Person.id.not_in(booked),
                                                                Person.email.is_not(None))
                                        .order_by(Person.id).limit(1))
            if waiting is None:
                continue
            course.capacity = db.session.scalar(sa.select(sa.func.count()).where(
                Booking.course_id == course.id, Booking.status == BookingStatus.CONFIRMED))
            db.session.add(Booking(course=course, person=waiting, status=BookingStatus.WAITLISTED,
                                   created_at=now - timedelta(days=2), waitlisted_at=now - timedelta(days=2)))
            db.session.flush()
        seat = db.session.scalar(sa.select(Booking).where(Booking.course_id == course.id,
                                                          Booking.status == BookingStatus.CONFIRMED)
                                 .order_by(Booking.id.desc()).limit(1))
        if seat is None:
            continue
        try:
            with db.session.begin_nested():
                bookings.cancel_booking(seat, by=coordinator, reason="Unwell: cannot attend", override_cutoff=True,
                                        now=now)
        except DomainError:
            continue


def _interest(users: dict, now: datetime) -> None:
    """People waiting for a course without a date ("tell me when there's a course"), by area and course type,
    for the programme team's demand page: the demo trainee among them, and a few already told of a course."""
    areas = list(db.session.scalars(sa.select(CouncilArea.id).where(CouncilArea.in_target_region.is_(True))
                                    .order_by(CouncilArea.name)))
    kinds = list(db.session.scalars(sa.select(CourseType.id).order_by(CourseType.id)))
    people = list(db.session.scalars(sa.select(Person.id).where(Person.erased_at.is_(None)).order_by(Person.id)
                                     .limit(40)))
    trainee = users.get(Role.TRAINEE.value)
    if trainee is not None and trainee.person_id is not None:
        people.insert(0, trainee.person_id)
    if not areas or not kinds:
        return
    rows = []
    for n, person_id in enumerate(dict.fromkeys(people)):
        area = None if n % 5 == 4 else areas[(n * 3) % len(areas)]  # one in five: online
        told = n % 7 == 6
        rows.append({"person_id": person_id, "course_type_id": kinds[(n * 2) % min(len(kinds), 3)],
                     "council_area_id": area, "created_at": now - timedelta(days=3 + n),
                     "notified_at": now - timedelta(days=1) if told else None})
    db.session.execute(sa.insert(CourseInterest), rows)
