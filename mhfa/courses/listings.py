"""Lists of courses: the public finder and the coordinators' list, a page at a time with their places.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from mhfa.areas.models import CouncilArea
from mhfa.areas.services import all_areas, distance_km, district_area_code, postcode_district
from mhfa.courses.models import (
    Course,
    CourseStatus,
    CourseType,
    DeliveryMode,
    Instructor,
    Venue,
    course_instructor,
)
from mhfa.courses.places import CONFIRMED_COUNT, WAITLISTED_COUNT, Places
from mhfa.courses.visibility import visible_in_lists
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.pagination import Page
from mhfa.timeutil import london_to_utc, utcnow


@dataclass
class FinderFilters:
    council_area_id: int | None = None
    course_type_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    delivery_mode: DeliveryMode | None = None
    free_places: bool = False
    latest_first: bool = False
    near: Nearness | None = None   # a postcode: the nearest venues first


@dataclass
class Nearness:
    """Where a postcode is, for putting the nearest venues first: its district, the council area it
    lies in, and each council area's distance from there (between the areas' centres)."""

    district: str
    area: CouncilArea
    km_by_area: dict[int, float]

    def km(self, course: Course) -> float | None:
        return self.km_by_area.get(course.council_area_id) if course.venue is not None else None

    def same_district(self, course: Course) -> bool:
        return course.venue is not None and postcode_district(course.venue.postcode) == self.district


def nearness(postcode: str) -> Nearness:
    """Where ``postcode`` (or a district alone) is. The council area comes from the programme's venues
    in that district when there are any, else from the reference table of districts (mhfa/areas/data)."""
    district = postcode_district(postcode)
    if district is None:
        raise DomainError("Enter a postcode or the first half of one, like B15 2TT or CV1", field="postcode")
    counted = db.session.execute(
        sa.select(Venue.council_area_id, sa.func.count()).where(Venue.postcode.like(f"{district} %"))
        .group_by(Venue.council_area_id).order_by(sa.func.count().desc(), Venue.council_area_id).limit(1)
    ).first()
    area = db.session.get(CouncilArea, counted[0]) if counted else None
    if area is None and (code := district_area_code(district)) is not None:
        area = db.session.scalar(sa.select(CouncilArea).where(CouncilArea.gss_code == code))
    if area is None:
        raise DomainError(f"We cannot place {district} yet: MHFA Reach runs courses in the West Midlands. "
                          "Choose a council area instead, or look at courses online.", field="postcode")
    km = {other.id: distance for other in all_areas()
          if (distance := distance_km(area.gss_code, other.gss_code)) is not None}
    return Nearness(district, area, km)


def place_postcode(postcode: str | None) -> tuple[Nearness | None, str | None]:
    """Where a typed postcode is (``nearness``), or why it cannot be placed; (None, None) when none was typed."""
    if not postcode:
        return None, None
    try:
        return nearness(postcode), None
    except DomainError as error:
        return None, error.message


#: The furthest a page may start (a page number typed into the address past it shows an empty page, counted): the
#: largest offset a 32-bit integer holds, as the offset may be cast to one, far beyond any list.
MAX_OFFSET = 2**31 - 1


@dataclass
class Listing:
    course: Course
    places: Places


def start_of_london_day(day: date) -> datetime:
    return london_to_utc(datetime.combine(day, time.min))


def _listing_page(conditions: list, *, order, page: int, per_page: int, options=()) -> Page:
    """One page of courses with their places, counted in SQL, in one query: the page's ids with the count of
    every match beside each (a window over the same scan), joined to what every list shows (type, venue, area;
    ``options``: more of each course to load with it). A page past the end has no row to carry the count: it is
    counted alone."""
    page = max(page, 1)
    # The page's ids first, from the course table alone, then those courses with what they show: the planner
    # cannot then join and sort every matching course before the limit (it did so when it expected few to match,
    # 45 ms at 5,000,000 people where walking the index in order takes a few).
    page_ids = (sa.select(Course.id, sa.func.count().over().label("total")).where(*conditions).order_by(*order)
                .limit(per_page).offset(min((page - 1) * per_page, MAX_OFFSET)).subquery("page_ids"))
    rows = db.session.execute(
        sa.select(Course, CONFIRMED_COUNT, WAITLISTED_COUNT, page_ids.c.total)
        .join(page_ids, page_ids.c.id == Course.id)
        .order_by(*order)
        .options(joinedload(Course.course_type), joinedload(Course.venue), joinedload(Course.council_area), *options)
    ).all()
    if not rows:
        total = db.session.scalar(sa.select(sa.func.count(Course.id)).where(*conditions)) or 0
        return Page(items=[], page=page, per_page=per_page, total=total)
    items = [Listing(course, Places(course.capacity, confirmed, waitlisted))
             for course, confirmed, waitlisted, _total in rows]
    return Page(items=items, page=page, per_page=per_page, total=rows[0].total)


def find_courses(filters: FinderFilters, viewer=None, *, page: int = 1, per_page: int = 20,
                 now: datetime | None = None) -> Page:
    """Published courses still open for booking (not started, booking deadline not passed) that the
    viewer may see, soonest first. A course whose booking has closed keeps its page, which says so."""
    now = now or utcnow()
    conditions = [
        Course.status == CourseStatus.PUBLISHED,
        Course.starts_at > now,
        sa.or_(Course.booking_deadline.is_(None), Course.booking_deadline > now),  # as Course.booking_open_at
        visible_in_lists(viewer),
    ]
    if filters.date_from is not None:
        conditions.append(Course.starts_at >= start_of_london_day(filters.date_from))
    if filters.date_to is not None:
        conditions.append(Course.starts_at < start_of_london_day(filters.date_to + timedelta(days=1)))
    if filters.council_area_id is not None:
        # An area means "courses I can attend from there": its in-person courses and every online
        # course, which is open to everyone (an online course's own area is the one that runs it).
        conditions.append(sa.or_(Course.council_area_id == filters.council_area_id,
                                 Course.delivery_mode == DeliveryMode.ONLINE))
    if filters.course_type_id is not None:
        conditions.append(Course.course_type_id == filters.course_type_id)
    if filters.delivery_mode is not None:
        conditions.append(Course.delivery_mode == filters.delivery_mode)
    if filters.free_places:
        conditions.append(Course.capacity > Course.seats_taken)  # kept by the database (mhfa.bookings.seats)
    order = [Course.starts_at.desc(), Course.id.desc()] if filters.latest_first else [Course.starts_at, Course.id]
    if filters.near is not None:
        # Nearest first: venues in the postcode's own district, then by the distance between council
        # areas' centres; online courses (no distance) after every venue; by date within each.
        near = filters.near
        in_district = sa.and_(Course.venue_id.is_not(None), Course.venue_id.in_(
            sa.select(Venue.id).where(Venue.postcode.like(f"{near.district} %"))))
        km = sa.case({area_id: round(d, 1) for area_id, d in near.km_by_area.items()},
                     value=Course.council_area_id, else_=100000.0) if near.km_by_area else sa.literal(0.0)
        order = [sa.case((Course.delivery_mode == DeliveryMode.ONLINE, 1), else_=0),
                 sa.case((in_district, 0), else_=1), km, *order]
    # A closed course's employer (named on its row) is read when shown: the public never sees one, and an employer's
    # staff see their own employer's, read once (the session holds it for the next row).
    return _listing_page(conditions, order=order, page=page, per_page=per_page)


#: The coordinators' list's "Starts" choices besides its dates, by the value in the page's address.
STARTING = {"upcoming": "Not started yet", "next-4-weeks": "In the next 4 weeks"}
#: "In the next 4 weeks": from now until 28 days from now.
SOON = timedelta(days=28)
#: The statuses of a course that still needs its instructors (not cancelled, not completed).
RUNNING = (CourseStatus.DRAFT, CourseStatus.PUBLISHED)


@dataclass
class ManageFilters:
    status: CourseStatus | None = None
    council_area_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    starting: str | None = None   # a key of STARTING: not started yet, or in the next 4 weeks
    needs_instructor: bool = False  # draft or published with no instructor

    def as_query(self) -> dict[str, str]:
        """The list's address for these filters (the parameters its filter form reads)."""
        query = {"status": self.status.value if self.status else None,
                 "area": str(self.council_area_id) if self.council_area_id is not None else None,
                 "from_date": self.date_from.isoformat() if self.date_from else None,
                 "to_date": self.date_to.isoformat() if self.date_to else None,
                 "starts": self.starting, "instructor": "needed" if self.needs_instructor else None}
        return {key: value for key, value in query.items() if value is not None}


def _manage_conditions(filters: ManageFilters, now: datetime) -> list:
    conditions = []
    if filters.status is not None:
        conditions.append(Course.status == filters.status)
    if filters.council_area_id is not None:
        conditions.append(Course.council_area_id == filters.council_area_id)
    if filters.date_from is not None:
        conditions.append(Course.starts_at >= start_of_london_day(filters.date_from))
    if filters.date_to is not None:
        conditions.append(Course.starts_at < start_of_london_day(filters.date_to + timedelta(days=1)))
    if filters.starting in STARTING:
        conditions.append(Course.starts_at >= now)
    if filters.starting == "next-4-weeks":
        conditions.append(Course.starts_at < now + SOON)
    if filters.needs_instructor:
        conditions += [Course.status.in_(RUNNING), ~sa.exists().where(course_instructor.c.course_id == Course.id)]
    return conditions


def list_courses(filters: ManageFilters, *, page: int = 1, per_page: int = 50, now: datetime | None = None) -> Page:
    """Every course, for coordinators, by first session date, each with its instructors."""
    return _listing_page(_manage_conditions(filters, now or utcnow()), order=[Course.starts_at, Course.id],
                         page=page, per_page=per_page,
                         options=[selectinload(Course.instructors).joinedload(Instructor.person)])


def count_courses(filters: ManageFilters, now: datetime | None = None) -> int:
    """How many courses the coordinators' list shows with these filters."""
    return db.session.scalar(sa.select(sa.func.count(Course.id)).where(*_manage_conditions(filters, now or utcnow())))


class Choice(NamedTuple):
    """A council area or course type the finder offers: its id, the code its filter names it by, its name."""

    id: int
    code: str
    name: str


def finder_choices() -> tuple[list[Choice], list[Choice]]:
    """The council areas (the programme's region first) and active course types the finder's filters offer, read
    in one query."""
    areas = sa.select(sa.literal(0).label("kind"), sa.case((CouncilArea.in_target_region, 0), else_=1).label("rank"),
                      CouncilArea.id, CouncilArea.gss_code.label("code"), CouncilArea.name)
    types = sa.select(sa.literal(1), sa.literal(0), CourseType.id, CourseType.code, CourseType.name) \
        .where(CourseType.active.is_(True))
    offered = sa.union_all(areas, types).subquery()
    rows = db.session.execute(sa.select(offered).order_by(offered.c.kind, offered.c.rank, offered.c.name)).all()
    return ([Choice(row.id, row.code, row.name) for row in rows if row.kind == 0],
            [Choice(row.id, row.code, row.name) for row in rows if row.kind == 1])
