"""How far an organisation's staff are covered: those with a current certificate as a share of its
headcount, against the action plan's ask, whose certificates run out within six months, and its current
first aiders over the last months."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates.models import Certificate, makes_a_first_aider
from mhfa.courses.models import Course, CourseStatus, CourseType
from mhfa.employers.models import (
    Employer,
)
from mhfa.employers.reports import (
    arranged_certificate,
    known_names,
    runs_to,
    staff_ids,
    staff_query,
    training_ids,
)
from mhfa.extensions import db
from mhfa.timeutil import LONDON, london_today, utcnow

#: The large employers' ask in the action plan: train up to 5% of staff in MHFA.
COVERAGE_ASK = 0.05


@dataclass
class Coverage:
    headcount: int | None
    certified: int
    share: float | None
    ask: float
    needed_for_ask: int | None
    expiring: list[Certificate]
    #: The names the organisation knows the holders of expiring certificates by (person id to name).
    names: dict[int, str] = field(default_factory=dict)

    def name_of(self, certificate: Certificate) -> str:
        return self.names.get(certificate.person_id) or certificate.person.full_name


def coverage(employer: Employer, today: date | None = None) -> Coverage:
    """Staff with a current certificate (not an awareness course's certificate of attendance) as a share of
    headcount, against the 5% ask; expiring in six months."""
    today = today or london_today()
    ids = staff_ids(employer).subquery()
    current = sa.and_(Certificate.person_id.in_(sa.select(ids.c.person_id)), Certificate.revoked_at.is_(None),
                      arranged_certificate(employer), makes_a_first_aider(),
                      sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today))
    certified = db.session.scalar(sa.select(sa.func.count(sa.distinct(Certificate.person_id))).where(current)) or 0
    # People, not certificates: someone whose refresher renewed their certificate is not expiring.
    people = list(db.session.scalars(staff_query(employer, show="expiring", sort="expiry", today=today)))
    longest = {}
    for cert in db.session.scalars(sa.select(Certificate).where(
            current, Certificate.person_id.in_([p.id for p in people] or [0])).order_by(Certificate.id)):
        if cert.person_id not in longest or runs_to(cert) >= runs_to(longest[cert.person_id]):
            longest[cert.person_id] = cert
    expiring = [longest[p.id] for p in people if p.id in longest]
    headcount = employer.headcount
    share = certified / headcount if headcount else None
    needed = max(0, math.ceil(headcount * COVERAGE_ASK) - certified) if headcount else None
    return Coverage(headcount, certified, share, COVERAGE_ASK, needed, expiring,
                    known_names(employer, [c.person_id for c in expiring]))


@dataclass
class FirstAiders:
    """The organisation's current first aiders: staff holding a current certificate from training it
    arranged, not an awareness course's certificate of attendance (the coverage's count), per 1,000 staff
    and as "1 in N" when the headcount is recorded, and the same count at the end of each recent month (this
    month: today)."""

    current: int
    headcount: int | None
    trend: list[tuple[date, int]]  # (the month's last day, or today; current first aiders then)

    @property
    def per_1000(self) -> float | None:
        return round(1000 * self.current / self.headcount, 1) if self.headcount else None

    @property
    def one_in(self) -> int | None:
        return round(self.headcount / self.current) if self.headcount and self.current else None


def _month_ends(today: date, months: int) -> list[date]:
    ends, first = [today], today.replace(day=1)
    for _ in range(months - 1):
        ends.append(first - timedelta(days=1))
        first = ends[-1].replace(day=1)
    return list(reversed(ends))


def first_aiders(employer: Employer, today: date | None = None, months: int = 12) -> FirstAiders:
    """Current first aiders today and at the end of each of the last ``months`` months (one query).

    On a past day a certificate counts when it was issued by then, had not expired and had not been
    revoked by the end of that day (London time), as the programme's first-aider trend counts them."""
    today = today or london_today()
    ends = _month_ends(today, months)
    days = sa.union_all(*[sa.select(sa.literal(end, sa.Date).label("day"),
                                    sa.literal(_day_after(end), sa.DateTime).label("cutoff")) for end in ends]
                        ).subquery("days")
    ids = staff_ids(employer).subquery()
    held = sa.and_(Certificate.person_id.in_(sa.select(ids.c.person_id)), arranged_certificate(employer),
                   makes_a_first_aider(), Certificate.issued_on <= days.c.day,
                   sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= days.c.day),
                   sa.or_(Certificate.revoked_at.is_(None), Certificate.revoked_at >= days.c.cutoff))
    counts = dict(db.session.execute(sa.select(days.c.day, sa.func.count(sa.distinct(Certificate.person_id)))
                                     .select_from(days).join(Certificate, held).group_by(days.c.day)).all())
    counts = {(d if isinstance(d, date) else date.fromisoformat(str(d))): n for d, n in counts.items()}
    trend = [(end, int(counts.get(end, 0))) for end in ends]
    return FirstAiders(trend[-1][1], employer.headcount, trend)


def _day_after(day: date):
    """The first moment after the London day ``day``, as stored (naive UTC)."""
    moment = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass
class RefresherPlaces:
    """The refresher places to order for the staff whose certificate expires within six months: one each,
    except for those already booked (or on a waiting list) on a refresher course that has not ended."""

    expiring: int
    already_booked: int

    @property
    def to_order(self) -> int:
        return self.expiring - self.already_booked


def refresher_places(employer: Employer, found: Coverage, refresher: CourseType | None,
                     now: datetime | None = None) -> RefresherPlaces:
    """How many of ``found``'s expiring staff need a refresher place. Only bookings the organisation arranged
    count as booked (its pages never show what someone booked elsewhere)."""
    people = {certificate.person_id for certificate in found.expiring}
    if refresher is None or not people:
        return RefresherPlaces(len(people), 0)
    booked = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Booking.person_id)))
        .join(Course, Course.id == Booking.course_id)
        .where(Booking.person_id.in_(people), Booking.id.in_(training_ids(employer)),
               Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.WAITLISTED]),
               Course.course_type_id == refresher.id,
               Course.status.in_([CourseStatus.DRAFT, CourseStatus.PUBLISHED]),
               Course.ends_at >= (now or utcnow()),
               ~sa.exists().where(Completion.booking_id == Booking.id))) or 0
    return RefresherPlaces(len(people), booked)
