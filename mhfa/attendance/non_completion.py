"""Why a confirmed trainee did not complete a course, recorded when the course is completed (or its register
corrected afterwards): withdrew, did not attend or absent from a session; and what a no-show's employer place
became under the programme's no-show rule (``mhfa.bookings.deadlines``).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa.attendance.models import AttendanceStatus, NonCompletion, NonCompletionReason
from mhfa.bookings.deadlines import no_show_spends_place
from mhfa.bookings.models import Booking
from mhfa.courses.models import Course, CourseSession
from mhfa.extensions import db
from mhfa.locks import lock_vouchers


def record_non_completion(course: Course, booking: Booking, missed: list[CourseSession], marks) -> NonCompletion:
    """Why the booking ended without completion: withdrew (a "withdrew" mark, its reason kept), did not attend
    (absent from every session) or absent from a session; and a no-show's employer place, spent or returned."""
    record = db.session.scalar(sa.select(NonCompletion).where(NonCompletion.booking_id == booking.id))
    if record is None:
        record = NonCompletion(course_id=course.id, booking_id=booking.id, person_id=booking.person_id)
        db.session.add(record)
    record.missed_session_ids = [s.id for s in missed]
    withdrew = [m for s in course.sessions if (m := marks.get((booking.id, s.id))) is not None
                and m.status is AttendanceStatus.WITHDREW]
    if withdrew:
        record.reason, record.detail = NonCompletionReason.WITHDREW, withdrew[0].reason
    elif len(missed) == len(course.sessions):
        record.reason, record.detail = NonCompletionReason.DID_NOT_ATTEND, None
    else:
        record.reason, record.detail = NonCompletionReason.ABSENT_FROM_SESSION, None
    if record.reason is NonCompletionReason.DID_NOT_ATTEND and booking.voucher_id is not None \
            and record.place_returned is None:
        record.voucher_id = booking.voucher_id
        record.place_returned = _no_show_place(booking)
    return record


def _no_show_place(booking: Booking) -> bool:
    """Apply the no-show rule to the booking's employer place (the caller holds the course lock); whether it
    went back to the employer."""
    if no_show_spends_place():  # the programme's rule (mhfa.bookings.deadlines)
        return False
    lock_vouchers([booking.voucher_id])
    voucher = booking.voucher
    booking.voucher = None
    voucher.take_back()  # the employer's again, to give to someone else
    return True


def non_completions(course: Course) -> list[tuple[NonCompletion, list[CourseSession]]]:
    """Who did not complete the course, with the sessions they missed."""
    by_id = {s.id: s for s in course.sessions}
    records = db.session.scalars(
        sa.select(NonCompletion).where(NonCompletion.course_id == course.id)
        .options(joinedload(NonCompletion.person)).order_by(NonCompletion.id)
    )
    return [(r, [by_id[i] for i in r.missed_session_ids if i in by_id]) for r in records]
