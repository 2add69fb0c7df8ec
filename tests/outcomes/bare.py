"""The outcome figures counted over the raw invitations and answers, to hold the kept ones to (tests, benchmarks)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseType
from mhfa.employers.models import Order, PlaceVoucher
from mhfa.extensions import db
from mhfa.outcomes.board import Figures, Mean
from mhfa.outcomes.kept_tables import SCORES
from mhfa.outcomes.models import EVALUATION, OutcomeAnswer, OutcomeInvite
from mhfa.outcomes.questionnaires import GOOD_OR_BETTER
from mhfa.people.models import Person
from mhfa.reach.counts import Filters
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.timeutil import london_today


def _group_column(dimension: str):
    return {
        "area": sa.func.coalesce(Person.home_council_area_id, UNKNOWN_AREA),
        "course_type": OutcomeInvite.course_type_id,
        "funding_stream": sa.func.coalesce(Order.funding_stream, Course.funding_stream),  # the place's, as reach
        "sex": Person.sex, "age_band": Person.age_band, "ethnic_group": Person.ethnic_group,
        "disability": Person.disability,
    }.get(dimension, sa.literal("all"))


def _filtered(query, filters: Filters):
    query = (query.join(Completion, Completion.id == OutcomeInvite.completion_id)
             .outerjoin(Person, Person.id == OutcomeInvite.person_id)
             .outerjoin(Course, Course.id == OutcomeInvite.course_id)
             .outerjoin(Booking, Booking.id == Completion.booking_id)
             .outerjoin(PlaceVoucher, PlaceVoucher.id == Booking.voucher_id)
             .outerjoin(Order, Order.id == PlaceVoucher.order_id))
    if filters.start_month:
        query = query.where(Completion.completed_on >= date(filters.start_month // 100, filters.start_month % 100, 1))
    if filters.end_month:
        year, month = divmod(filters.end_month, 100)
        after = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        query = query.where(Completion.completed_on < after)
    if filters.course_type_ids:
        query = query.where(OutcomeInvite.course_type_id.in_(filters.course_type_ids))
    if not filters.include_awareness:
        awareness = sa.select(CourseType.id).where(CourseType.is_awareness.is_(True))
        query = query.where(OutcomeInvite.course_type_id.not_in(awareness))
    if filters.area is not None:
        home = Person.home_council_area_id
        query = query.where(home.is_(None) if filters.area == UNKNOWN_AREA else home == filters.area)
    return query


def group_figures(dimension: str | None, filters: Filters | None = None) -> dict:
    """Each group's Figures (dimension None: one group, ``"all"``): two grouped queries over the raw rows."""
    filters = filters or Filters()
    group = _group_column(dimension or "").label("group")
    figures: dict = {}
    invites = db.session.execute(_filtered(
        sa.select(group, OutcomeInvite.kind, sa.func.count(OutcomeInvite.id), sa.func.count(OutcomeInvite.answered_at))
        .select_from(OutcomeInvite), filters).group_by(group, OutcomeInvite.kind)).all()
    for key, kind, invited, answered in invites:
        f = figures.setdefault(group_key(key), Figures())
        if kind == EVALUATION:
            f.invited, f.answered = f.invited + invited, f.answered + answered
        else:
            f.follow_ups, f.follow_ups_answered = f.follow_ups + invited, f.follow_ups_answered + answered
    number = OutcomeAnswer.number
    answers = db.session.execute(_filtered(
        sa.select(group, OutcomeAnswer.key, sa.func.count(number), sa.func.sum(number), sa.func.sum(number * number),
                  sa.func.sum(sa.case((number >= GOOD_OR_BETTER, 1), else_=0)))
        .select_from(OutcomeAnswer).join(OutcomeInvite, OutcomeInvite.id == OutcomeAnswer.invite_id)
        .where(OutcomeAnswer.key.in_([*SCORES, "rating", "used_skills"]), number.is_not(None)), filters)
        .group_by(group, OutcomeAnswer.key)).all()
    for key, question, n, total, squares, good in answers:
        f = figures.setdefault(group_key(key), Figures())
        if question in SCORES:
            f.scores[question] = Mean(int(n), float(total or 0), float(squares or 0))
        elif question == "rating":
            f.rated, f.good = int(n), int(good or 0)
        else:
            f.use_answered, f.used = int(n), int(total or 0)
    return figures


def group_key(value):
    if value is None:
        return None
    return getattr(value, "value", value)


def current_first_aiders(basis: str = "home") -> dict[int, int]:
    """People holding a current certificate today by area key, counted in Python over every certificate: issued,
    not revoked, not expired, and not an awareness course's certificate of attendance."""
    today = london_today()
    people = {}
    for certificate in db.session.scalars(sa.select(Certificate)):
        if (certificate.course_type.is_awareness or certificate.revoked_at is not None
                or certificate.issued_on > today or not certificate.is_valid_on(today)):
            continue
        person = certificate.person
        area = person.work_council_area_id if basis == "work" else person.home_council_area_id
        people[person.id] = area if area is not None else UNKNOWN_AREA
    counts: dict[int, int] = {}
    for area in people.values():
        counts[area] = counts.get(area, 0) + 1
    return counts
