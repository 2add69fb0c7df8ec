"""Instructors who stay qualified: courses delivered, continuing development, who is at risk of lapsing,
and the licence-expiry reminders.

MHFA England asks a licensed instructor to deliver at least two courses a year and to keep up their
continuing professional development (CPD). An instructor is *at risk of lapsing* when their licence
expires within six months (or has expired) or they delivered fewer than two courses in the last twelve
months; a course counts as delivered when it was completed with them on it. The instructor and the
programme team are reminded six months and again three months before a licence expires, once each per
expiry date (a renewed licence is reminded about again).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from mhfa import dates
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.courses.models import Course, CourseStatus, Instructor, InstructorDevelopment, course_instructor
from mhfa.errors import DomainError, NotFound
from mhfa.extensions import db
from mhfa.notify.messages import absolute_url, send
from mhfa.notify.reminders import claim
from mhfa.people.models import Person
from mhfa.timeutil import LONDON, london_today, utcnow

#: MHFA England's ask: courses a year.
COURSES_A_YEAR = 2
#: A licence expiring within this many days puts its instructor at risk.
RISK_DAYS = 183
#: Reminders before a licence expires: (kind prefix, days before).
LICENCE_REMINDERS = (("licence-6m", 183), ("licence-3m", 92))
#: The longest one development record may be.
LONGEST_ACTIVITY_HOURS = 100


def courses_delivered(instructors: list[Instructor], now: datetime | None = None) -> dict[int, int]:
    """Completed courses each instructor was on that ended in the last twelve months, by instructor id."""
    now = now or utcnow()
    ids = [i.id for i in instructors]
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(course_instructor.c.instructor_id, sa.func.count(Course.id))
        .join(Course, Course.id == course_instructor.c.course_id)
        .where(course_instructor.c.instructor_id.in_(ids), Course.status == CourseStatus.COMPLETED,
               Course.ends_at > now - timedelta(days=365), Course.ends_at <= now)
        .group_by(course_instructor.c.instructor_id)).all()
    return {int(k): int(n) for k, n in rows}


@dataclass
class Standing:
    instructor: Instructor
    courses_last_year: int
    licence_days_left: int
    development_hours_last_year: float
    reasons: list[str]

    @property
    def at_risk(self) -> bool:
        return bool(self.reasons)


def _standing(instructor: Instructor, delivered: int, today: date) -> Standing:
    days_left = (instructor.licence_expires_on - today).days
    reasons = []
    if days_left < 0:
        reasons.append(f"Licence expired on {dates.spoken(instructor.licence_expires_on)}")
    elif days_left <= RISK_DAYS:
        reasons.append(f"Licence expires on {dates.spoken(instructor.licence_expires_on)}, in {days_left} "
                       f"day{'s' if days_left != 1 else ''}")
    if delivered < COURSES_A_YEAR:
        reasons.append(f"Delivered {delivered} course{'s' if delivered != 1 else ''} in the last twelve months "
                       f"(MHFA England asks for at least {COURSES_A_YEAR})")
    year_ago = today - timedelta(days=365)
    minutes = sum(r.minutes for r in instructor.development if r.done_on > year_ago)
    return Standing(instructor, delivered, days_left, round(minutes / 60, 2), reasons)


def standing_of(instructor: Instructor, today: date | None = None) -> Standing:
    today = today or london_today()
    return _standing(instructor, courses_delivered([instructor]).get(instructor.id, 0), today)


def at_risk(today: date | None = None) -> list[Standing]:
    """Active instructors at risk of lapsing: the licence expiring soonest first, then by name."""
    today = today or london_today()
    instructors = list(db.session.scalars(
        sa.select(Instructor).join(Person, Person.id == Instructor.person_id).where(Instructor.active.is_(True))
        .options(joinedload(Instructor.person), joinedload(Instructor.development))
        .order_by(Instructor.licence_expires_on, Person.last_name, Person.first_name)).unique())
    delivered = courses_delivered(instructors)
    standings = [_standing(i, delivered.get(i.id, 0), today) for i in instructors]
    return [s for s in standings if s.at_risk]


# --- continuing development ---------------------------------------------------------------------------

@dataclass
class DevelopmentDetails:
    done_on: date | None
    activity: str
    hours: float | None


def add_development(instructor: Instructor, details: DevelopmentDetails, by: User | None) -> InstructorDevelopment:
    """An instructor records a development activity of their own."""
    if details.done_on is None:
        raise DomainError("Enter the date of the activity, like 14/05/2026", field="done_on")
    dates.PROGRAMME.up_to_today().check(details.done_on, "The date of the activity", field="done_on")
    activity = " ".join((details.activity or "").split())
    if not activity:
        raise DomainError("Say what the activity was, like 'MHFA England webinar on suicide prevention'",
                          field="activity")
    if len(activity) > 200:
        raise DomainError("The activity must be 200 characters or fewer", field="activity")
    hours = details.hours
    if hours is None or hours != hours:  # None or NaN
        raise DomainError("Enter the hours spent, like 1.5", field="hours")
    minutes = round(hours * 60)
    if minutes < 15:
        raise DomainError("Enter at least a quarter of an hour (0.25)", field="hours")
    if hours > LONGEST_ACTIVITY_HOURS:
        raise DomainError(f"One record is at most {LONGEST_ACTIVITY_HOURS} hours: record a longer course "
                          "in parts", field="hours")
    record = InstructorDevelopment(instructor=instructor, done_on=details.done_on, activity=activity,
                                   minutes=minutes)
    db.session.add(record)
    db.session.flush()
    audit.record("instructor.development_added", instructor, by, done_on=details.done_on.isoformat(),
                 activity=activity, minutes=minutes)
    return record


def remove_development(instructor: Instructor, record_id: int, by: User) -> None:
    """An instructor removes one of their own development records (typed by mistake)."""
    record = db.session.get(InstructorDevelopment, record_id) if 0 < record_id < 2**31 else None
    if record is None or record.instructor_id != instructor.id:
        raise NotFound("That development record is not yours, or is gone.")
    audit.record("instructor.development_removed", instructor, by, done_on=record.done_on.isoformat(),
                 activity=record.activity, minutes=record.minutes)
    db.session.delete(record)
    db.session.flush()


# --- licence-expiry reminders ---------------------------------------------------------------------------

def due_licence_reminders(today: date, days_before: int) -> list[Instructor]:
    return list(db.session.scalars(
        sa.select(Instructor).where(Instructor.active.is_(True), Instructor.licence_expires_on >= today,
                                    Instructor.licence_expires_on <= today + timedelta(days=days_before))
        .options(joinedload(Instructor.person)).order_by(Instructor.licence_expires_on, Instructor.id)))


def send_licence_reminders(now: datetime) -> int:
    """Six and three months before a licence expires, tell the instructor and the programme team, once each;
    returns how many reminders (the caller commits). An instructor in the three-month window who was never
    reminded at six months gets the three-month reminder only."""
    today = now.astimezone(LONDON).date()
    sent = 0
    for prefix, days in sorted(LICENCE_REMINDERS, key=lambda r: r[1]):
        for instructor in due_licence_reminders(today, days):
            if not _claim_once(instructor, prefix):
                continue
            _licence_expiring(instructor, days_before=days)
            sent += 1
    return sent


def _kind(prefix: str, instructor: Instructor) -> str:
    return f"{prefix}-{instructor.licence_expires_on.isoformat()}"


def _claim_once(instructor: Instructor, prefix: str) -> bool:
    """Claim this reminder; the six-month one is also claimed (skipped) once the three-month one is sent."""
    if not claim(_kind(prefix, instructor), instructor.id):
        return False
    if prefix == "licence-3m":
        claim(_kind("licence-6m", instructor), instructor.id)  # too late for it: never send it after this
    return True


def _licence_expiring(instructor: Instructor, *, days_before: int) -> None:
    months = "six" if days_before > 120 else "three"
    expires = dates.spoken(instructor.licence_expires_on)
    person = instructor.person
    standing = standing_of(instructor)
    context = dict(instructor=instructor, expires=expires, months=months, standing=standing)
    if person.email and not person.is_erased:
        send("instructor_licence_expiring", to=person.email,
             subject=f"Your MHFA England instructor licence expires on {expires}",
             url=absolute_url("courses.my_standing"), **context)
    send("instructor_licence_expiring_team", to=current_app.config["MHFA_CONTACT_EMAIL"],
         subject=f"Instructor licence expiring: {person.full_name}, {expires}",
         url=absolute_url("courses.instructor_standing_page", instructor_id=instructor.id), **context)
