"""Venues: where in-person courses run. A new name or address reschedules the published courses there.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa.areas.models import CouncilArea
from mhfa.areas.services import normalise_postcode
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.courses.models import (
    Course,
    CourseStatus,
    Venue,
)
from mhfa.courses.places import places_for
from mhfa.courses.rules import session_times
from mhfa.courses.scheduling import announce_reschedule, delete_unless_on_courses
from mhfa.extensions import db
from mhfa.locks import lock_course
from mhfa.timeutil import utcnow


@dataclass
class VenueDetails:
    name: str
    address_line1: str
    town: str
    postcode: str
    council_area: CouncilArea
    address_line2: str = ""
    step_free_access: bool = False
    access_notes: str = ""
    active: bool = True


def _apply_venue(venue: Venue, details: VenueDetails) -> None:
    venue.name = details.name.strip()
    venue.address_line1 = details.address_line1.strip()
    venue.address_line2 = (details.address_line2 or "").strip()
    venue.town = details.town.strip()
    venue.postcode = normalise_postcode(details.postcode, required=True)
    venue.council_area = details.council_area
    venue.step_free_access = details.step_free_access
    venue.access_notes = (details.access_notes or "").strip()
    venue.active = details.active


def create_venue(details: VenueDetails, actor: User | None = None) -> Venue:
    venue = Venue()
    _apply_venue(venue, details)
    db.session.add(venue)
    db.session.flush()
    audit.record("venue.created", venue, actor, name=venue.name)
    return venue


@dataclass
class VenueCoursesAhead:
    """The published courses at a venue that have not finished, and how many trainees hold a place."""

    courses: int
    trainees: int


def venue_courses_ahead(venue: Venue, now: datetime | None = None) -> VenueCoursesAhead:
    """What a change of the venue's name or address would reschedule (said before saving)."""
    courses = db.session.scalars(
        sa.select(Course).where(Course.venue_id == venue.id, Course.status == CourseStatus.PUBLISHED,
                                Course.ends_at > (now or utcnow()))
    ).all()
    counted = places_for(list(courses))
    return VenueCoursesAhead(len(courses), sum(p.confirmed + p.waitlisted for p in counted.values()))


def update_venue(venue: Venue, details: VenueDetails, actor: User | None = None, *,
                 now: datetime | None = None) -> Venue:
    """Change a venue. Its courses keep the council area they were given.

    A new name or address moves every published course there that has not finished: each is
    rescheduled (SEQUENCE up, booked trainees emailed the new place), as when its venue is changed.
    """
    normalise_postcode(details.postcode, required=True)  # refuse before touching anything
    old_address = venue.one_line_address
    _apply_venue(venue, details)
    db.session.flush()
    moved = []
    if venue.one_line_address != old_address:
        courses = db.session.scalars(
            sa.select(Course)
            .where(Course.venue_id == venue.id, Course.status == CourseStatus.PUBLISHED,
                   Course.ends_at > (now or utcnow()))
            .order_by(Course.starts_at, Course.id)
        ).all()
        for course in courses:
            lock_course(course)
            if course.status is CourseStatus.PUBLISHED:  # not cancelled meanwhile
                announce_reschedule(course, actor, old_times=session_times(course), old_place=old_address)
                moved.append(course.id)
    audit.record("venue.updated", venue, actor, name=venue.name, courses_rescheduled=moved)
    return venue


def delete_venue(venue: Venue, actor: User | None = None) -> None:
    used = db.session.scalar(sa.select(sa.func.count(Course.id)).where(Course.venue_id == venue.id))
    delete_unless_on_courses(venue, used, f"{venue.name} is the venue of {used} course{'s' if used != 1 else ''}, "
                             "so it cannot be deleted. Mark it as no longer in use instead.",
                             "venue.deleted", actor, name=venue.name)


def list_venues() -> list[Venue]:
    return list(db.session.scalars(
        sa.select(Venue).options(joinedload(Venue.council_area)).order_by(Venue.active.desc(), Venue.name)
    ))
