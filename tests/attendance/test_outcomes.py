"""What happened to each booking: "withdrew" marks with a reason, why a booking ended without completion,
and what a no-show costs an employer's place (the programme's rule)."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mhfa.attendance import services
from mhfa.attendance.models import AttendanceStatus, NonCompletion, NonCompletionReason, why
from mhfa.auth.models import Role
from mhfa.bookings import listings
from mhfa.courses import scheduling
from mhfa.employers import invoices, vouchers
from mhfa.employers.models import VoucherStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.reach.settings import current_settings
from mhfa.timeutil import utcnow
from tests import factories


def _record(booking) -> NonCompletion:
    return db.session.scalar(sa.select(NonCompletion).where(NonCompletion.booking_id == booking.id))


def test_withdrew_needs_a_reason_and_the_non_completion_keeps_it(app_ctx):
    course, teacher, (stayed, left) = factories.taught_course()
    first, second = course.sessions
    db.session.commit()
    with pytest.raises(DomainError, match="Enter why the trainee withdrew"):
        services.mark_register(first, {left.id: AttendanceStatus.WITHDREW}, teacher)
    db.session.rollback()
    services.mark_register(first, {stayed.id: AttendanceStatus.PRESENT, left.id: AttendanceStatus.WITHDREW}, teacher,
                           reasons={left.id: "  Felt unwell   at lunch "})
    services.mark_register(second, {stayed.id: AttendanceStatus.PRESENT, left.id: AttendanceStatus.ABSENT}, teacher)
    result = services.complete_course(course, teacher, now=utcnow() + timedelta(days=5))
    [record] = result.not_completed
    assert record.reason is NonCompletionReason.WITHDREW and record.detail == "Felt unwell at lunch"
    assert [c.booking_id for c in result.completions] == [stayed.id]


@pytest.mark.parametrize(("marks", "reason"), [
    ((AttendanceStatus.ABSENT, AttendanceStatus.ABSENT), NonCompletionReason.DID_NOT_ATTEND),
    ((AttendanceStatus.PRESENT, AttendanceStatus.ABSENT), NonCompletionReason.ABSENT_FROM_SESSION),
])
def test_a_non_completion_says_why(app_ctx, marks, reason):
    course, teacher, (booking,) = factories.taught_course(trainees=1)
    for session, status in zip(course.sessions, marks, strict=True):
        services.mark_register(session, {booking.id: status}, teacher)
    services.complete_course(course, teacher, now=utcnow() + timedelta(days=5))
    assert _record(booking).reason is reason and why(_record(booking)) is reason
    assert _record(booking).place_returned is None  # no employer's place involved


def test_a_cancelled_course_records_why_its_bookings_ended(app_ctx):
    course = factories.course()
    booking = factories.booking_on(course)
    scheduling.cancel_course(course, "The venue flooded", factories.user(Role.COORDINATOR))
    record = _record(booking)
    assert record.reason is NonCompletionReason.COURSE_CANCELLED and record.detail == "The venue flooded"


def _no_show_with_a_place(rule_spends: bool):
    settings = current_settings(persist=True)
    settings.no_show_spends_place = rule_spends
    course, teacher, (booking,) = factories.taught_course(trainees=1)
    [voucher] = factories.order(factories.employer(), places=1, code="ADULT_2DAY").vouchers
    voucher.give(booking.person, utcnow())
    voucher.use(seat=True, person_id=booking.person_id, now=utcnow())
    booking.voucher = voucher
    for session in course.sessions:
        services.mark_register(session, {booking.id: AttendanceStatus.ABSENT}, teacher)
    services.complete_course(course, teacher, now=utcnow() + timedelta(days=5))
    db.session.commit()
    return booking, voucher


def test_by_default_a_no_show_spends_the_employers_place(app_ctx):
    booking, voucher = _no_show_with_a_place(rule_spends=True)
    record = _record(booking)
    assert record.reason is NonCompletionReason.DID_NOT_ATTEND and record.place_returned is False
    assert voucher.status is VoucherStatus.REDEEMED and booking.voucher_id == voucher.id
    assert vouchers.no_shows(voucher.order)[voucher.id] == record
    assert "is spent" in invoices.no_show_terms()
    outcome = listings.my_courses(booking.person).outcomes[booking.id]
    assert "you did not attend" in outcome and "used up" in outcome


def test_the_rule_can_return_a_no_shows_place_to_the_employer(app_ctx):
    booking, voucher = _no_show_with_a_place(rule_spends=False)
    record = _record(booking)
    assert record.place_returned is True and record.voucher_id == voucher.id
    assert voucher.status is VoucherStatus.AVAILABLE and voucher.assigned_person_id is None
    assert booking.voucher_id is None
    assert "given back to you" in invoices.no_show_terms()


def test_the_order_page_and_the_invoice_state_the_rule(client, auth):
    booking, voucher = _no_show_with_a_place(rule_spends=True)
    contact = factories.contact(voucher.order.employer)
    db.session.commit()
    auth.login(contact)
    html = client.get(f"/employer/orders/{voucher.order_id}").get_data(as_text=True)
    assert "Did not attend" in html and "place spent (not cancelled before the cut-off)" in html
    assert "is spent: it is not refunded" in html
    assert "is spent: it is not refunded" in invoices.invoice_html(voucher.order.invoice)


def test_the_register_page_offers_withdrew_with_its_reason(client, auth, post_form):
    course, teacher, (a, b) = factories.taught_course()
    db.session.commit()
    auth.login(teacher)
    url = f"/teaching/sessions/{course.sessions[0].id}/register"
    assert 'value="withdrew"' in client.get(url).get_data(as_text=True)
    response = post_form(url, {f"mark-{a.id}": "withdrew", f"reason-{a.id}": "Childcare", f"mark-{b.id}": "present"})
    assert response.status_code == 302
    db.session.expire_all()
    marks = services.marks_for(course)
    assert marks[(a.id, course.sessions[0].id)].reason == "Childcare"
    assert 'value="Childcare"' in client.get(url).get_data(as_text=True)

