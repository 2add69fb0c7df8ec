"""Outcomes: versioned questionnaires, the invitations sent to answer them, the answers, and the settings.

- ``questionnaire``: the questions of one kind (``evaluation`` at the end of a course, ``follow_up`` six
  months on) at one version, as data; the highest version of a kind is the one sent. An answer keeps the
  version it answered.
- ``outcome_invite``: one per completion and kind, with an unguessable token; answered once, expires.
  Erasure unlinks it from the person (``person_id`` NULL) and removes the text answers; the scores stay.
- ``outcome_answer``: one row per question answered (a number for scales, choices and yes/no; text for a
  comment; one 0/1 row per option of a "tick all that apply" question, keyed ``question:option``).
- ``outcome_course_type``: per course type, whether the evaluation must be answered before the certificate
  can be downloaded (default no; the certificate is issued either way).
- ``outcome_opt_out``: people who asked for no more follow-up emails.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mhfa.db_types import UTCDateTime
from mhfa.extensions import db
from mhfa.timeutil import utcnow

EVALUATION, FOLLOW_UP = "evaluation", "follow_up"
KINDS = (EVALUATION, FOLLOW_UP)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Questionnaire(db.Model):
    """The questions of one kind at one version (a list of dicts: key, type, label, and the type's details)."""

    __tablename__ = "questionnaire"
    __table_args__ = (sa.UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    questions: Mapped[list] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def question(self, key: str) -> dict | None:
        return next((q for q in self.questions if q["key"] == key), None)


class OutcomeInvite(db.Model):
    """An invitation to answer a questionnaire about one completion: its token opens the page once."""

    __tablename__ = "outcome_invite"
    __table_args__ = (sa.UniqueConstraint("completion_id", "kind"),
                      sa.Index("ix_outcome_invite_course", "course_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    completion_id: Mapped[int] = mapped_column(sa.ForeignKey("completion.id"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id"))
    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"))
    token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    questionnaire_id: Mapped[int | None] = mapped_column(sa.ForeignKey("questionnaire.id"))

    questionnaire: Mapped[Questionnaire | None] = relationship()
    answers: Mapped[list[OutcomeAnswer]] = relationship(back_populates="invite", order_by="OutcomeAnswer.id")
    completion = relationship("Completion")
    course = relationship("Course")
    course_type = relationship("CourseType")
    person = relationship("Person")

    def answer(self, key: str) -> int | str | None:
        found = next((a for a in self.answers if a.key == key), None)
        return None if found is None else (found.number if found.text is None else found.text)


class OutcomeAnswer(db.Model):
    __tablename__ = "outcome_answer"
    __table_args__ = (sa.UniqueConstraint("invite_id", "key"), sa.Index("ix_outcome_answer_key", "key", "invite_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    invite_id: Mapped[int] = mapped_column(sa.ForeignKey("outcome_invite.id"))
    key: Mapped[str] = mapped_column(sa.String(60))
    number: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(sa.Text)

    invite: Mapped[OutcomeInvite] = relationship(back_populates="answers")


class OutcomeCourseType(db.Model):
    """A course type's outcome settings (no row: the defaults)."""

    __tablename__ = "outcome_course_type"

    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"), primary_key=True)
    evaluation_before_download: Mapped[bool] = mapped_column(default=False)


class OutcomeOptOut(db.Model):
    """Someone who asked for no more follow-up emails."""

    __tablename__ = "outcome_opt_out"

    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- kept figures (see ``keeping.py``: never edited by hand) -------------------------------------------------

class OutcomeKept(db.Model):
    """One invitation as the kept figures count it: its attribution and the scores its answers gave."""

    __tablename__ = "outcome_kept"

    invite_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(20))
    month: Mapped[int]  # yyyymm of the completion
    area: Mapped[int]  # the person's home council area (0: not known, or unlinked by erasure)
    course_type_id: Mapped[int]
    answered: Mapped[int]  # 1 when answered
    confidence_before: Mapped[int | None]
    confidence_now: Mapped[int | None]
    signposting_before: Mapped[int | None]
    signposting_now: Mapped[int | None]
    rating: Mapped[int | None]
    used_skills: Mapped[int | None]
    # The groups the outcomes page's tables read (stored values; none: not known, or unlinked by erasure).
    funding_stream: Mapped[str | None] = mapped_column(sa.String(40))  # the course's
    sex: Mapped[str | None] = mapped_column(sa.String(40))
    age_band: Mapped[str | None] = mapped_column(sa.String(40))
    ethnic_group: Mapped[str | None] = mapped_column(sa.String(40))
    disability: Mapped[str | None] = mapped_column(sa.String(40))


class _OutcomeSums:
    """The kept outcome figures of a group: invitations, answers, and each score's count, sum and sum of
    squares (the columns after a table's own key)."""

    invited: Mapped[int]
    answered: Mapped[int]
    confidence_before_n: Mapped[int]
    confidence_before_sum: Mapped[int]
    confidence_before_sq: Mapped[int]
    confidence_now_n: Mapped[int]
    confidence_now_sum: Mapped[int]
    confidence_now_sq: Mapped[int]
    signposting_before_n: Mapped[int]
    signposting_before_sum: Mapped[int]
    signposting_before_sq: Mapped[int]
    signposting_now_n: Mapped[int]
    signposting_now_sum: Mapped[int]
    signposting_now_sq: Mapped[int]
    rated: Mapped[int]
    good: Mapped[int]
    use_answered: Mapped[int]
    used: Mapped[int]


class OutcomeMonth(_OutcomeSums, db.Model):
    """Invitations, answers and the scores' counts, sums and sums of squares per kind, completion month, home
    area and course type: the dashboard's and the public page's outcome figures are a sum of a few rows.
    Integers: a sum of squares of 0-10 scores fits one until a cell holds 21 million answers."""

    __tablename__ = "outcome_month"
    # One area's sums are read from the index alone on PostgreSQL (it holds every column summed).
    __table_args__ = (sa.Index("ix_outcome_month_area", "area",
                               postgresql_include=["kind", "month", "course_type_id", *_OutcomeSums.__annotations__]),)

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    area: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class OutcomeTypeMonth(_OutcomeSums, db.Model):
    """The same sums per kind, completion month and course type, all areas together: what the dashboard reads
    when no area is chosen (a few hundred rows whatever the number of areas)."""

    __tablename__ = "outcome_type_month"

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class OutcomeArea(_OutcomeSums, db.Model):
    """The same sums per kind, home area and course type, every month together: what the public page's region
    (many areas, every month) adds up, a few hundred rows whatever the length of the history."""

    __tablename__ = "outcome_area"

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    area: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class OutcomeGroupMonth(_OutcomeSums, db.Model):
    """The same sums per kind, group (a dimension of the outcomes page: funding stream, sex, age band, ethnic
    group, disability; value "" for not known), completion month, home area and course type: the page's
    tables by those groups are a sum of kept rows."""

    __tablename__ = "outcome_group_month"

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    dimension: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    area: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class FirstAiderKept(db.Model):
    """A person holding an unrevoked certificate: their areas and the latest expiry among those certificates
    (``9999-12-31`` when one never expires). They are a current first aider on any day up to ``expires_on``."""

    __tablename__ = "first_aider_kept"

    person_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    home_area: Mapped[int]
    work_area: Mapped[int]
    expires_on: Mapped[date]
    expiry_month: Mapped[int]  # yyyymm of expires_on


class FirstAiderMonth(db.Model):
    """People holding an unrevoked certificate, per basis (home, work), area and month of their latest expiry:
    current first aiders today are the months after this one plus this month's rows not yet expired."""

    __tablename__ = "first_aider_month"

    basis: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    area: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    expiry_month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    people: Mapped[int]


class FirstAiderDay(db.Model):
    """The same people per basis, day of their latest expiry and area: today's count reads the days left in this
    month here (at most a month's days by areas), not each person's row (a month's expiries, which grow with the
    people the programme trains)."""

    __tablename__ = "first_aider_day"

    basis: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    expires_on: Mapped[date] = mapped_column(primary_key=True)
    area: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    people: Mapped[int]


#: What the funnel groups and filters a place by, and what it counts of it.
PLACE_GROUPS = ["month", "course_type_id", "home_area", "work_area", "delivery_area"]
PLACE_STEPS = ["attended", "completed", "certified", "current_until"]


class FunnelPlace(db.Model):
    """A place as the kept funnel counts it: a confirmed booking on a published or completed course with a start,
    the course's London start month and start, its course type, the areas on each basis (0: not known), the steps
    it reached, and the latest expiry among the unrevoked certificates of its completion (``9999-12-31`` when one
    never expires; none when it holds none)."""

    __tablename__ = "funnel_place"
    # The dashboard reads this month's starts and expiries from the indexes alone on PostgreSQL (they hold what
    # the funnel counts of them).
    __table_args__ = (sa.Index("ix_funnel_place_starts", "starts_at", postgresql_include=[*PLACE_GROUPS, *PLACE_STEPS]),
                      sa.Index("ix_funnel_place_current", "current_until", postgresql_include=PLACE_GROUPS))

    booking_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[int]  # yyyymm of the course's start, in London
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    course_type_id: Mapped[int]
    home_area: Mapped[int]
    work_area: Mapped[int]
    delivery_area: Mapped[int]
    attended: Mapped[int]  # 1 when marked present at one session or more
    completed: Mapped[int]
    certified: Mapped[int]
    current_until: Mapped[date | None]
    current_month: Mapped[int]  # yyyymm of current_until (0: no unrevoked certificate)


class _FunnelSteps:
    """The kept funnel figures of a group: its places and how many reached each step (the columns after a
    table's own key)."""

    booked: Mapped[int]
    attended: Mapped[int]
    completed: Mapped[int]
    certified: Mapped[int]


class FunnelMonth(_FunnelSteps, db.Model):
    """Places per basis (home, work, delivery), area, start month, course type and month of their certificate's
    latest expiry (0: none), with the steps they reached: the funnel of the months before this one is a sum of
    a few rows, and "current today" is the rows whose expiry month is after this one plus this month's places
    not yet expired."""

    __tablename__ = "funnel_month"
    # One area's months are read from the index alone on PostgreSQL (it holds every step counted).
    __table_args__ = (sa.Index("ix_funnel_month_area", "basis", "area", "month",
                               postgresql_include=["course_type_id", "current_month", *_FunnelSteps.__annotations__]),)

    basis: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    area: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    current_month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class FirstAiderSpan(db.Model):
    """A stretch of days on which a person held a current certificate (the union of their certificates' days,
    from issue to expiry or the day before the London day of a revocation), with their areas: the first-aider
    trend counts the spans covering each month's end. ``to_month`` is the last month whose end the span covers."""

    __tablename__ = "first_aider_span"

    person_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    starts_on: Mapped[date] = mapped_column(primary_key=True)
    ends_on: Mapped[date]
    home_area: Mapped[int]
    work_area: Mapped[int]
    from_month: Mapped[int]  # yyyymm of starts_on
    to_month: Mapped[int]


class FirstAiderSpanMonth(db.Model):
    """Spans per basis (home, work), area, first month and last month-end covered: the people holding a current
    certificate at a month's end are the rows with ``from_month <= month <= to_month``."""

    __tablename__ = "first_aider_span_month"

    basis: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    area: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    from_month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    to_month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    people: Mapped[int]


class FunnelTypeMonth(_FunnelSteps, db.Model):
    """The same places per start month, course type and expiry month, all areas together: what the funnel reads
    when no area is chosen (a few hundred rows whatever the number of areas)."""

    __tablename__ = "funnel_type_month"

    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_type_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    current_month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
