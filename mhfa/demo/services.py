"""A realistic, deterministic programme history, at any scale up to the full 500,000 people.

The same ``people``, ``seed`` and ``today`` always give the same history. Everything is generated
as numpy arrays and pandas frames, then bulk-loaded (COPY on PostgreSQL), so the full programme
scale builds in minutes with bounded memory.

How the history is shaped (the assumptions are labelled, see ``ASSUMPTIONS``):
- each person's first course date follows delivery that grows from the launch in February 2017;
- no delivery during the first COVID-19 lockdown, online courses from 29 May 2020 (MHFA England),
  in-person courses back from April 2021, online settling at about a third of delivery;
- fewer courses in August and almost none in late December;
- the course-type mix and capacities of the MHFA catalogue; people booked together onto courses;
- 7% no-shows (half rebook), some partial attendance, individual cancellations, cancelled
  courses, waiting lists on full courses;
- some people take a second course (an awareness course first, then the two-day course), and
  about a third of those certified take a refresher around three years later;
- employers buy group places (orders, invoices, place vouchers) and book closed courses;
- published courses over the next twelve weeks with free places, so a visitor can book today.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.areas.services import latest_populations, load_council_areas
from mhfa.auth.models import Role, User
from mhfa.courses.catalogue import load_course_types
from mhfa.courses.models import Course, CourseType
from mhfa.demo import bulk, teaching
from mhfa.demo.accounts import demo_accounts
from mhfa.demo.employer_work import employer_work
from mhfa.demo.enrolment import _Enrolment
from mhfa.demo.features import fill_features
from mhfa.demo.organisations import _Organisations
from mhfa.demo.outcomes import add_outcomes
from mhfa.demo.population import _Population
from mhfa.demo.renewals import renew_refreshed_certificates
from mhfa.demo.schedule import _Schedule
from mhfa.demo.shape import ASSUMPTIONS, HORIZON_DAYS, START
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.outcomes.keeping import rebuild as keep_outcome_figures
from mhfa.people.models import Person


@dataclass
class DemoSummary:
    counts: dict[str, int]
    checksum: str
    logins: list[tuple[str, str]]
    assumptions: tuple[str, ...] = ASSUMPTIONS


@dataclass
class _Reference:
    area_ids: np.ndarray
    area_in_region: np.ndarray
    area_weights: np.ndarray  # population shares among the target region
    type_codes: list[str]
    type_ids: np.ndarray
    capacity: np.ndarray
    valid_years: np.ndarray  # 0 = no expiry
    title: list[str]

    def type_index(self, code: str) -> int:
        return self.type_codes.index(code)


class _Sink:
    """Takes each table's frame as soon as it is built: adds it to the checksum, writes it, forgets it."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.counts: dict[str, int] = {}
        self.digest = hashlib.sha256()
        self.connection = db.session.connection()

    def add(self, table: str, frame: pd.DataFrame) -> None:
        began = time.perf_counter()
        self.digest.update(table.encode())
        for column in frame.columns:
            if column not in ("code", "verification_token"):  # random tokens stay unguessable, outside the sum
                self.digest.update(pd.util.hash_pandas_object(frame[column], index=False).to_numpy().tobytes())
        self.counts[table] = bulk.write(self.connection, table, frame)
        self.say(f"    wrote {table}: {self.counts[table]:,} rows in {time.perf_counter() - began:.1f} s")

    @property
    def checksum(self) -> str:
        return self.digest.hexdigest()[:16]


def has_programme_data() -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count(Person.id)))) or bool(
        db.session.scalar(sa.select(sa.func.count(Course.id)))
    )


def generate(people: int, seed: int, today: date, echo: Callable[[str], None] | None = None) -> DemoSummary:
    """Write the demo history into an empty programme (reference data is loaded if missing)."""
    if has_programme_data():
        raise DomainError("The database already holds people or courses; demo data goes into an empty programme.")
    say = echo or (lambda _message: None)
    load_council_areas()
    load_course_types()
    db.session.flush()
    ref = _reference()
    rng = np.random.default_rng(seed)
    say(f"Generating a history of {people:,} people from {START:%B %Y} to {today:%-d %B %Y} (seed {seed})")
    sink = _Sink(say)
    builder = _HistoryBuilder(ref, rng, people, today, sink)
    builder.build(say)
    bulk.reset_sequences(sink.connection, list(sink.counts))
    counts, checksum = sink.counts, sink.checksum
    renew_refreshed_certificates()
    began = time.perf_counter()
    outcomes = add_outcomes(seed, today)
    say(f"  outcomes: {outcomes['outcome_invite']:,} invitations, {outcomes['outcome_answer']:,} answers "
        f"in {time.perf_counter() - began:.1f} s")
    logins = demo_accounts(builder)
    db.session.flush()
    instructor_login = db.session.scalar(sa.select(Person.id).where(Person.email == dict(logins).get("instructor")))
    recent = teaching.add_recent_teaching(today, instructor_login)
    say(f"  recent teaching: {recent} courses that ran in the last fortnight, waiting for registers or completion")
    contact = db.session.scalar(sa.select(User).where(User.email == dict(logins).get(Role.EMPLOYER.value)))
    if contact is not None:
        employer_work(builder, contact)
    fill_features(builder, dict(logins))
    db.session.flush()
    keep_outcome_figures()  # the history was written in bulk (COPY), below the outcome figures' listener
    summary_counts = {
        "people": counts["person"] - builder.staff_people,
        "courses": counts["course"],
        "sessions": counts["course_session"],
        "bookings": counts["booking"],
        "attendance marks": counts["attendance_mark"],
        "completions": counts["completion"],
        "certificates": counts["certificate"],
        "employers": counts["employer"],
        "orders": counts["employer_order"],
        "place vouchers": counts["place_voucher"],
        "venues": counts["venue"],
        "instructors": counts["instructor"],
        "evaluation and follow-up answers": outcomes["outcome_answer"],
    }
    return DemoSummary(counts=summary_counts, checksum=checksum, logins=logins)


def _reference() -> _Reference:
    areas = db.session.scalars(sa.select(CouncilArea).order_by(CouncilArea.id)).all()
    populations = latest_populations()
    in_region = np.array([a.in_target_region for a in areas])
    pops = np.array([populations.get(a.id, 0) if a.in_target_region else 0 for a in areas], dtype=float)
    types = db.session.scalars(sa.select(CourseType).order_by(CourseType.id)).all()
    return _Reference(
        area_ids=np.array([a.id for a in areas]),
        area_in_region=in_region,
        area_weights=pops / pops.sum(),
        type_codes=[t.code for t in types],
        type_ids=np.array([t.id for t in types]),
        capacity=np.array([t.max_learners for t in types]),
        valid_years=np.array([t.certificate_valid_years or 0 for t in types]),
        title=[t.certificate_title for t in types],
    )


class _HistoryBuilder(_Organisations, _Population, _Schedule, _Enrolment):
    """Builds every table's frame; ids are assigned here (1..n, the tables being empty)."""

    def __init__(self, ref: _Reference, rng: np.random.Generator, people: int, today: date, sink: _Sink):
        self.ref, self.rng, self.n, self.today, self.frames = ref, rng, people, today, sink
        self.today_index = (today - START).days
        self.horizon = self.today_index + HORIZON_DAYS
        self.staff_people = 0

    # ------------------------------------------------------------------ orchestration
    def build(self, say: Callable[[str], None]) -> None:
        steps = (self._employers, self._venues, self._people, self._instructors, self._person_rows, self._seats,
                 self._courses, self._sessions_and_instructors, self._bookings, self._orders,
                 self._attendance_and_completions)
        for step in steps:
            began = time.perf_counter()
            step()
            say(f"  {step.__name__.strip('_').replace('_', ' ')}: {time.perf_counter() - began:.1f} s")

    # ------------------------------------------------------------------ helpers
    def _pick_area(self, size: int) -> np.ndarray:
        """Areas drawn by population within the target region."""
        return self.rng.choice(self.ref.area_ids, size=size, p=self.ref.area_weights)

    def _date(self, day_index) -> np.ndarray:
        return np.datetime64(START) + np.asarray(day_index).astype("timedelta64[D]")


