"""Each course's kept seats taken (``Course.seats_taken``, moved by the database's triggers) equals a bare count of its
bookings after every way a place is taken or freed, whoever writes it; the finder's "free places" reads it, and
``rebuild-reach`` finds and corrects a course whose count has drifted. Both backends."""
from datetime import datetime, timedelta

import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.bookings import offers, seats, services, transfers
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.cli import mhfa_cli
from mhfa.courses.listings import FinderFilters, find_courses
from mhfa.courses.models import Course
from mhfa.extensions import db
from mhfa.timeutil import utcnow
from tests import factories


def trainee():
    return factories.user(Role.TRAINEE)


def days_ahead(days: int) -> datetime:
    return datetime.combine(datetime.now().date() + timedelta(days=days), datetime.min.time()).replace(hour=9)


def kept(*courses: Course) -> list[int]:
    """Each course's kept count, read afresh from the database (the column is not loaded with a course)."""
    db.session.flush()
    return [db.session.scalar(sa.select(Course.seats_taken).where(Course.id == c.id)) for c in courses]


def counted(*courses: Course) -> list[int]:
    return [offers.seats_taken(c) for c in courses]


def test_booking_the_waiting_list_an_offer_and_its_expiry_each_keep_the_count_exact(app_ctx):
    course = factories.course(start=days_ahead(5), capacity=2)
    holders = [trainee() for _ in range(2)]
    held = [services.book_for_user(user, course) for user in holders]
    waiting = [services.book_for_user(trainee(), course) for _ in range(2)]
    db.session.commit()
    assert kept(course) == counted(course) == [2]
    assert all(b.status is BookingStatus.WAITLISTED for b in waiting)

    services.cancel_booking(held[0], by=holders[0])  # five days away: the seat is offered, and held for the offer
    db.session.commit()
    assert offers.holds_offer(waiting[0])
    assert kept(course) == counted(course) == [2]

    offers.expire_offers_of(course, waiting[0].offer_expires_at + timedelta(minutes=1))  # passed to the next
    db.session.commit()
    assert waiting[0].status is BookingStatus.CANCELLED and offers.holds_offer(waiting[1])
    assert kept(course) == counted(course) == [2]

    offers.answer_offer(waiting[1], accept=False)
    db.session.commit()
    assert kept(course) == counted(course) == [1]


def test_moving_a_place_frees_the_old_seat_and_takes_the_new_one(app_ctx):
    old = factories.course(start=days_ahead(14), capacity=2)
    new = factories.course(start=days_ahead(28), capacity=2)
    user = trainee()
    booking = services.book_for_user(user, old)
    db.session.commit()
    transfers.transfer_booking(booking, new, by=user)
    db.session.commit()
    assert kept(old, new) == counted(old, new) == [0, 1]


def test_rows_written_in_bulk_by_sql_move_the_count_too(app_ctx):
    course = factories.course(start=days_ahead(10), capacity=20)
    people = [factories.person() for _ in range(5)]
    statuses = [BookingStatus.CONFIRMED] * 3 + [BookingStatus.WAITLISTED] * 2
    db.session.execute(sa.insert(Booking), [
        {"course_id": course.id, "person_id": p.id, "status": status, "created_at": utcnow(),
         "offer_expires_at": utcnow() + timedelta(days=1) if i == 3 else None}
        for i, (p, status) in enumerate(zip(people, statuses, strict=True))])
    assert kept(course) == counted(course) == [4]  # three confirmed and one holding an offer; one only waiting
    db.session.execute(sa.update(Booking).where(Booking.course_id == course.id, Booking.offer_expires_at.is_not(None))
                       .values(offer_expires_at=None))
    assert kept(course) == counted(course) == [3]
    confirmed = sa.and_(Booking.course_id == course.id, Booking.status == BookingStatus.CONFIRMED)
    db.session.execute(sa.delete(Booking).where(confirmed, Booking.person_id != people[0].id))
    assert kept(course) == counted(course) == [1]


def test_the_finder_leaves_out_full_courses_when_asked_for_free_places(app_ctx):
    full = factories.course(start=days_ahead(20), capacity=1)
    held_by_offer = factories.course(start=days_ahead(21), capacity=1)
    free = factories.course(start=days_ahead(22), capacity=2)
    factories.booking_on(full)
    factories.booking_on(held_by_offer, status=BookingStatus.WAITLISTED, offer_expires_at=utcnow() + timedelta(days=1))
    factories.booking_on(free)
    db.session.commit()
    shown = {listing.course.id for listing in find_courses(FinderFilters(free_places=True)).items}
    everything = {listing.course.id for listing in find_courses(FinderFilters()).items}
    assert shown == {free.id} and everything == {full.id, held_by_offer.id, free.id}


def test_rebuild_reach_finds_and_corrects_a_drifted_count(app):
    with app.app_context():
        course = factories.course(start=days_ahead(9), capacity=3)
        factories.booking_on(course)
        db.session.execute(sa.update(Course).where(Course.id == course.id).values(seats_taken=3))
        db.session.commit()
        course_id = course.id
    runner = app.test_cli_runner()
    checked = runner.invoke(mhfa_cli, ["rebuild-reach", "--check"])
    assert checked.exit_code == 1
    assert f"seats taken on course {course_id}: kept 3, counted 1" in checked.output
    with app.app_context():
        assert db.session.scalar(sa.select(Course.seats_taken).where(Course.id == course_id)) == 3  # only checked
    corrected = runner.invoke(mhfa_cli, ["rebuild-reach"])
    assert corrected.exit_code == 0 and "1 differences corrected" in corrected.output
    with app.app_context():
        assert db.session.scalar(sa.select(Course.seats_taken).where(Course.id == course_id)) == 1
        assert seats.recount() == []
        db.session.rollback()
