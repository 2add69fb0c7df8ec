"""A realistic, deterministic programme history, at any scale: 500,000 people (the programme) to 5,000,000.

The same ``people``, ``seed`` and ``today`` always give the same history. Everything is generated
as numpy arrays and pandas frames, then bulk-loaded (COPY on PostgreSQL). The history is streamed:
the employers and venues are made once, then the people come in cohorts of at most ``COHORT_PEOPLE``,
each a whole history of its own over the same years (its own employers among the shared ones, its
own instructors and courses), generated, written and dropped before the next; so memory stays the
same whatever the people count, and a larger history has the same shape as a smaller one.

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
from types import SimpleNamespace

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
from mhfa.outcomes.keeping import suspended as keeping_suspended
from mhfa.people.models import Person

COHORT_PEOPLE = 200_000  # the people generated and written at a time: the build's memory follows it, not --people
# From this many people the loaded tables' foreign keys and secondary indexes are set aside during the load
# (bulk.set_aside); a small history is written with them in place, as its checks cost little.
SET_ASIDE_FROM_PEOPLE = 100_000

# The tables a cohort numbers from 1 and the sink moves past the earlier cohorts' rows (employers and venues
# are made once for the whole history): for each, the columns holding one of those tables' ids.
COHORT_IDS: dict[str, dict[str, str]] = {
    "person": {"id": "person"},
    "instructor": {"id": "instructor", "person_id": "person"},
    "instructor_course_type": {"instructor_id": "instructor"},
    "course": {"id": "course"},
    "course_session": {"id": "course_session", "course_id": "course"},
    "course_instructor": {"course_id": "course", "instructor_id": "instructor"},
    "employer_order": {"id": "employer_order"},
    "place_voucher": {"id": "place_voucher", "order_id": "employer_order", "assigned_person_id": "person"},
    "invoice": {"id": "invoice", "order_id": "employer_order"},
    "booking": {"id": "booking", "course_id": "course", "person_id": "person", "voucher_id": "place_voucher"},
    "attendance_mark": {"id": "attendance_mark", "booking_id": "booking", "session_id": "course_session"},
    "completion": {"id": "completion", "person_id": "person", "course_id": "course", "booking_id": "booking"},
    "certificate": {"id": "certificate", "completion_id": "completion", "person_id": "person"},
}


def cohort_sizes(people: int, cohort: int) -> list[int]:
    """``people`` split into as few cohorts of at most ``cohort`` as it takes, as equal as can be."""
    count = max(1, -(-people // cohort))
    return [people // count + (1 if k < people % count else 0) for k in range(count)]


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
    """Takes each table's frame as soon as it is built: moves a cohort's ids past the earlier cohorts' rows,
    adds it to the checksum, writes it, forgets it."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.counts: dict[str, int] = {}
        self.offset: dict[str, int] = {}
        self.status_bits = 0
        self.digest = hashlib.sha256()
        self.connection = db.session.connection()

    def status_block(self, size: int) -> int:
        """The first status-list index of a cohort's block of ``size`` bits (blocks never overlap)."""
        first = self.status_bits
        self.status_bits += size
        return first

    def begin_cohort(self) -> dict[str, int]:
        """The ids the next cohort's rows start after, table by table (fixed for the whole cohort)."""
        self.offset = dict(self.counts)
        return self.offset

    def add(self, table: str, frame: pd.DataFrame) -> None:
        began = time.perf_counter()
        for column, target in COHORT_IDS.get(table, {}).items():
            if self.offset.get(target):
                frame[column] = frame[column] + self.offset[target]
        self.digest.update(table.encode())
        for column in frame.columns:
            if column not in ("code", "verification_token"):  # random tokens stay unguessable, outside the sum
                self.digest.update(pd.util.hash_pandas_object(frame[column], index=False).to_numpy().tobytes())
        written = bulk.write(self.connection, table, frame)
        self.counts[table] = self.counts.get(table, 0) + written
        self.say(f"    wrote {table}: {written:,} rows in {time.perf_counter() - began:.1f} s")

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
    loaded = [*COHORT_IDS, "employer", "venue", "outcome_invite", "outcome_answer"]
    # Written below the session's eye and rebuilt at the end (keep_outcome_figures): nothing to note meanwhile.
    with keeping_suspended(db.session()), \
            bulk.set_aside(sink.connection, loaded if people >= SET_ASIDE_FROM_PEOPLE else [], say):
        world = _HistoryBuilder(ref, rng, people, today, sink)
        world.run(say, (world._employers, world._venues))
        sizes = cohort_sizes(people, COHORT_PEOPLE)
        outcomes = {"outcome_invite": 0, "outcome_answer": 0}
        builder = None
        staff = 0
        for k, size in enumerate(sizes):
            if len(sizes) > 1:
                say(f"  cohort {k + 1} of {len(sizes)}: {size:,} people")
            offset = sink.begin_cohort()
            cohort = _HistoryBuilder(ref, rng, size, today, sink, offset)
            cohort.share(world, k, len(sizes))
            cohort.build(say)
            staff += cohort.staff_people
            first_certificate = offset.get("certificate", 0)
            renew_refreshed_certificates((first_certificate, sink.counts.get("certificate", 0)))
            began = time.perf_counter()
            first_completion = offset.get("completion", 0)
            written = add_outcomes(seed, today, (first_completion, sink.counts.get("completion", 0)),
                                   (outcomes["outcome_invite"], outcomes["outcome_answer"]), k)
            outcomes = {table: outcomes[table] + written[table] for table in outcomes}
            say(f"  outcomes: {written['outcome_invite']:,} invitations, {written['outcome_answer']:,} answers "
                f"in {time.perf_counter() - began:.1f} s")
            if builder is None:
                builder = cohort.kept()  # the first cohort's ids are the history's: the demo logins are chosen there
            del cohort
    bulk.reset_sequences(sink.connection, [*sink.counts, "outcome_invite", "outcome_answer"])
    counts, checksum = sink.counts, sink.checksum
    logins = demo_accounts(builder)
    db.session.flush()
    instructor_login = db.session.scalar(sa.select(Person.id).where(Person.email == dict(logins).get("instructor")))
    recent = teaching.add_recent_teaching(today, instructor_login)
    say(f"  recent teaching: {recent} courses that ran in the last fortnight, waiting for registers or completion")
    contact = db.session.scalar(sa.select(User).where(User.email == dict(logins).get(Role.EMPLOYER.value)))
    began = time.perf_counter()
    if contact is not None:
        employer_work(builder, contact)
    fill_features(builder, dict(logins))
    db.session.flush()
    say(f"  the demo logins' work and every feature's examples: {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    # The history was written in bulk (COPY), below the outcome figures' listener: built once, nothing to compare.
    keep_outcome_figures(compare=False)
    say(f"  kept outcome figures built: {time.perf_counter() - began:.1f} s")
    summary_counts = {
        "people": counts["person"] - staff,
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
    """Builds every table's frame. The whole history's builder makes the employers and venues; a cohort's
    builder the rest of its people's history, its ids numbered from 1 (the sink moves them past the earlier
    cohorts'); ``offset`` holds those earlier rows' counts, for the numbers and names that must be unique."""

    def __init__(self, ref: _Reference, rng: np.random.Generator, people: int, today: date, sink: _Sink,
                 offset: dict[str, int] | None = None):
        self.ref, self.rng, self.n, self.today, self.frames = ref, rng, people, today, sink
        self.offset = offset or {}
        self.today_index = (today - START).days
        self.horizon = self.today_index + HORIZON_DAYS
        self.staff_people = 0

    def share(self, world: _HistoryBuilder, cohort: int, cohorts: int) -> None:
        """Take the whole history's venues, and its ``cohort``-th share of the employers for this cohort's staff."""
        self.venue_ids, self.venue_area, self.venues_by_area = world.venue_ids, world.venue_area, world.venues_by_area
        self.employer_area, self.employer_size = world.employer_area, world.employer_size
        count = len(world.employer_ids)
        first, last = count * cohort // cohorts, max(count * (cohort + 1) // cohorts, count * cohort // cohorts + 1)
        self.employer_ids = world.employer_ids[first:last]
        self.employer_weight = world.employer_weight[first:last]

    def kept(self) -> SimpleNamespace:
        """What the demo logins are chosen from once the cohort is written (its frames are dropped)."""
        return SimpleNamespace(**{name: getattr(self, name) for name in (
            "ref", "today", "top_employer", "dob", "completed_person", "completed_type", "course_status",
            "course_first_start", "course_instructors", "instructor_person")})

    # ------------------------------------------------------------------ orchestration
    def run(self, say: Callable[[str], None], steps) -> None:
        for step in steps:
            began = time.perf_counter()
            step()
            say(f"  {step.__name__.strip('_').replace('_', ' ')}: {time.perf_counter() - began:.1f} s")

    def build(self, say: Callable[[str], None]) -> None:
        self.run(say, (self._people, self._instructors, self._person_rows, self._seats, self._courses,
                       self._sessions_and_instructors, self._bookings, self._orders,
                       self._attendance_and_completions))

    # ------------------------------------------------------------------ helpers
    def _pick_area(self, size: int) -> np.ndarray:
        """Areas drawn by population within the target region."""
        return self.rng.choice(self.ref.area_ids, size=size, p=self.ref.area_weights)

    def _date(self, day_index) -> np.ndarray:
        return np.datetime64(START) + np.asarray(day_index).astype("timedelta64[D]")


