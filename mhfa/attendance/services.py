"""Registers and course completion: who may take a register, marking it, and completing the course
(an instructor's list of their courses and what is left to do on each is ``mhfa.attendance.teaching``).

Every mark, completion and correction is written to the audit log (who, when, before, after). Marks
and completion take the course lock (bookings' ``lock_course``) first, so a mark cannot slip in while
the course is being completed. Certificates are issued by ``mhfa.certificates.services``, which calls
:func:`complete_course` and :func:`correct_mark` here (attendance never imports certificates).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion, CompletionSource, NonCompletion
from mhfa.attendance.non_completion import record_non_completion
from mhfa.audit import services as audit
from mhfa.auth.models import Role, User
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.models import Course, CourseSession, CourseStatus
from mhfa.db_types import MAX_ID
from mhfa.errors import DomainError, Forbidden
from mhfa.extensions import db
from mhfa.locks import lock_course
from mhfa.people.models import Person
from mhfa.timeutil import format_london, to_london, utcnow

# --- who may take a register ------------------------------------------------------------------------

def can_take_register(course: Course, user) -> bool:
    """An instructor of this course, or a coordinator."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(Role.COORDINATOR):
        return True
    return user.has_role(Role.INSTRUCTOR) and course.is_taught_by(user)


def _require_register_access(course: Course, user) -> None:
    if not can_take_register(course, user):
        raise Forbidden("Only an instructor of this course or the programme team can take its register")


# --- the register ---------------------------------------------------------------------------------

def confirmed_bookings(course: Course) -> list[Booking]:
    """The course's confirmed trainees, by surname."""
    return list(db.session.scalars(
        sa.select(Booking).join(Person, Person.id == Booking.person_id)
        .where(Booking.course_id == course.id, Booking.status == BookingStatus.CONFIRMED)
        .order_by(Person.last_name, Person.first_name, Booking.id)
        .options(joinedload(Booking.person))
    ))


def marks_for(course: Course) -> dict[tuple[int, int], AttendanceMark]:
    """Every mark of the course, by (booking id, session id)."""
    session_ids = [s.id for s in course.sessions]
    if not session_ids:
        return {}
    marks = db.session.scalars(sa.select(AttendanceMark).where(AttendanceMark.session_id.in_(session_ids)))
    return {(m.booking_id, m.session_id): m for m in marks}


@dataclass
class RegisterRow:
    booking: Booking
    mark: AttendanceMark | None

    @property
    def status(self) -> AttendanceStatus | None:
        return self.mark.status if self.mark else None


def register(session: CourseSession) -> list[RegisterRow]:
    """One row per confirmed trainee of the session's course, with their mark for this session."""
    marks = marks_for(session.course)
    return [RegisterRow(b, marks.get((b.id, session.id))) for b in confirmed_bookings(session.course)]


@dataclass
class RegisterState:
    """How far a session's register is taken: its confirmed trainees marked, of them all."""

    marked: int
    trainees: int

    @property
    def taken(self) -> bool:
        return self.trainees > 0 and self.marked == self.trainees

    @property
    def started(self) -> bool:
        return self.marked > 0


def register_states(course: Course) -> dict[int, RegisterState]:
    """Each session's register state, by session id (marks of trainees no longer confirmed are not counted)."""
    bookings = confirmed_bookings(course)
    marks = marks_for(course)
    return {s.id: RegisterState(sum((b.id, s.id) in marks for b in bookings), len(bookings)) for s in course.sessions}


def marking_refusal(session: CourseSession, now: datetime | None = None) -> str | None:
    """Why this session's register cannot be marked now (before completion), or None."""
    now = now or utcnow()
    course = session.course
    if course.status is CourseStatus.CANCELLED:
        return "This course has been cancelled, so its register cannot be marked"
    if course.status is CourseStatus.DRAFT:
        return "This course has not been published, so its register cannot be marked"
    if course.status is CourseStatus.COMPLETED:
        return "This course has been completed: only the programme team can change its register, with a reason"
    if now < session.starts_at:
        return "This session has not started yet: its register can be marked from the start of the session"
    return None


def _checked_reason(status: AttendanceStatus, reason: str | None) -> str | None:
    """A "withdrew" mark needs the reason the trainee left (200 characters at most); other marks carry none."""
    if status is not AttendanceStatus.WITHDREW:
        return None
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Enter why the trainee withdrew", field="marks")
    if len(reason) > 200:
        raise DomainError("The reason for withdrawing must be 200 characters or fewer", field="marks")
    return reason


def _set_mark(session: CourseSession, booking: Booking, status: AttendanceStatus, by: User | None,
              existing: AttendanceMark | None, now: datetime, withdrew_reason: str | None = None,
              **details) -> AttendanceMark | None:
    """Write one mark (if it changes) and its audit entry; None when nothing changed."""
    before = existing.status.value if existing else None
    withdrew_reason = _checked_reason(status, withdrew_reason)
    if existing is not None and existing.status is status and existing.reason == withdrew_reason:
        return None
    mark = existing or AttendanceMark(booking_id=booking.id, session_id=session.id)
    mark.status = status
    mark.reason = withdrew_reason
    mark.marked_by_user_id = getattr(by, "id", None)
    mark.marked_at = now
    db.session.add(mark)
    db.session.flush()
    if withdrew_reason:
        details["withdrew_reason"] = withdrew_reason
    audit.record("attendance.marked", mark, by, course_id=session.course_id, session_id=session.id,
                 booking_id=booking.id, person_id=booking.person_id, before=before, after=status.value, **details)
    return mark


def _booking_of(course: Course, booking_id: int) -> Booking:
    in_range = isinstance(booking_id, int) and 0 < booking_id <= MAX_ID
    booking = db.session.get(Booking, booking_id) if in_range else None
    if booking is None or booking.course_id != course.id or booking.status is not BookingStatus.CONFIRMED:
        raise DomainError("That person does not have a confirmed place on this course", field="marks")
    return booking


def mark_register(session: CourseSession, statuses: dict[int, AttendanceStatus], by: User,
                  now: datetime | None = None, reasons: dict[int, str] | None = None) -> int:
    """Mark trainees (booking id -> present/absent/withdrew) for one session; the number of marks changed.

    A "withdrew" mark (left part-way) needs the reason in ``reasons`` (booking id -> text).

    Refused, with nothing changed, for anyone without a confirmed place, for a session not started, a
    cancelled course or a completed one (see :func:`correct_mark`).
    """
    now = now or utcnow()
    course = session.course
    _require_register_access(course, by)
    lock_course(course)
    refusal = marking_refusal(session, now)
    if refusal:
        raise DomainError(refusal)
    if not statuses:
        raise DomainError("Mark at least one trainee present or absent", field="marks")
    marks = marks_for(course)
    changed = 0
    for booking_id, status in statuses.items():
        booking = _booking_of(course, booking_id)
        if _set_mark(session, booking, status, by, marks.get((booking.id, session.id)), now,
                     withdrew_reason=(reasons or {}).get(booking_id)):
            changed += 1
    return changed


def mark_all_present(session: CourseSession, by: User, now: datetime | None = None) -> int:
    """Mark every confirmed trainee present for this session."""
    bookings = confirmed_bookings(session.course)
    if not bookings:
        raise DomainError("Nobody has a confirmed place on this course")
    return mark_register(session, {b.id: AttendanceStatus.PRESENT for b in bookings}, by, now)


# --- completion ---------------------------------------------------------------------------------

@dataclass
class Preview:
    """What completing the course would do now, for each confirmed trainee (as :func:`complete_course` decides).

    ``completing``: a new Completion (and so a certificate); ``already_completed``: attended every session
    but already hold a completion of this course type on its last day (imported, say), which completing
    keeps, making no new one; ``not_completing``: missed a session.
    """

    completing: list[Booking] = field(default_factory=list)
    already_completed: list[tuple[Booking, Completion]] = field(default_factory=list)
    not_completing: list[tuple[Booking, list[CourseSession]]] = field(default_factory=list)
    unmarked: list[tuple[CourseSession, list[Booking]]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.unmarked


def _missed(course: Course, booking: Booking, marks) -> list[CourseSession]:
    """The sessions a trainee was not marked present at (the course-type rule: every session)."""
    return [s for s in course.sessions
            if (m := marks.get((booking.id, s.id))) is None or m.status is not AttendanceStatus.PRESENT]


def completion_preview(course: Course) -> Preview:
    bookings = confirmed_bookings(course)
    marks = marks_for(course)
    preview = Preview()
    for session in course.sessions:
        missing = [b for b in bookings if (b.id, session.id) not in marks]
        if missing:
            preview.unmarked.append((session, missing))
    attended = [(booking, _missed(course, booking, marks)) for booking in bookings]
    held = existing_completions(course, [booking for booking, missed in attended if not missed])
    for booking, missed in attended:
        if missed:
            preview.not_completing.append((booking, missed))
        elif booking.id in held:
            preview.already_completed.append((booking, held[booking.id]))
        else:
            preview.completing.append(booking)
    return preview


def completed_on(course: Course) -> date:
    """The London date of the course's last session."""
    return to_london(course.sessions[-1].ends_at).date()


def completion_of(booking: Booking) -> Completion | None:
    return db.session.scalar(sa.select(Completion).where(
        Completion.person_id == booking.person_id, Completion.course_id == booking.course_id))


def existing_completion(course: Course, booking: Booking) -> Completion | None:
    """The completion that stops completing this course from making a new one for the trainee: theirs of this
    course, or one of the same course type on its last day (e.g. imported: one of a type per person and day)."""
    return existing_completions(course, [booking]).get(booking.id)


def existing_completions(course: Course, bookings: list[Booking]) -> dict[int, Completion]:
    """:func:`existing_completion` of each of these bookings of ``course`` (by booking id; none for a booking
    whose trainee holds neither), read in one query for the whole register: a trainee's completion of this
    course first, else their earliest of the course type on its last day."""
    if not bookings:
        return {}
    day = completed_on(course)
    found = db.session.scalars(sa.select(Completion).where(
        Completion.person_id.in_({b.person_id for b in bookings}),
        sa.or_(Completion.course_id == course.id,
               sa.and_(Completion.course_type_id == course.course_type_id, Completion.completed_on == day)),
    ).order_by(Completion.id))
    of_course: dict[int, Completion] = {}
    of_day: dict[int, Completion] = {}
    for completion in found:
        if completion.course_id == course.id:
            of_course.setdefault(completion.person_id, completion)
        if completion.course_type_id == course.course_type_id and completion.completed_on == day:
            of_day.setdefault(completion.person_id, completion)
    held = {b.id: of_course.get(b.person_id) or of_day.get(b.person_id) for b in bookings}
    return {booking_id: completion for booking_id, completion in held.items() if completion is not None}


def _complete_booking(course: Course, booking: Booking) -> Completion:
    """The trainee's Completion of this course (the preview, read under the course lock, found none yet)."""
    completion = Completion(
        person_id=booking.person_id, course_type_id=course.course_type_id, course_id=course.id,
        booking_id=booking.id, completed_on=completed_on(course),
        delivery_council_area_id=course.council_area_id, source=CompletionSource.COURSE,
    )
    db.session.add(completion)
    return completion


@dataclass
class CompletionResult:
    completions: list[Completion]
    not_completed: list[NonCompletion]
    already_completed: bool = False


def last_session_ends(course: Course) -> datetime | None:
    return max((s.ends_at for s in course.sessions), default=None)


def too_early_to_complete(course: Course, now: datetime | None = None) -> str | None:
    """Why the course cannot be completed yet (its last session has not ended), or None. A register can
    be taken from its session's start; completing, which issues the certificates, waits for the end."""
    ends = last_session_ends(course)
    if ends is not None and (now or utcnow()) < ends:
        return (f"The course ends at {format_london(ends)}: complete it once its last session has ended. "
                "You can take each session's register from its start.")
    return None


def complete_course(course: Course, by: User, now: datetime | None = None) -> CompletionResult:
    """Complete the course: Completion rows for those at every session, NonCompletion (missed sessions) for the rest.

    Refused while any confirmed trainee is unmarked for any session, and for a cancelled or draft
    course. Completing a completed course changes nothing (``already_completed``).
    """
    now = now or utcnow()
    _require_register_access(course, by)
    lock_course(course)
    if course.status is CourseStatus.COMPLETED:
        return CompletionResult([], [], already_completed=True)
    if course.status is not CourseStatus.PUBLISHED:
        raise DomainError("Only a published course that has taken place can be completed")
    if refusal := too_early_to_complete(course, now):
        raise DomainError(refusal)
    preview = completion_preview(course)
    if not preview.ready:
        count = sum(len(missing) for _, missing in preview.unmarked)
        raise DomainError(f"Mark every register first: {count} attendance {'mark is' if count == 1 else 'marks are'} "
                          "missing")
    if not preview.completing and not preview.already_completed and not preview.not_completing:
        raise DomainError("Nobody has a confirmed place on this course, so there is nobody to complete")
    with db.session.no_autoflush:  # the register's rows are inserted together, in one flush
        completions = [_complete_booking(course, b) for b in preview.completing]
        marks = marks_for(course)
        not_completed = [record_non_completion(course, b, missed, marks) for b, missed in preview.not_completing]
    course.status = CourseStatus.COMPLETED
    db.session.flush()
    audit.record("course.completed", course, by, before=CourseStatus.PUBLISHED.value,
                 after=CourseStatus.COMPLETED.value,
                 completed_person_ids=[c.person_id for c in completions],
                 not_completed={str(n.person_id): n.missed_session_ids for n in not_completed})
    return CompletionResult(completions, not_completed)


@dataclass
class Correction:
    """A mark changed after completion, and how it moved the trainee's completion."""

    mark: AttendanceMark | None
    booking: Booking
    completion: Completion | None = None  # the trainee's completion of the course, if any
    now_completed: bool = False  # attends every session now and has a Completion made by this change
    no_longer_completed: bool = False  # has a Completion but missed a session now


def correct_mark(session: CourseSession, booking_id: int, status: AttendanceStatus, by: User, reason: str,
                 now: datetime | None = None, withdrew_reason: str | None = None) -> Correction:
    """Change a mark of a completed course: coordinators only, with a reason; the completion follows.

    A trainee now present at every session gets a Completion (and loses their NonCompletion); one who
    now missed a session keeps their Completion row (one per person per course, reach reads it) and
    is recorded as not completed: the certificates service revokes their certificate.
    """
    now = now or utcnow()
    course = session.course
    if not by.has_role(Role.COORDINATOR):
        raise Forbidden("Only the programme team can change the register of a completed course")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Enter the reason for changing the register", field="reason")
    lock_course(course)
    if course.status is not CourseStatus.COMPLETED:
        raise DomainError("This course is not completed: change its register in the usual way")
    booking = _booking_of(course, booking_id)
    marks = marks_for(course)
    mark = _set_mark(session, booking, status, by, marks.get((booking.id, session.id)), now,
                     withdrew_reason=withdrew_reason or (reason if status is AttendanceStatus.WITHDREW else None),
                     reason=reason, after_completion=True)
    if mark is None:
        raise DomainError("That is already the mark for this trainee: nothing changed", field="status")
    db.session.flush()
    marks = marks_for(course)
    missed = _missed(course, booking, marks)
    completion = completion_of(booking)
    correction = Correction(mark, booking, completion)
    existing_non = db.session.scalar(sa.select(NonCompletion).where(NonCompletion.booking_id == booking.id))
    if not missed:
        if existing_non is not None:
            db.session.delete(existing_non)
            correction.now_completed = True
        if completion is None:
            held = existing_completion(course, booking)  # of that day, imported say: kept, none made
            correction.completion = None if held is not None else _complete_booking(course, booking)
            correction.now_completed = True
            db.session.flush()
            if correction.completion is not None:  # None: they hold that day's completion already (imported)
                audit.record("course.completion_added", correction.completion, by, reason=reason, before=None,
                             after="completed", booking_id=booking.id)
    else:
        record_non_completion(course, booking, missed, marks)
        correction.no_longer_completed = completion is not None
    db.session.flush()
    return correction
