"""Booking rules, the waiting list, cancellation and promotion, driven through the service."""
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.bookings import listings, services, vouchers
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.courses.models import CourseStatus
from mhfa.employers.models import OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.errors import Conflict, DomainError
from mhfa.extensions import db
from mhfa.flow import http_status
from mhfa.timeutil import LONDON, to_london, utcnow
from tests import factories


def trainee(**fields):
    return factories.user(Role.TRAINEE, **fields)


def snapshot():
    """Everything a booking can change: a refused booking must leave all of it as it was."""
    bookings = db.session.execute(sa.select(Booking.id, Booking.status, Booking.voucher_id).order_by(Booking.id)).all()
    vouchers = db.session.execute(sa.select(PlaceVoucher.id, PlaceVoucher.status).order_by(PlaceVoucher.id)).all()
    return bookings, vouchers


def refused(user, course, voucher_code=None):
    """Book and expect a refusal; roll back as the view does; return the error."""
    db.session.commit()
    before = snapshot()
    with pytest.raises(DomainError) as info:
        services.book_for_user(user, course, voucher=vouchers.typed_voucher(voucher_code))
    db.session.rollback()
    assert snapshot() == before
    return info.value


def test_a_free_seat_is_confirmed(app_ctx):
    course = factories.course(capacity=2)
    user = trainee()
    booking = services.book_for_user(user, course)
    db.session.commit()
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.confirmed_at is not None and booking.waitlisted_at is None
    assert booking.source is BookingSource.SELF and booking.booked_by_user_id == user.id
    assert services.places_left(course) == 1


def test_beyond_capacity_people_join_a_first_in_first_out_waiting_list(app_ctx):
    course = factories.course(capacity=1)
    first, second, third = trainee(), trainee(), trainee()
    assert services.book_for_user(first, course).status is BookingStatus.CONFIRMED
    waiting = [services.book_for_user(u, course) for u in (second, third)]
    db.session.commit()
    assert [b.status for b in waiting] == [BookingStatus.WAITLISTED] * 2
    assert [services.waiting_position(b) for b in waiting] == [1, 2]
    assert services.waiting_positions(waiting) == {waiting[0].id: 1, waiting[1].id: 2}
    assert services.confirmed_count(course) == 1


def test_age_rule_names_the_minimum_age(app_ctx):
    course = factories.course(start=datetime.combine(date.today() + timedelta(days=14), datetime.min.time()))
    first_day = course.starts_at.date()
    young = trainee(date_of_birth=first_day.replace(year=first_day.year - 16) + timedelta(days=1))
    error = refused(young, course)
    assert error.message == "this course is for people aged 16 and over"
    sixteen_today = trainee(date_of_birth=first_day.replace(year=first_day.year - 16))
    assert services.book_for_user(sixteen_today, course).status is BookingStatus.CONFIRMED


def test_without_a_date_of_birth_the_age_rule_asks_for_one(app_ctx):
    course = factories.course()
    error = refused(trainee(date_of_birth=None), course)
    assert "aged 16 and over" in error.message and "date of birth" in error.message


def test_refresher_needs_an_earlier_certificate_of_a_prerequisite_type(app_ctx):
    refresher = factories.course("REFRESHER")
    user = trainee()
    error = refused(user, refresher)
    assert error.message.startswith("this course is a refresher: it needs an earlier certificate from ")
    assert "Adult MHFA (two day)" in error.message
    factories.certificate(user.person, "AWARE")  # not a prerequisite
    factories.certificate(user.person, "ADULT_2DAY", revoked=True)  # revoked
    assert "refresher" in refused(user, refresher).message
    factories.certificate(user.person, "YOUTH_2DAY")
    assert services.book_for_user(user, refresher).status is BookingStatus.CONFIRMED


def test_one_live_booking_per_person_per_course(app_ctx):
    course = factories.course()
    user = trainee()
    services.book_for_user(user, course)
    error = refused(user, course)
    assert isinstance(error, services.AlreadyBooked) and http_status(error) == 409
    assert error.message == "you are already booked on this course"


def test_a_cancelled_booking_does_not_stop_booking_again(app_ctx):
    course = factories.course()
    user = trainee()
    booking = services.book_for_user(user, course)
    services.cancel_booking(booking, by=user)
    again = services.book_for_user(user, course)
    db.session.commit()
    assert again.id != booking.id and again.status is BookingStatus.CONFIRMED


def test_no_two_bookings_with_overlapping_sessions(app_ctx):
    day = date.today() + timedelta(days=20)
    morning = factories.course("AWARE", session_times=[(datetime.combine(day, datetime.min.time()).replace(hour=9),
                                                        datetime.combine(day, datetime.min.time()).replace(hour=13))])
    overlapping = factories.course("AWARE", session_times=[
        (datetime.combine(day, datetime.min.time()).replace(hour=12), datetime.combine(day, datetime.min.time())
         .replace(hour=16))])
    afternoon = factories.course("AWARE", session_times=[
        (datetime.combine(day, datetime.min.time()).replace(hour=13), datetime.combine(day, datetime.min.time())
         .replace(hour=17))])
    user = trainee()
    services.book_for_user(user, morning)
    error = refused(user, overlapping)
    assert error.message == "you are already booked on a course at that time" and http_status(error) == 409
    assert services.book_for_user(user, afternoon).status is BookingStatus.CONFIRMED  # back to back is fine


def test_a_waiting_list_place_also_blocks_an_overlapping_booking(app_ctx):
    full = factories.course(capacity=1)
    services.book_for_user(trainee(), full)
    user = trainee()
    assert services.book_for_user(user, full).status is BookingStatus.WAITLISTED
    same_time = factories.course(start=datetime.combine(full.starts_at.date(), datetime.min.time()).replace(hour=10))
    assert refused(user, same_time).message == "you are already booked on a course at that time"


def test_closed_course_needs_a_voucher_of_that_employer_for_that_course_type(app_ctx):
    employer = factories.employer("Sandwell Council")
    other = factories.employer("Another Employer")
    course = factories.course(employer_id=employer.id)
    user = trainee()
    error = refused(user, course)
    assert error.field == "voucher_code" and "only for staff of Sandwell Council" in error.message
    assert "not recognised" in refused(user, course, "no-such-code").message
    assert "another employer" in refused(user, course, factories.voucher(other).code).message
    assert "is for Mental Health Aware" in refused(user, course, factories.voucher(employer, "AWARE").code).message
    used = factories.voucher(employer, status=VoucherStatus.REDEEMED)
    assert refused(user, course, used.code).message == "that place voucher has already been used"
    cancelled_order = factories.voucher(employer, order_status=OrderStatus.CANCELLED)
    assert refused(user, course, cancelled_order.code).message == "that place voucher has been cancelled"
    someone_elses = factories.voucher(employer, status=VoucherStatus.ASSIGNED, assigned_to=factories.person())
    assert refused(user, course, someone_elses.code).message == "that place voucher has been given to someone else"

    voucher = factories.voucher(employer, status=VoucherStatus.ASSIGNED, assigned_to=user.person)
    booking = services.book_for_user(user, course, voucher=vouchers.typed_voucher(f"  {voucher.code} "))
    db.session.commit()
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.voucher_id == voucher.id and booking.source is BookingSource.EMPLOYER
    assert voucher.status is VoucherStatus.REDEEMED


def test_a_voucher_can_pay_for_a_place_on_an_open_course(app_ctx):
    course = factories.course()
    voucher = factories.voucher(factories.employer())
    user = trainee()
    booking = services.book_for_user(user, course, voucher=voucher)
    db.session.commit()
    assert booking.voucher_id == voucher.id and voucher.status is VoucherStatus.REDEEMED
    assert voucher.assigned_person_id == user.person_id


def test_bookings_close_at_the_deadline_or_when_the_course_starts(app_ctx):
    user = trainee()
    past_deadline = factories.course(booking_deadline=utcnow() - timedelta(minutes=1))
    assert refused(user, past_deadline).message.startswith("bookings for this course closed on ")
    started = factories.course(start=datetime.now() - timedelta(hours=1))
    assert refused(user, started).message.startswith("bookings for this course closed on ")
    open_deadline = factories.course(booking_deadline=utcnow() + timedelta(days=1))
    assert services.book_for_user(user, open_deadline).status is BookingStatus.CONFIRMED


def test_only_published_courses_can_be_booked(app_ctx):
    user = trainee()
    assert refused(user, factories.course(status=CourseStatus.DRAFT)).message == "this course is not open for booking"
    assert refused(user, factories.course(status=CourseStatus.CANCELLED)).message == "this course has been cancelled"


def test_an_unconfirmed_account_cannot_book(app_ctx):
    user = trainee(confirmed=False)
    assert refused(user, factories.course()).message.startswith("confirm your email address before you book")


def test_cancelling_a_seat_promotes_the_first_person_waiting_in_the_same_transaction(app_ctx):
    course = factories.course(capacity=1)
    holder, first, second = trainee(), trainee(), trainee()
    seat = services.book_for_user(holder, course)
    w1 = services.book_for_user(first, course)
    w2 = services.book_for_user(second, course)
    db.session.commit()
    promoted = services.cancel_booking(seat, by=holder)
    assert promoted == [w1]
    assert (seat.status, w1.status, w2.status) == (
        BookingStatus.CANCELLED, BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)
    db.session.rollback()  # the promotion lives and dies with the cancellation
    db.session.refresh(seat), db.session.refresh(w1)
    assert seat.status is BookingStatus.CONFIRMED and w1.status is BookingStatus.WAITLISTED
    services.cancel_booking(seat, by=holder)
    db.session.commit()
    assert w1.status is BookingStatus.CONFIRMED and w1.confirmed_at is not None
    assert services.waiting_position(w2) == 1
    assert services.confirmed_count(course) == 1


def test_leaving_the_waiting_list_promotes_nobody_and_moves_others_up(app_ctx):
    course = factories.course(capacity=1)
    services.book_for_user(trainee(), course)
    leaving, staying = trainee(), trainee()
    w1 = services.book_for_user(leaving, course)
    w2 = services.book_for_user(staying, course)
    assert services.cancel_booking(w1, by=leaving) == []
    db.session.commit()
    assert services.waiting_position(w2) == 1 and services.confirmed_count(course) == 1


def test_cancelling_after_the_cut_off_says_whom_to_contact(app_ctx):
    soon = factories.course(start=datetime.now() + timedelta(hours=30))  # default cut-off: 48 hours before
    user = trainee()
    booking = services.book_for_user(user, soon)
    db.session.commit()
    assert to_london(services.cancellation_cutoff(soon)) == to_london(soon.starts_at) - timedelta(days=2)
    assert not services.can_cancel_online(booking)
    with pytest.raises(Conflict) as info:
        services.cancel_booking(booking, by=user)
    db.session.rollback()
    assert "cancellation deadline" in info.value.message
    assert "contact the MHFA Reach programme team at" in info.value.message
    assert db.session.get(Booking, booking.id).status is BookingStatus.CONFIRMED


def test_the_course_cut_off_overrides_the_default(app_ctx):
    course = factories.course(start=datetime.now() + timedelta(hours=30),
                              cancellation_cutoff=utcnow() + timedelta(hours=12))
    user = trainee()
    booking = services.book_for_user(user, course)
    assert services.can_cancel_online(booking)
    services.cancel_booking(booking, by=user)
    assert booking.status is BookingStatus.CANCELLED


def test_a_waiting_list_place_can_be_left_after_the_cut_off(app_ctx):
    course = factories.course(capacity=1, start=datetime.now() + timedelta(hours=30))
    services.book_for_user(trainee(), course)
    user = trainee()
    waiting = services.book_for_user(user, course)
    services.cancel_booking(waiting, by=user)
    assert waiting.status is BookingStatus.CANCELLED


def test_a_cancellation_by_someone_else_is_audited_and_may_pass_the_cut_off(app_ctx):
    course = factories.course(start=datetime.now() + timedelta(hours=30))
    user = trainee()
    coordinator = factories.user(Role.COORDINATOR)
    booking = services.book_for_user(user, course)
    services.cancel_booking(booking, by=coordinator, reason="Moved to a closer venue", override_cutoff=True)
    db.session.commit()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "booking.cancelled"))
    assert event.actor_user_id == coordinator.id and event.entity_id == booking.id
    assert event.details["reason"] == "Moved to a closer venue" and event.details["was"] == "confirmed"


def test_cancelling_your_own_booking_is_not_audited(app_ctx):
    user = trainee()
    booking = services.book_for_user(user, factories.course())
    services.cancel_booking(booking, by=user)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "booking.cancelled")) == 0


def test_a_cancelled_voucher_place_gives_the_voucher_back(app_ctx):
    employer = factories.employer()
    course = factories.course(employer_id=employer.id)
    user = trainee()
    voucher = factories.voucher(employer)
    booking = services.book_for_user(user, course, voucher=voucher)
    services.cancel_booking(booking, by=user)
    db.session.commit()
    assert booking.voucher_id is None
    assert voucher.status is VoucherStatus.ASSIGNED and voucher.assigned_person_id == user.person_id
    again = services.book_for_user(user, course, voucher=voucher)
    db.session.commit()
    assert again.voucher_id == voucher.id


def test_a_booking_cannot_be_cancelled_twice(app_ctx):
    user = trainee()
    booking = services.book_for_user(user, factories.course())
    services.cancel_booking(booking, by=user)
    with pytest.raises(Conflict, match="already cancelled"):
        services.cancel_booking(booking, by=user)


def test_raising_capacity_fills_seats_from_the_waiting_list(app_ctx):
    course = factories.course(capacity=1)
    services.book_for_user(trainee(), course)
    waiting = [services.book_for_user(trainee(), course) for _ in range(3)]
    course.capacity = 3
    promoted = services.fill_from_waiting_list(course)
    db.session.commit()
    assert promoted == waiting[:2]
    assert waiting[2].status is BookingStatus.WAITLISTED and services.waiting_position(waiting[2]) == 1


def test_my_courses_sorts_upcoming_past_and_cancelled(app_ctx):
    user = trainee()
    upcoming = services.book_for_user(user, factories.course())
    past_course = factories.course(start=datetime.now() - timedelta(days=30))
    past = factories.booking_on(past_course, user.person)
    cancelled = services.book_for_user(user, factories.course(start=datetime.now() + timedelta(days=40)))
    services.cancel_booking(cancelled, by=user)
    cert = factories.certificate(user.person)
    db.session.commit()
    mine = listings.my_courses(user.person)
    assert mine.upcoming == [upcoming] and mine.past == [past] and mine.cancelled == [cancelled]
    assert mine.certificates == [cert]
    assert listings.my_courses(None).upcoming == []


def test_a_coordinator_raising_capacity_promotes_the_waiting_list(app_ctx):
    from mhfa.courses import scheduling

    course = factories.course(capacity=1)
    services.book_for_user(trainee(), course)
    first, second = (services.book_for_user(trainee(), course) for _ in range(2))
    db.session.commit()
    details = scheduling.CourseDetails.of(course)
    details.capacity = 2
    scheduling.update_course(course, details, factories.user(Role.COORDINATOR))
    db.session.commit()
    assert first.status is BookingStatus.CONFIRMED and second.status is BookingStatus.WAITLISTED
    assert services.waiting_position(second) == 1


def test_a_voucher_of_an_order_not_yet_confirmed_is_refused(app_ctx):
    employer = factories.employer()
    course = factories.course(employer_id=employer.id)
    user = trainee()
    pending = factories.voucher(employer, order_status=OrderStatus.PENDING)
    error = refused(user, course, pending.code)
    assert error.field == "voucher_code"
    assert error.message == "that place voucher cannot be used yet: your employer's order for it has not been confirmed"
    pending.order.status = OrderStatus.INVOICED
    booking = services.book_for_user(user, course, voucher=pending)
    db.session.commit()
    assert booking.voucher_id == pending.id and pending.status is VoucherStatus.REDEEMED


@pytest.mark.parametrize("month", [3, 10])
def test_the_default_cut_off_is_two_days_earlier_at_the_same_london_time_across_a_clock_change(app_ctx, month):
    change = factories.next_clock_change(month)  # the last Sunday of March (clocks forward) or October (back)
    monday_nine = datetime.combine(change + timedelta(days=1), datetime.min.time()).replace(hour=9)
    course = factories.course("AWARE", start=monday_nine)
    cutoff = services.cancellation_cutoff(course)
    assert cutoff.astimezone(LONDON).replace(tzinfo=None) == monday_nine - timedelta(days=2)  # 9am Saturday
    assert course.starts_at - cutoff == timedelta(hours=47 if month == 3 else 49)


def test_the_waiting_list_is_in_booking_order_whatever_the_hosts_clocks_said(app_ctx):
    course = factories.course(capacity=1)
    holder = trainee()
    seat = services.book_for_user(holder, course)
    now = utcnow()
    # Joined in this order (ids under the course lock), but stamped by hosts whose clocks disagree.
    first = factories.booking_on(course, status=BookingStatus.WAITLISTED, waitlisted_at=now + timedelta(seconds=5))
    second = factories.booking_on(course, status=BookingStatus.WAITLISTED, waitlisted_at=now - timedelta(seconds=5))
    third = factories.booking_on(course, status=BookingStatus.WAITLISTED, waitlisted_at=now)
    db.session.commit()
    assert first.id < second.id < third.id
    assert [services.waiting_position(b) for b in (first, second, third)] == [1, 2, 3]
    assert services.waiting_positions([third, first, second]) == {first.id: 1, second.id: 2, third.id: 3}
    assert services.cancel_booking(seat, by=holder) == [first]
    db.session.commit()
    assert [services.waiting_position(b) for b in (second, third)] == [1, 2]


# --- a voucher on the waiting list is held, not spent --------------------------------------------------

def _full_course(**fields):
    course = factories.course(capacity=1, **fields)
    seat_holder = trainee()
    seat = services.book_for_user(seat_holder, course)
    return course, seat, seat_holder


def _waiting_with_a_voucher(**fields):
    """A full course (``fields``) and a trainee on its waiting list with an employer's place voucher:
    (course, the seat, its holder, the trainee, the voucher, the waiting booking)."""
    course, seat, seat_holder = _full_course(**fields)
    voucher = factories.voucher(factories.employer())
    user = trainee()
    waiting = services.book_for_user(user, course, voucher=voucher)
    return course, seat, seat_holder, user, voucher, waiting


def test_a_voucher_on_the_waiting_list_is_held_not_spent_and_spent_on_promotion(app_ctx):
    course, seat, seat_holder, user, voucher, waiting = _waiting_with_a_voucher()
    db.session.commit()
    assert waiting.status is BookingStatus.WAITLISTED and waiting.voucher_id == voucher.id
    assert voucher.status is VoucherStatus.ASSIGNED and voucher.assigned_person_id == user.person_id
    assert waiting.source is BookingSource.EMPLOYER

    # While it could still become a seat, the voucher backs nothing else.
    other = factories.course(start=datetime.now() + timedelta(days=30))
    error = refused(user, other, voucher.code)
    assert isinstance(error, Conflict) and error.field == "voucher_code"
    assert error.message.startswith("that place voucher is held for your place on the waiting list for Adult MHFA")

    assert services.cancel_booking(seat, by=seat_holder) == [waiting]
    db.session.commit()
    assert waiting.status is BookingStatus.CONFIRMED and waiting.voucher_id == voucher.id
    assert voucher.status is VoucherStatus.REDEEMED
    assert refused(user, other, voucher.code).message == "that place voucher has already been used"


def test_leaving_the_waiting_list_gives_the_held_voucher_back(app_ctx):
    course, _, _, user, voucher, waiting = _waiting_with_a_voucher()
    db.session.commit()
    services.cancel_booking(waiting, by=user)
    db.session.commit()
    assert waiting.voucher_id is None
    assert voucher.status is VoucherStatus.ASSIGNED and voucher.assigned_person_id == user.person_id
    elsewhere = services.book_for_user(user, factories.course(start=datetime.now() + timedelta(days=30)),
                                       voucher=voucher)
    db.session.commit()
    assert elsewhere.status is BookingStatus.CONFIRMED and voucher.status is VoucherStatus.REDEEMED


def test_a_voucher_still_waiting_when_the_course_starts_can_be_used_on_another_course(app_ctx):
    course, _, _, user, voucher, waiting = _waiting_with_a_voucher(start=datetime.now() + timedelta(days=3))
    other = factories.course(start=datetime.now() + timedelta(days=30))
    db.session.commit()
    after_start = course.starts_at + timedelta(hours=1)
    booking = services.book(user.person, other, voucher=voucher, now=after_start)
    db.session.commit()
    assert booking.voucher_id == voucher.id and voucher.status is VoucherStatus.REDEEMED
    assert waiting.voucher_id is None and waiting.status is BookingStatus.WAITLISTED


def test_vouchers_of_waiting_lists_that_closed_go_back_to_their_holders(runner):
    from mhfa.courses.models import CourseStatus

    employer = factories.employer()
    started, _, _ = _full_course(start=datetime.now() + timedelta(days=3))
    completed, _, _ = _full_course(start=datetime.now() + timedelta(days=5))
    upcoming, _, _ = _full_course(start=datetime.now() + timedelta(days=20))
    held = {}
    for name, course in (("started", started), ("completed", completed), ("upcoming", upcoming)):
        voucher = factories.voucher(employer)
        held[name] = (services.book_for_user(trainee(), course, voucher=voucher), voucher)
    # A waiting-list place from before vouchers were held: its voucher was marked spent at once.
    legacy_voucher = factories.voucher(employer)
    legacy_booking = factories.booking_on(completed, status=BookingStatus.WAITLISTED, voucher=legacy_voucher)
    legacy_voucher.status = VoucherStatus.REDEEMED
    confirmed_voucher = factories.voucher(employer)
    confirmed = services.book_for_user(trainee(), factories.course(start=datetime.now() + timedelta(days=4)),
                                       voucher=confirmed_voucher)
    completed.status = CourseStatus.COMPLETED
    db.session.commit()

    assert vouchers.return_vouchers_of_closed_waiting_lists(started.starts_at + timedelta(minutes=1)) == 3
    db.session.commit()
    for name in ("started", "completed"):
        booking, voucher = held[name]
        assert booking.voucher_id is None and voucher.status is VoucherStatus.ASSIGNED, name
    assert legacy_booking.voucher_id is None and legacy_voucher.status is VoucherStatus.ASSIGNED
    booking, voucher = held["upcoming"]
    assert booking.voucher_id == voucher.id and voucher.status is VoucherStatus.ASSIGNED
    assert confirmed.voucher_id == confirmed_voucher.id and confirmed_voucher.status is VoucherStatus.REDEEMED

    # The cron job does it too (here nothing is left to give back).
    result = runner.invoke(args=["mhfa", "send-reminders"])
    assert result.exit_code == 0 and "Place vouchers given back from waiting lists that closed: 0" in result.output


def test_cancelling_a_course_gives_back_the_vouchers_of_its_waiting_list(app_ctx):
    from mhfa.courses import scheduling

    course, _, _ = _full_course()
    voucher = factories.voucher(factories.employer())
    waiting = services.book_for_user(trainee(), course, voucher=voucher)
    db.session.commit()
    scheduling.cancel_course(course, "Instructor unwell", factories.user(Role.COORDINATOR))
    db.session.commit()
    assert waiting.status is BookingStatus.CANCELLED and waiting.voucher_id is None
    assert voucher.status is VoucherStatus.ASSIGNED


def test_a_cancelled_voucher_stays_cancelled_when_its_booking_is_cancelled(app_ctx):
    voucher = factories.voucher(factories.employer())
    user = trainee()
    booking = services.book_for_user(user, factories.course(), voucher=voucher)
    voucher.status = VoucherStatus.CANCELLED  # the employer's order was cancelled meanwhile
    services.cancel_booking(booking, by=user)
    db.session.commit()
    assert booking.voucher_id is None and voucher.status is VoucherStatus.CANCELLED
