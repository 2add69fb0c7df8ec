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
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.areas.services import latest_populations, load_council_areas
from mhfa.auth.models import Role, User
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.courses.catalogue import load_course_types
from mhfa.courses.models import Course, CourseStatus, CourseType
from mhfa.demo import bulk
from mhfa.demo.names import FIRST_NAMES, LAST_NAMES
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.timeutil import utcnow

START = date(2017, 2, 1)
LOCKDOWN_START = date(2020, 3, 23)
ONLINE_START = date(2020, 5, 29)
IN_PERSON_RESUMES = date(2021, 4, 12)
HORIZON_DAYS = 84
DEMO_PASSWORD = "reach-demo-2017"  # noqa: S105  (printed for everyone: demo accounts only)
DEMO_DOMAIN = "example.org"

ASSUMPTIONS = (
    "Seasonality (assumption, none is published): August at 55% of normal delivery, almost none 20 Dec-3 Jan.",
    "COVID-19 (assumption): no delivery 23 Mar-28 May 2020; online only until 12 Apr 2021.",
    "Online delivery from 29 May 2020 (MHFA England); settling at about 30% of courses (assumption).",
)

FIRST_COURSE_MIX = {"ADULT_2DAY": 0.42, "ADULT_CHAMPION": 0.18, "AWARE": 0.27, "YOUTH_2DAY": 0.10,
                    "YOUTH_CHAMPION": 0.03}
PUBLIC_PRICE_PENCE = {"ADULT_2DAY": 25000, "ADULT_CHAMPION": 15000, "AWARE": 7500, "YOUTH_2DAY": 25000,
                      "YOUTH_CHAMPION": 15000, "REFRESHER": 9000}
EMPLOYER_PRICE_PENCE = {"ADULT_2DAY": 30000, "ADULT_CHAMPION": 18000, "AWARE": 9500, "YOUTH_2DAY": 30000,
                        "YOUTH_CHAMPION": 18000, "REFRESHER": 11000}
REFRESHABLE = ("ADULT_2DAY", "ADULT_CHAMPION", "YOUTH_2DAY", "YOUTH_CHAMPION")

# Session layouts: (day offsets, London start hour, start minute, hours per session).
LAYOUTS = {
    ("ADULT_2DAY", False): ((0, 1), 9, 0, 7.0),
    ("ADULT_2DAY", True): ((0, 2, 7, 9), 9, 30, 3.5),
    ("YOUTH_2DAY", False): ((0, 1), 9, 0, 7.0),
    ("YOUTH_2DAY", True): ((0, 2, 7, 9), 9, 30, 3.5),
    ("ADULT_CHAMPION", False): ((0,), 9, 0, 7.0),
    ("ADULT_CHAMPION", True): ((0, 2), 9, 30, 3.5),
    ("YOUTH_CHAMPION", False): ((0,), 9, 0, 7.0),
    ("YOUTH_CHAMPION", True): ((0, 2), 9, 30, 3.5),
    ("AWARE", False): ((0,), 9, 30, 4.0),
    ("AWARE", True): ((0,), 13, 0, 4.0),
    ("REFRESHER", False): ((0,), 9, 30, 4.0),
    ("REFRESHER", True): ((0,), 13, 0, 4.0),
}

BOOKING_STATUS = np.array(["confirmed", "waitlisted", "cancelled"], dtype=object)
CONFIRMED, WAITLISTED, CANCELLED = 0, 1, 2
OUTCOME_COMPLETE, OUTCOME_NO_SHOW, OUTCOME_PARTIAL = 0, 1, 2


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


def demo_logins() -> list[tuple[str, str]]:
    return [(role.value, f"{role.value}@{DEMO_DOMAIN}") for role in Role]


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
    logins = _demo_accounts(builder)
    db.session.flush()
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


def _day_dates(n_days: int) -> np.ndarray:
    return np.datetime64(START) + np.arange(n_days).astype("timedelta64[D]")


def delivery_weights(n_days: int, today_index: int) -> np.ndarray:
    """Relative delivery per day since the launch: growth, seasonality, the pandemic, bookings ahead."""
    days = np.arange(n_days)
    dates = _day_dates(n_days)
    years = days / 365.25
    growth = 0.03 + 1.0 / (1.0 + np.exp(-(years - 3.4) * 1.05))
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    season = np.ones(n_days)
    season[months == 8] = 0.55
    season[months == 7] = 0.9
    season[(months == 12) & (day_of_month >= 20)] = 0.08
    season[(months == 1) & (day_of_month <= 3)] = 0.08
    pandemic = np.ones(n_days)
    lockdown = (dates >= np.datetime64(LOCKDOWN_START)) & (dates < np.datetime64(ONLINE_START))
    pandemic[lockdown] = 0.0
    online_only = (dates >= np.datetime64(ONLINE_START)) & (dates < np.datetime64(IN_PERSON_RESUMES))
    pandemic[online_only] = 0.6
    ahead = days > today_index
    booked_so_far = np.ones(n_days)
    booked_so_far[ahead] = np.clip(1.0 - (days[ahead] - today_index) / (HORIZON_DAYS * 1.15), 0.1, 1.0)
    return growth * season * pandemic * booked_so_far


def online_probability(day_index: np.ndarray) -> np.ndarray:
    dates = np.datetime64(START) + day_index.astype("timedelta64[D]")
    p = np.zeros(len(day_index))
    p[dates >= np.datetime64(ONLINE_START)] = 1.0
    p[dates >= np.datetime64(IN_PERSON_RESUMES)] = 0.75
    settling = dates >= np.datetime64(date(2021, 7, 19))
    progress = np.clip((dates - np.datetime64(date(2021, 7, 19))).astype(int) / 540.0, 0, 1)
    p[settling] = (0.6 - 0.3 * progress)[settling]
    return p


def _holiday(day: date) -> bool:
    """The Christmas and New Year break, when no course runs."""
    return (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2)


class _HistoryBuilder:
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

    # ------------------------------------------------------------------ employers and venues
    def _employers(self) -> None:
        rng = self.rng
        count = max(8, self.n // 250)
        sizes = rng.choice(["micro", "small", "medium", "large"], size=count, p=[0.2, 0.35, 0.3, 0.15])
        sectors = rng.choice(["public", "private", "voluntary", "education", "health"], size=count,
                             p=[0.25, 0.4, 0.15, 0.1, 0.1])
        areas = self._pick_area(count)
        outside = rng.random(count) < 0.08
        others = self.ref.area_ids[~self.ref.area_in_region]
        areas[outside] = rng.choice(others, size=int(outside.sum()))
        words = np.array(["Foundry", "Canal", "Heritage", "Midland", "Forge", "Crown", "Jewellery Quarter", "Arden",
                          "Black Country", "Severn", "Unity", "Civic", "Bullring", "Lickey", "Spires", "Brindley"])
        kinds = {"public": "Council Services", "private": "Ltd", "voluntary": "Community Trust",
                 "education": "Academy Trust", "health": "Care Partnership"}
        names = [f"{words[i % len(words)]} {kinds[s]} {i + 1}" for i, s in enumerate(sectors)]
        self.employer_ids = np.arange(1, count + 1)
        self.employer_area = areas
        self.employer_size = sizes
        self.employer_weight = np.select([sizes == "micro", sizes == "small", sizes == "medium"], [1, 4, 15], 60)
        self.frames.add("employer", pd.DataFrame({
            "id": self.employer_ids,
            "name": names,
            "sector": sectors,
            "size_band": sizes,
            "council_area_id": areas,
            "wellbeing_commitment_signatory": rng.random(count) < 0.3,
            "created_at": bulk.moments(self._date(rng.integers(0, max(1, self.today_index - 30), count))
                                       .astype("datetime64[s]") + np.timedelta64(9, "h")),
        }))

    def _venues(self) -> None:
        rng = self.rng
        region = self.ref.area_ids[self.ref.area_in_region]
        others = self.ref.area_ids[~self.ref.area_in_region]
        extra = max(12, self.n // 3000)
        areas = np.concatenate([region, others, self._pick_area(extra)])
        count = len(areas)
        kinds = np.array(["Community Hub", "Central Library", "Council House", "Learning Centre", "Fire Station",
                          "Wellbeing Centre", "Enterprise Centre", "Methodist Hall", "Gurdwara Hall", "Leisure Centre"])
        postcode_districts = {"Birmingham": "B", "Coventry": "CV", "Dudley": "DY", "Sandwell": "B", "Solihull": "B",
                              "Walsall": "WS", "Wolverhampton": "WV"}
        area_names = dict(db.session.execute(sa.select(CouncilArea.id, CouncilArea.name)).all())
        names, towns, postcodes = [], [], []
        for i, area_id in enumerate(areas):
            town = area_names[int(area_id)]
            names.append(f"{town} {kinds[i % len(kinds)]}" + (f" {i // len(kinds) + 1}" if i >= len(kinds) else ""))
            towns.append(town)
            prefix = postcode_districts.get(town, "CV")
            postcodes.append(f"{prefix}{rng.integers(1, 40)} {rng.integers(1, 9)}{'ABDEFGHJLNPQRSTUWXYZ'[i % 20]}"
                             f"{'ABDEFGHJLNPQRSTUWXYZ'[(i * 7) % 20]}")
        self.venue_ids = np.arange(1, count + 1)
        self.venue_area = areas
        self.venues_by_area: dict[int, np.ndarray] = {
            int(a): self.venue_ids[areas == a] for a in np.unique(areas)
        }
        self.frames.add("venue", pd.DataFrame({
            "id": self.venue_ids,
            "name": names,
            "address_line1": [f"{rng.integers(1, 200)} {s} Street" for s in rng.choice(
                ["High", "Church", "Station", "Victoria", "Park", "Queen", "Mill", "New"], size=count)],
            "address_line2": "",
            "town": towns,
            "postcode": postcodes,
            "council_area_id": areas,
            "step_free_access": rng.random(count) < 0.78,
            "access_notes": "",
            "active": True,
        }))

    # ------------------------------------------------------------------ people
    def _people(self) -> None:
        rng, n = self.rng, self.n
        weights = delivery_weights(self.horizon + 1, self.today_index)
        self.t_first = rng.choice(len(weights), size=n, p=weights / weights.sum())
        # The launch: the founding instructors ran two-day courses in the first weeks of the programme.
        self.launch_cohort = min(n, max(12, n // 500))
        self.t_first[: self.launch_cohort] = rng.integers(0, 40, self.launch_cohort)
        region_home = rng.random(n)
        home = self._pick_area(n).astype(float)
        others = self.ref.area_ids[~self.ref.area_in_region]
        outside = (region_home >= 0.82) & (region_home < 0.90)
        home[outside] = rng.choice(others, size=int(outside.sum()))
        home[region_home >= 0.90] = np.nan
        self.home_area = home
        employed = rng.random(n) < 0.4
        employer = np.full(n, np.nan)
        employer[employed] = rng.choice(self.employer_ids, size=int(employed.sum()),
                                        p=self.employer_weight / self.employer_weight.sum())
        self.employer = employer
        work = np.full(n, np.nan)
        work[employed] = self.employer_area[employer[employed].astype(int) - 1]
        elsewhere = ~employed & (rng.random(n) < 0.25)
        work[elsewhere] = self._pick_area(int(elsewhere.sum()))
        self.work_area = work
        # Courses can run up to nine months before a person's preferred date: nobody is under 16 on any.
        age_at_first = np.clip(rng.normal(40, 12, n), 17.0, 72)
        dob = self._date(self.t_first) - (age_at_first * 365.25).astype("timedelta64[D]")
        self.dob = dob
        self.has_dob = rng.random(n) < 0.75

    def _instructors(self) -> None:
        rng = self.rng
        count = max(10, self.n // 1200)
        lapsed = rng.random(count) < 0.12
        expiry = np.where(
            lapsed,
            rng.integers(365 * 2, max(365 * 2 + 1, self.today_index - 30), count),
            self.today_index + rng.integers(60, 730, count),
        )
        joined = np.minimum(rng.integers(-180, max(1, self.today_index - 200), count), expiry - 365)
        joined[: max(3, count // 6)] = -120  # a founding cohort licensed before the launch
        self.instructor_ids = np.arange(1, count + 1)
        self.instructor_joined = joined
        self.instructor_expiry = expiry
        self.instructor_person = self.n + np.arange(1, count + 1)
        self.staff_people = count

    # ------------------------------------------------------------------ seats: who takes which course when
    def _seats(self) -> None:
        rng, ref, n = self.rng, self.ref, self.n
        counting = list(FIRST_COURSE_MIX)
        first_type = rng.choice([ref.type_index(c) for c in counting], size=n, p=list(FIRST_COURSE_MIX.values()))
        first_type[: self.launch_cohort] = ref.type_index("ADULT_2DAY")
        person = [np.arange(n)]
        ctype = [first_type]
        t = [self.t_first]
        kind = [np.zeros(n, dtype=np.int8)]

        # A second, deeper course for some who started with an awareness or champion course.
        starters = np.isin(first_type, [ref.type_index(c) for c in ("AWARE", "ADULT_CHAMPION", "YOUTH_CHAMPION")])
        second = starters & (rng.random(n) < 0.12)
        follow = np.where(first_type == ref.type_index("YOUTH_CHAMPION"), ref.type_index("YOUTH_2DAY"),
                          ref.type_index("ADULT_2DAY"))
        person.append(np.flatnonzero(second))
        ctype.append(follow[second])
        t.append(self.t_first[second] + rng.integers(60, 540, int(second.sum())))
        kind.append(np.full(int(second.sum()), 1, dtype=np.int8))

        person, ctype, t, kind = (np.concatenate(x) for x in (person, ctype, t, kind))
        outcome = np.where(rng.random(len(person)) < 0.07, OUTCOME_NO_SHOW, OUTCOME_COMPLETE).astype(np.int8)
        partial = (outcome == OUTCOME_COMPLETE) & (rng.random(len(person)) < 0.015)
        outcome[partial] = OUTCOME_PARTIAL

        # Half of those who missed their course book again.
        missed = (outcome != OUTCOME_COMPLETE) & (rng.random(len(person)) < 0.5)
        re_person, re_type = person[missed], ctype[missed]
        re_t = t[missed] + rng.integers(21, 150, int(missed.sum()))
        re_outcome = np.where(rng.random(len(re_person)) < 0.04, OUTCOME_NO_SHOW, OUTCOME_COMPLETE).astype(np.int8)

        person = np.concatenate([person, re_person])
        ctype = np.concatenate([ctype, re_type])
        t = np.concatenate([t, re_t])
        kind = np.concatenate([kind, np.full(len(re_person), 2, dtype=np.int8)])
        outcome = np.concatenate([outcome, re_outcome])

        # Refreshers about three years after a first-aider or champion certificate.
        refreshable = np.isin(ctype, [ref.type_index(c) for c in REFRESHABLE]) & (outcome == OUTCOME_COMPLETE)
        ref_t = t + 1095 + np.round(rng.normal(20, 50, len(t))).astype(int)
        takes = refreshable & (ref_t <= self.horizon) & (rng.random(len(t)) < 0.33)
        person = np.concatenate([person, person[takes]])
        ctype = np.concatenate([ctype, np.full(int(takes.sum()), ref.type_index("REFRESHER"))])
        t = np.concatenate([t, ref_t[takes]])
        kind = np.concatenate([kind, np.full(int(takes.sum()), 3, dtype=np.int8)])
        outcome = np.concatenate([outcome, np.where(rng.random(int(takes.sum())) < 0.05, OUTCOME_NO_SHOW,
                                                    OUTCOME_COMPLETE).astype(np.int8)])

        keep = t <= self.horizon
        person, ctype, t, kind, outcome = person[keep], ctype[keep], t[keep], kind[keep], outcome[keep]
        t = self._avoid_lockdown(t)
        online = rng.random(len(t)) < online_probability(t)
        # Closed courses: staff of medium and large employers, booked together by their employer.
        emp = self.employer[person]
        has_emp = ~np.isnan(emp)
        big = np.zeros(len(person), dtype=bool)
        big[has_emp] = np.isin(self.employer_size[emp[has_emp].astype(int) - 1], ["medium", "large"])
        closed = big & ~online & (ctype != ref.type_index("REFRESHER")) & (rng.random(len(person)) < 0.45)
        closed_employer = np.where(closed, np.nan_to_num(emp, nan=0).astype(int), 0)
        # Only employers with enough staff for a course of a kind at least every few months book closed ones.
        years = max(1.0, self.horizon / 365.25)
        demand = pd.Series(1, index=pd.MultiIndex.from_arrays([closed_employer, ctype])).groupby(level=[0, 1]).sum()
        enough = demand[demand / years >= 24].index
        viable = pd.MultiIndex.from_arrays([closed_employer, ctype]).isin(enough)
        closed_employer = np.where(viable, closed_employer, 0)
        future = t > self.today_index
        self.seat = pd.DataFrame({
            "person": person, "ctype": ctype, "t": t, "kind": kind, "outcome": outcome,
            "online": online, "closed_employer": closed_employer, "future": future,
        })

    def _avoid_lockdown(self, t: np.ndarray) -> np.ndarray:
        start = (LOCKDOWN_START - START).days
        end = (ONLINE_START - START).days
        inside = (t >= start) & (t < end)
        return np.where(inside, end + (t - start), t)

    # ------------------------------------------------------------------ grouping seats into courses
    def _courses(self) -> None:
        rng, ref = self.rng, self.ref
        seat = self.seat.sort_values(["future", "ctype", "online", "closed_employer", "t"], kind="stable")
        keys = list(zip(seat["future"].tolist(), seat["ctype"].tolist(), seat["online"].tolist(),
                        seat["closed_employer"].tolist(), strict=True))
        times = seat["t"].tolist()
        capacity = ref.capacity
        course_of = np.empty(len(seat), dtype=np.int64)
        course_keys: list[tuple] = []
        course_target: list[int] = []
        uniform = rng.random(len(seat) + 1)
        current, size, target, t0, low = None, 0, 0, 0, 0
        for pos, key in enumerate(keys):
            waited = times[pos] - t0
            # A course closes when it reaches its planned size, or when its first bookers have waited
            # long enough and it has a viable group (sparse kinds of course wait longer).
            if key != current or size >= target or (waited > 35 and size >= low) or waited > 270:
                current, size, t0 = key, 0, times[pos]
                cap = int(capacity[key[1]])
                low = 2 if key[0] else max(6, cap // 2)
                floor = max(3, cap // 4) if key[0] else (cap * 5) // 8
                target = floor + int(uniform[pos] * (cap - floor + 1))
                course_keys.append(key)
                course_target.append(target)
            course_of[pos] = len(course_keys) - 1
            size += 1
        seat = seat.assign(course=course_of)
        self.seat = seat.sort_index()
        count = len(course_keys)
        future = np.array([k[0] for k in course_keys])
        ctype = np.array([k[1] for k in course_keys])
        online = np.array([k[2] for k in course_keys])
        closed_employer = np.array([k[3] for k in course_keys])
        median_t = seat.groupby("course")["t"].median().round().astype(int).to_numpy()
        fill = np.bincount(course_of, minlength=count)

        # Extra courses ahead with nobody booked yet, so there is always a choice to book.
        extra = max(14, self.n // 20000)
        extra_types = np.tile(np.arange(len(ref.type_codes)), extra // len(ref.type_codes) + 1)[:extra]
        future = np.concatenate([future, np.ones(extra, dtype=bool)])
        ctype = np.concatenate([ctype, extra_types])
        online = np.concatenate([online, rng.random(extra) < 0.3])
        closed_employer = np.concatenate([closed_employer, np.zeros(extra, dtype=int)])
        median_t = np.concatenate([median_t, self.today_index + rng.integers(7, HORIZON_DAYS, extra)])
        fill = np.concatenate([fill, np.zeros(extra, dtype=int)])
        count += extra

        start = np.empty(count, dtype=np.int64)
        session_days: list[tuple[int, ...]] = []
        for i in range(count):
            layout = LAYOUTS[(ref.type_codes[ctype[i]], bool(online[i]))]
            day, offsets = self._schedule_day(int(median_t[i]), layout[0], bool(future[i]), bool(online[i]))
            start[i] = day
            session_days.append(tuple(day + o for o in offsets))
        cancelled = np.zeros(count, dtype=bool)
        cancelled[future] = rng.random(int(future.sum())) < 0.02
        cancelled[count - extra:] = False

        areas = np.full(count, np.nan)
        venues = np.full(count, np.nan)
        first_home = seat.sort_values("t").groupby("course")["person"].first().reindex(range(count)).to_numpy()
        for i in range(count):
            if closed_employer[i]:
                area = int(self.employer_area[closed_employer[i] - 1])
            else:
                home = self.home_area[int(first_home[i])] if not np.isnan(first_home[i]) else np.nan
                area = int(home) if not np.isnan(home) and rng.random() < 0.8 else int(self._pick_area(1)[0])
            if online[i]:
                areas[i] = area if closed_employer[i] else np.nan
            else:
                areas[i] = area
                venues[i] = rng.choice(self.venues_by_area[area])
        full = future & (fill >= ref.capacity[ctype])
        self.course = pd.DataFrame({
            "ctype": ctype, "online": online, "future": future, "closed_employer": closed_employer,
            "start": start, "fill": fill, "cancelled": cancelled, "area": areas, "venue": venues, "full": full,
        })
        self.course_session_days = session_days

    def _schedule_day(self, wanted: int, offsets: tuple[int, ...], future: bool, online: bool) -> tuple[int, tuple]:
        """A start day near ``wanted`` whose sessions all fall on working days outside the holidays.

        Past courses must have finished before today; courses ahead start at least three days out.
        In-person courses avoid the pandemic closure (23 March 2020 to 11 April 2021).
        """
        last = offsets[-1]
        latest = self.today_index - 2 - last
        day = max(wanted, self.today_index + 3) if future else min(wanted, latest)
        closure = ((LOCKDOWN_START - START).days, (IN_PERSON_RESUMES - START).days)
        if not online and closure[0] - last <= day < closure[1]:
            before = closure[0] - 7 - last
            day = closure[1] if (future or closure[1] <= latest) and day - before > closure[1] - day else before
        step = 1 if (future or day + 14 <= latest) else -1
        for _ in range(60):
            dates = [START + timedelta(days=day + o) for o in offsets]
            if all(d.weekday() < 5 and not _holiday(d) for d in dates):
                return day, offsets
            day += step
        return day, offsets

    # ------------------------------------------------------------------ sessions, instructors, course rows
    def _sessions_and_instructors(self) -> None:
        rng, ref, course = self.rng, self.ref, self.course
        count = len(course)
        session_course, session_day, session_hour, session_minute, session_hours = [], [], [], [], []
        for i in range(count):
            offsets, hour, minute, hours = LAYOUTS[(ref.type_codes[course.ctype[i]], bool(course.online[i]))]
            for day in self.course_session_days[i]:
                session_course.append(i)
                session_day.append(day)
                session_hour.append(hour)
                session_minute.append(minute)
                session_hours.append(hours)
        local = (self._date(np.array(session_day)).astype("datetime64[m]")
                 + (np.array(session_hour) * 60 + np.array(session_minute)).astype("timedelta64[m]"))
        starts = (pd.DatetimeIndex(local).tz_localize("Europe/London").tz_convert("UTC").tz_localize(None)
                  .to_numpy().astype("datetime64[s]"))
        ends = starts + (np.array(session_hours) * 3600).astype("timedelta64[s]")
        session_course = np.array(session_course)
        first_start = pd.Series(starts).groupby(session_course).min().to_numpy()
        last_end = pd.Series(ends).groupby(session_course).max().to_numpy()
        course_ids = np.arange(1, count + 1)
        self.course_ids = course_ids
        self.course_first_start = first_start
        self.course_last_end = last_end
        self.session_course = session_course
        self.session_ids = np.arange(1, len(starts) + 1)
        self.session_start = starts
        self.session_end = ends

        # Instructors: licensed on the day, never teaching two courses on the same day.
        busy: set[tuple[int, int]] = set()
        pairs_course, pairs_instructor = [], []
        order = np.argsort(course.start.to_numpy(), kind="stable")
        n_instructors = len(self.instructor_ids)
        joined, expiry = self.instructor_joined, self.instructor_expiry
        for i in order:
            days_taught = self.course_session_days[i]
            wanted = 2 if (len(days_taught) >= 2 and rng.random() < 0.2) else 1
            chosen: list[int] = []
            picks = rng.integers(0, n_instructors, 60)
            for k in picks:
                k = int(k)
                if k in chosen or not (joined[k] <= days_taught[0] and days_taught[-1] <= expiry[k]):
                    continue
                if any((k, d) in busy for d in days_taught):
                    continue
                chosen.append(k)
                if len(chosen) == wanted:
                    break
            for k in chosen:
                for d in days_taught:
                    busy.add((k, d))
                pairs_course.append(i + 1)
                pairs_instructor.append(k + 1)
        self.course_instructors = pd.Series(pairs_instructor).groupby(pd.Series(pairs_course)).first()

        codes = np.array(ref.type_codes, dtype=object)[course.ctype.to_numpy()]
        closed = course.closed_employer.to_numpy() > 0
        free = rng.random(count) < 0.65
        price = np.where(closed | free, 0, [PUBLIC_PRICE_PENCE[c] for c in codes])
        capacity = ref.capacity[course.ctype.to_numpy()].copy()
        smaller = ~course.online.to_numpy() & ~course.full.to_numpy() & (rng.random(count) < 0.1)
        capacity[smaller] = np.maximum(capacity[smaller] - 4, course.fill.to_numpy()[smaller])
        capacity = np.maximum(capacity, course.fill.to_numpy())
        status = np.where(course.future, "published", "completed").astype(object)
        status[course.cancelled.to_numpy()] = "cancelled"
        draft = course.future.to_numpy() & (course.fill.to_numpy() == 0) & (rng.random(count) < 0.15)
        status[draft] = "draft"
        created = first_start - rng.integers(30, 120, count).astype("timedelta64[D]")
        online = course.online.to_numpy()
        joining = np.where(online, [f"https://meet.example.org/mhfa-{i:06d}-{rng.integers(1e9):09d}"
                                    for i in course_ids], None)
        self.course_status = status
        self.course_capacity = capacity
        self.frames.add("course", pd.DataFrame({
            "id": course_ids,
            "course_type_id": ref.type_ids[course.ctype.to_numpy()],
            "status": status,
            "delivery_mode": np.where(online, "online", "in_person"),
            "venue_id": pd.array(course.venue.to_numpy(), dtype="Int64"),
            "council_area_id": pd.array(course.area.to_numpy(), dtype="Int64"),
            "joining_url": joining,
            "capacity": capacity,
            "price_pence": price,
            "employer_id": pd.array(np.where(closed, course.closed_employer, np.nan), dtype="Int64"),
            "booking_deadline": bulk.moments(first_start - np.timedelta64(48, "h")),
            "cancellation_cutoff": bulk.moments(first_start - np.timedelta64(72, "h")),
            "starts_at": bulk.moments(first_start),
            "ends_at": bulk.moments(last_end),
            "notes": "",
            "sequence": 0,
            "cancelled_reason": np.where(status == "cancelled", "Not enough instructors available that week.", None),
            "created_at": bulk.moments(created),
            "updated_at": bulk.moments(created),
        }))
        self.frames.add("course_session", pd.DataFrame({
            "id": self.session_ids,
            "course_id": session_course + 1,
            "starts_at": bulk.moments(starts),
            "ends_at": bulk.moments(ends),
        }))
        self.frames.add("course_instructor", pd.DataFrame({
            "course_id": np.array(pairs_course, dtype=np.int64),
            "instructor_id": np.array(pairs_instructor, dtype=np.int64),
        }).sort_values(["course_id", "instructor_id"], ignore_index=True))

    # ------------------------------------------------------------------ bookings
    def _bookings(self) -> None:
        rng, seat, course = self.rng, self.seat, self.course
        c = seat.course.to_numpy()
        first_start = self.course_first_start
        status = np.full(len(seat), CONFIRMED, dtype=np.int8)
        reason = np.full(len(seat), None, dtype=object)
        course_cancelled = course.cancelled.to_numpy()[c]
        status[course_cancelled] = CANCELLED
        reason[course_cancelled] = "Course cancelled by the programme team"
        lead_days = rng.integers(3, 60, len(seat))
        created = first_start[c] - lead_days.astype("timedelta64[D]") - rng.integers(0, 8 * 3600, len(seat)).astype(
            "timedelta64[s]")
        rows = {
            "course": c, "person": seat.person.to_numpy(), "status": status, "created": created,
            "reason": reason, "outcome": seat.outcome.to_numpy(), "voucher": np.zeros(len(seat), dtype=np.int64),
            "source": np.where(seat.closed_employer.to_numpy() > 0, "employer", "self").astype(object),
        }
        bookings = pd.DataFrame(rows)

        extra = []
        # Individual cancellations: booked an earlier course of the same kind, then cancelled it.
        same_group_before = c - 1
        valid = same_group_before >= 0
        valid[valid] &= (course.ctype.to_numpy()[same_group_before[valid]] == course.ctype.to_numpy()[c[valid]]) & (
            course.online.to_numpy()[same_group_before[valid]] == course.online.to_numpy()[c[valid]])
        chosen = valid & (rng.random(len(seat)) < 0.05)
        if chosen.any():
            prev = same_group_before[chosen]
            made = first_start[prev] - rng.integers(10, 50, int(chosen.sum())).astype("timedelta64[D]")
            extra.append(pd.DataFrame({
                "course": prev, "person": seat.person.to_numpy()[chosen], "status": CANCELLED, "created": made,
                "reason": "Cancelled by the trainee", "outcome": OUTCOME_NO_SHOW, "voucher": 0, "source": "self",
            }))
        # Waiting lists on full future courses and past full ones (closed when the course ran).
        pool = self._waitlist_pool()
        full_future = np.flatnonzero(course.full.to_numpy() & ~course.cancelled.to_numpy())
        past_full = np.flatnonzero(~course.future.to_numpy() & (course.fill.to_numpy() >= self.course_capacity))
        past_full = past_full[rng.random(len(past_full)) < 0.4]
        taken = 0
        for course_index, waiting, state, why in (
            (full_future, rng.integers(1, 6, len(full_future)), WAITLISTED, None),
            (past_full, rng.integers(1, 4, len(past_full)), CANCELLED, "Waiting list closed when the course ran"),
        ):
            total = int(waiting.sum())
            people = pool[taken:taken + total]
            taken += len(people)
            if len(people) < total:
                break
            courses_rep = np.repeat(course_index, waiting)
            made = first_start[courses_rep] - rng.integers(1, 20, total).astype("timedelta64[D]")
            extra.append(pd.DataFrame({
                "course": courses_rep, "person": people, "status": state, "created": made, "reason": why,
                "outcome": OUTCOME_NO_SHOW, "voucher": 0, "source": "self",
            }))
        if extra:
            bookings = pd.concat([bookings, *extra], ignore_index=True)
        bookings = self._cancel_clashes(bookings)
        self.bookings = self._cancel_refreshers_without_certificate(bookings)

    def _waitlist_pool(self) -> np.ndarray:
        """People whose courses are all behind them, in a random order."""
        seat = self.seat
        latest = seat.groupby("person")["t"].max()
        settled = latest.index[latest.to_numpy() < self.today_index - 30].to_numpy()
        return self.rng.permutation(settled)

    def _cancel_clashes(self, bookings: pd.DataFrame) -> pd.DataFrame:
        """Nobody holds two live bookings whose days overlap: the later one is cancelled."""
        first_day = np.array([d[0] for d in self.course_session_days])
        last_day = np.array([d[-1] for d in self.course_session_days])
        live = bookings.status.to_numpy() != CANCELLED
        frame = pd.DataFrame({
            "person": bookings.person.to_numpy()[live],
            "first": first_day[bookings.course.to_numpy()[live]],
            "last": last_day[bookings.course.to_numpy()[live]],
            "outcome": bookings.outcome.to_numpy()[live],
            "row": np.flatnonzero(live),
        }).sort_values(["person", "first", "outcome", "row"])  # of two on one course, the attended one stays
        previous_last = frame.groupby("person")["last"].shift().to_numpy()
        clash = frame.row.to_numpy()[frame["first"].to_numpy() <= np.nan_to_num(previous_last, nan=-1e9)]
        status = bookings.status.to_numpy().copy()
        reason = bookings.reason.to_numpy().copy()
        status[clash] = CANCELLED
        reason[clash] = "Cancelled by the trainee: clashed with another booking"
        return bookings.assign(status=status, reason=reason)

    def _cancel_refreshers_without_certificate(self, bookings: pd.DataFrame) -> pd.DataFrame:
        """A refresher stays booked only after a completed first-aider or champion course."""
        ref, course = self.ref, self.course
        ctype = course.ctype.to_numpy()[bookings.course.to_numpy()]
        first_day = np.array([d[0] for d in self.course_session_days])[bookings.course.to_numpy()]
        last_day = np.array([d[-1] for d in self.course_session_days])[bookings.course.to_numpy()]
        qualifying = (np.isin(ctype, [ref.type_index(c) for c in REFRESHABLE])
                      & (bookings.status.to_numpy() == CONFIRMED)
                      & (bookings.outcome.to_numpy() == OUTCOME_COMPLETE)
                      & ~course.future.to_numpy()[bookings.course.to_numpy()])
        earliest = pd.Series(last_day[qualifying]).groupby(bookings.person.to_numpy()[qualifying]).min()
        refresher = (ctype == ref.type_index("REFRESHER")) & (bookings.status.to_numpy() != CANCELLED)
        certified_by = earliest.reindex(bookings.person.to_numpy()).to_numpy()
        orphan = refresher & ~(certified_by < first_day)
        status = bookings.status.to_numpy().copy()
        reason = bookings.reason.to_numpy().copy()
        status[orphan] = CANCELLED
        reason[orphan] = "Cancelled by the trainee"
        return bookings.assign(status=status, reason=reason)

    # ------------------------------------------------------------------ orders, invoices, vouchers
    def _orders(self) -> None:
        rng, ref, course, b = self.rng, self.ref, self.course, self.bookings
        codes = np.array(ref.type_codes, dtype=object)
        order_rows = []
        voucher_rows = []
        booking_voucher = np.zeros(len(b), dtype=np.int64)
        source = b.source.to_numpy().copy()
        live_confirmed = b.status.to_numpy() == CONFIRMED
        # Closed courses: one order per course, a voucher redeemed per place taken.
        closed_courses = np.flatnonzero((course.closed_employer.to_numpy() > 0) & (course.fill.to_numpy() > 0))
        by_course = pd.Series(np.flatnonzero(live_confirmed)).groupby(b.course.to_numpy()[live_confirmed]).apply(list)
        # Open courses: employers pay for some staff places through yearly orders.
        person = b.person.to_numpy()
        emp = self.employer[person]
        open_paid = (live_confirmed & ~np.isnan(emp) & (source == "self")
                     & (rng.random(len(b)) < 0.2))
        open_year = self._date((self.course_first_start[b.course.to_numpy()].astype("datetime64[D]")
                                - np.datetime64(START)).astype(int)).astype("datetime64[Y]").astype(int) + 1970
        groups = pd.DataFrame({
            "row": np.flatnonzero(open_paid), "employer": emp[open_paid].astype(int),
            "ctype": course.ctype.to_numpy()[b.course.to_numpy()[open_paid]], "year": open_year[open_paid],
        }).groupby(["employer", "ctype", "year"])["row"].apply(list)

        def add_order(employer_id: int, ctype: int, rows: list[int], first_course_start) -> None:
            order_id = len(order_rows) + 1
            spare = int(rng.integers(0, 3))
            ordered = first_course_start - np.timedelta64(int(rng.integers(20, 70)), "D")
            order_rows.append((order_id, employer_id, ctype, len(rows) + spare, ordered))
            for k in range(len(rows) + spare):
                voucher_id = len(voucher_rows) + 1
                if k < len(rows):
                    row = rows[k]
                    booking_voucher[row] = voucher_id
                    source[row] = "employer"
                    voucher_rows.append((voucher_id, order_id, "redeemed", int(person[row]) + 1, ordered))
                else:
                    voucher_rows.append((voucher_id, order_id, "available", 0, ordered))

        for course_index in closed_courses:
            rows = by_course.get(course_index, [])
            if rows:
                add_order(int(course.closed_employer[course_index]), int(course.ctype[course_index]), rows,
                          self.course_first_start[course_index])
        for (employer_id, ctype, _year), rows in groups.items():
            add_order(int(employer_id), int(ctype), rows, self.course_first_start[b.course.to_numpy()[rows[0]]])
        order_rows.sort(key=lambda r: r[4])
        renumber = {old[0]: new for new, old in enumerate(order_rows, start=1)}
        count = len(order_rows)
        pending = max(2, self.n // 20000)
        ordered = np.array([r[4] for r in order_rows], dtype="datetime64[s]")
        ctype_of_order = np.array([r[2] for r in order_rows], dtype=int)
        places = np.array([r[3] for r in order_rows], dtype=int)
        employer_of_order = np.array([r[1] for r in order_rows], dtype=int)
        # A few recent orders waiting for the programme team to confirm.
        new_employers = rng.choice(self.employer_ids, pending)
        new_types = rng.choice([ref.type_index("ADULT_2DAY"), ref.type_index("ADULT_CHAMPION")], pending)
        new_ordered = (np.datetime64(self.today) - rng.integers(1, 10, pending).astype("timedelta64[D]")).astype(
            "datetime64[s]") + np.timedelta64(10, "h")
        price = np.array([EMPLOYER_PRICE_PENCE[c] for c in codes[np.concatenate([ctype_of_order, new_types])]])
        status = np.array(["confirmed"] * count + ["pending"] * pending, dtype=object)
        all_ordered = np.concatenate([ordered, new_ordered])
        self.frames.add("employer_order", pd.DataFrame({
            "id": np.arange(1, count + pending + 1),
            "employer_id": np.concatenate([employer_of_order, new_employers]),
            "course_type_id": ref.type_ids[np.concatenate([ctype_of_order, new_types])],
            "purchase_order_ref": [f"PO-{i:06d}" for i in range(1, count + pending + 1)],
            "places": np.concatenate([places, rng.integers(4, 17, pending)]),
            "price_per_place_pence": price,
            "status": status,
            "ordered_at": bulk.moments(all_ordered),
            "created_by_user_id": pd.array([None] * (count + pending), dtype="Int64"),
        }))
        voucher_ids = np.array([v[0] for v in voucher_rows], dtype=np.int64)
        voucher_ordered = np.array([v[4] for v in voucher_rows], dtype="datetime64[s]")
        assigned = np.array([v[3] for v in voucher_rows], dtype=float)
        assigned[assigned == 0] = np.nan
        self.frames.add("place_voucher", pd.DataFrame({
            "id": voucher_ids,
            "order_id": np.array([renumber[v[1]] for v in voucher_rows], dtype=np.int64),
            "code": [secrets.token_urlsafe(16) for _ in voucher_rows],
            "status": np.array([v[2] for v in voucher_rows], dtype=object),
            "assigned_person_id": pd.array(assigned, dtype="Int64"),
            "assigned_at": bulk.moments(np.where(np.isnan(assigned), np.datetime64("NaT"), voucher_ordered)
                                        .astype("datetime64[s]") + np.timedelta64(2, "D")),
            "expires_on": bulk.days(voucher_ordered.astype("datetime64[D]") + np.timedelta64(365, "D")),
        }))
        # Invoices for confirmed orders: most paid, some overdue.
        issued = ordered.astype("datetime64[D]") + np.timedelta64(1, "D")
        due = issued + np.timedelta64(30, "D")
        paid = issued + rng.integers(5, 45, count).astype("timedelta64[D]")
        unpaid = (paid >= np.datetime64(self.today)) | (rng.random(count) < 0.03)
        paid = paid.astype("datetime64[D]")
        paid[unpaid] = np.datetime64("NaT")
        years = issued.astype("datetime64[Y]").astype(int) + 1970
        self.frames.add("invoice", pd.DataFrame({
            "id": np.arange(1, count + 1),
            "number": [f"INV-{y}-{i:06d}" for i, y in enumerate(years, start=1)],
            "order_id": np.arange(1, count + 1),
            "amount_pence": places * price[:count],
            "issued_on": bulk.days(issued),
            "due_on": bulk.days(due),
            "paid_on": bulk.days(paid),
        }))
        self.bookings = b.assign(voucher=booking_voucher, source=source)
        self.order_count = count + pending
        self.top_employer = int(np.bincount(employer_of_order).argmax()) if count else int(self.employer_ids[0])

    # ------------------------------------------------------------------ registers, completions, certificates
    def _attendance_and_completions(self) -> None:
        rng, ref, course, b = self.rng, self.ref, self.course, self.bookings
        n_bookings = len(b)
        booking_ids = np.arange(1, n_bookings + 1)
        status = b.status.to_numpy()
        course_index = b.course.to_numpy()
        created = b.created.to_numpy().astype("datetime64[s]")
        is_waitlisted = status == WAITLISTED
        cancelled = status == CANCELLED
        cancelled_at = np.where(cancelled, created + rng.integers(1, 10 * 86400, n_bookings).astype("timedelta64[s]"),
                                np.datetime64("NaT"))
        cancelled_at = np.minimum(cancelled_at, self.course_first_start[course_index] - np.timedelta64(1, "h"))
        cancelled_at[~cancelled] = np.datetime64("NaT")
        self.frames.add("booking", pd.DataFrame({
            "id": booking_ids,
            "course_id": course_index + 1,
            "person_id": b.person.to_numpy() + 1,
            "status": BOOKING_STATUS[status],
            "source": b.source.to_numpy(),
            "voucher_id": pd.array(np.where(b.voucher.to_numpy() > 0, b.voucher.to_numpy(), np.nan), dtype="Int64"),
            "booked_by_user_id": pd.array([None] * n_bookings, dtype="Int64"),
            "created_at": bulk.moments(created),
            "confirmed_at": bulk.moments(np.where(status == CONFIRMED, created, np.datetime64("NaT"))
                                         .astype("datetime64[s]")),
            "waitlisted_at": bulk.moments(np.where(is_waitlisted | (b.reason.to_numpy() == "Waiting list closed when "
                                                                    "the course ran"), created,
                                                   np.datetime64("NaT")).astype("datetime64[s]")),
            "cancelled_at": bulk.moments(cancelled_at.astype("datetime64[s]")),
            "cancel_reason": b.reason.to_numpy(),
        }))

        # Registers for confirmed bookings on courses that have run.
        ran = np.isin(self.course_status, ["completed"])[course_index] & (status == CONFIRMED)
        attended_rows = np.flatnonzero(ran)
        sessions_per_course = np.bincount(self.session_course, minlength=len(course))
        first_session = np.concatenate([[0], np.cumsum(sessions_per_course)[:-1]])
        repeat = sessions_per_course[course_index[attended_rows]]
        mark_booking = np.repeat(attended_rows, repeat)
        within = np.arange(len(mark_booking)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        mark_session = first_session[course_index[mark_booking]] + within
        outcome = b.outcome.to_numpy()[mark_booking]
        present = (outcome == OUTCOME_COMPLETE) | ((outcome == OUTCOME_PARTIAL) & (within == 0))
        single = repeat == 1
        partial_single = np.repeat(single & (b.outcome.to_numpy()[attended_rows] == OUTCOME_PARTIAL), repeat)
        present[partial_single] = False
        marked_at = self.session_end[mark_session] + np.timedelta64(15, "m")
        self.frames.add("attendance_mark", pd.DataFrame({
            "id": np.arange(1, len(mark_booking) + 1),
            "booking_id": mark_booking + 1,
            "session_id": self.session_ids[mark_session],
            "status": np.where(present, "present", "absent"),
            "marked_by_user_id": pd.array(np.full(len(mark_booking), np.nan), dtype="Int64"),
            "marked_at": bulk.moments(marked_at),
        }))

        all_present = pd.Series(present).groupby(mark_booking).all()
        completed_rows = all_present.index[all_present.to_numpy()].to_numpy()
        comp_course = course_index[completed_rows]
        last_end = self.course_last_end[comp_course]
        completed_on = (pd.DatetimeIndex(last_end).tz_localize("UTC").tz_convert("Europe/London").tz_localize(None)
                        .to_numpy().astype("datetime64[D]"))
        comp_type = course.ctype.to_numpy()[comp_course]
        count = len(completed_rows)
        completion_ids = np.arange(1, count + 1)
        self.completed_person = b.person.to_numpy()[completed_rows]
        self.completed_on = completed_on
        self.completed_type = comp_type
        self.frames.add("completion", pd.DataFrame({
            "id": completion_ids,
            "person_id": self.completed_person + 1,
            "course_type_id": ref.type_ids[comp_type],
            "course_id": comp_course + 1,
            "booking_id": completed_rows + 1,
            "completed_on": bulk.days(completed_on),
            "delivery_council_area_id": pd.array(course.area.to_numpy()[comp_course], dtype="Int64"),
            "source": "course",
            "import_batch": None,
            "created_at": bulk.moments(last_end + np.timedelta64(1, "h")),
        }))
        valid = ref.valid_years[comp_type]
        expires = completed_on.astype("datetime64[M]") + (valid * 12).astype("timedelta64[M]")
        expires = expires.astype("datetime64[D]") + (completed_on - completed_on.astype("datetime64[M]")
                                                     .astype("datetime64[D]"))
        expires = np.where(valid > 0, expires, np.datetime64("NaT"))
        years = completed_on.astype("datetime64[Y]").astype(int) + 1970
        self.frames.add("certificate", pd.DataFrame({
            "id": completion_ids,
            "number": [f"MR{y}-{i:07d}" for i, y in zip(completion_ids, years, strict=True)],
            "verification_token": [secrets.token_urlsafe(24) for _ in range(count)],
            "completion_id": completion_ids,
            "person_id": self.completed_person + 1,
            "course_type_id": ref.type_ids[comp_type],
            "title": np.array(ref.title, dtype=object)[comp_type],
            "issued_on": bulk.days(completed_on),
            "expires_on": bulk.days(expires.astype("datetime64[D]")),
            "revoked_at": None,
            "revoked_reason": None,
            "replaces_id": pd.array([None] * count, dtype="Int64"),
            "created_at": bulk.moments(last_end + np.timedelta64(1, "h")),
        }))

    # ------------------------------------------------------------------ person rows (trainees and instructors)
    def _person_rows(self) -> None:
        rng, n = self.rng, self.n
        staff = len(self.instructor_ids)
        total = n + staff
        first = rng.choice(FIRST_NAMES, total)
        last = rng.choice(LAST_NAMES, total)
        ids = np.arange(1, total + 1)
        has_email = np.concatenate([rng.random(n) < 0.85, np.ones(staff, dtype=bool)])
        emails = np.array([f"{f}.{s}.{i}@{DEMO_DOMAIN}".lower().replace("'", "") if e else None
                           for f, s, i, e in zip(first, last, ids, has_email, strict=True)], dtype=object)
        dob = np.concatenate([np.where(self.has_dob, self.dob, np.datetime64("NaT")),
                              np.datetime64("1975-01-01") + rng.integers(0, 9000, staff).astype("timedelta64[D]")])
        first_seen = np.concatenate([self.t_first, np.zeros(staff, dtype=int)])
        age_now = (np.datetime64(self.today) - self.dob).astype(int) / 365.25
        band = np.select([age_now < 25, age_now < 35, age_now < 45, age_now < 55, age_now < 65],
                         ["16-24", "25-34", "35-44", "45-54", "55-64"], "65+").astype(object)
        answered = rng.random(n)
        band[answered > 0.75] = None
        band[(answered > 0.70) & (answered <= 0.75)] = "prefer-not-to-say"

        def question(values, weights, share_answered):
            out = rng.choice(values, n, p=weights).astype(object)
            out[rng.random(n) > share_answered] = None
            return np.concatenate([out, np.full(staff, None, dtype=object)])

        self.frames.add("person", pd.DataFrame({
            "id": ids,
            "first_name": first,
            "last_name": last,
            "email": emails,
            "date_of_birth": bulk.days(dob.astype("datetime64[D]")),
            "postcode": None,
            "home_council_area_id": pd.array(np.concatenate([self.home_area, np.full(staff, np.nan)]), dtype="Int64"),
            "work_council_area_id": pd.array(np.concatenate([self.work_area, np.full(staff, np.nan)]), dtype="Int64"),
            "employer_id": pd.array(np.concatenate([self.employer, np.full(staff, np.nan)]), dtype="Int64"),
            "age_band": np.concatenate([band, np.full(staff, None, dtype=object)]),
            "sex": question(["female", "male", "prefer-not-to-say"], [0.62, 0.36, 0.02], 0.8),
            "ethnic_group": question(["white", "asian", "black", "mixed", "other", "prefer-not-to-say"],
                                     [0.6, 0.2, 0.08, 0.05, 0.03, 0.04], 0.75),
            "disability": question(["yes", "no", "prefer-not-to-say"], [0.12, 0.8, 0.08], 0.75),
            "source": "demo",
            "created_at": bulk.moments(self._date(first_seen).astype("datetime64[s]") - np.timedelta64(20, "D")
                                       + np.timedelta64(10, "h")),
            "erased_at": None,
        }))
        self.frames.add("instructor", pd.DataFrame({
            "id": self.instructor_ids,
            "person_id": self.instructor_person,
            "licence_number": [f"MHFA-{2016 + int(j // 365) if j > 0 else 2016}-{i:05d}"
                               for i, j in zip(self.instructor_ids, self.instructor_joined, strict=True)],
            "licence_expires_on": bulk.days(self._date(self.instructor_expiry)),
            "active": True,
        }))


def _demo_accounts(builder: _HistoryBuilder) -> list[tuple[str, str]]:
    """One login per role, linked to fitting people of the history."""
    trainee = _pick_demo_trainee(builder)
    instructor_person = _pick_demo_instructor(builder)
    employer_id = builder.top_employer
    logins = []
    for role in Role:
        email = f"{role.value}@{DEMO_DOMAIN}"
        if role is Role.TRAINEE and trainee is not None:
            person = db.session.get(Person, trainee)
        elif role is Role.INSTRUCTOR and instructor_person is not None:
            person = db.session.get(Person, instructor_person)
        else:
            first, last = {
                Role.EMPLOYER: ("Erin", "Employer"), Role.COORDINATOR: ("Cara", "Coordinator"),
                Role.BOARD: ("Bola", "Board"), Role.ADMIN: ("Adam", "Admin"), Role.TRAINEE: ("Tara", "Trainee"),
                Role.INSTRUCTOR: ("Ivan", "Instructor"),
            }[role]
            person = Person(first_name=first, last_name=last)
            db.session.add(person)
            if role is Role.EMPLOYER:
                person.employer_id = employer_id
        person.email = email
        user = User(email=email, person=person)
        user.set_password(DEMO_PASSWORD)
        user.grant(role)
        user.email_confirmed_at = utcnow()
        db.session.add(user)
        logins.append((role.value, email))
    db.session.flush()
    if trainee is not None:
        ref = builder.ref
        preferred = [int(ref.type_ids[ref.type_index(code)]) for code in ("REFRESHER", "AWARE", "ADULT_CHAMPION")]
        _book_ahead(trainee, preferred, builder.today)
    return logins


def _book_ahead(person_id: int, course_type_ids: list[int], today: date) -> None:
    """Give the demo trainee a place ahead: the first open course with room, of the first type that has one."""
    after = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    booked_ahead = db.session.scalar(
        sa.select(sa.func.count(Booking.id)).join(Course)
        .where(Booking.person_id == person_id, Booking.status != BookingStatus.CANCELLED, Course.ends_at > after)
    )
    if booked_ahead:
        return
    confirmed = (
        sa.select(sa.func.count(Booking.id))
        .where(Booking.course_id == Course.id, Booking.status == BookingStatus.CONFIRMED)
        .scalar_subquery()
    )
    for course_type_id in course_type_ids:
        course = db.session.scalar(
            sa.select(Course)
            .where(Course.course_type_id == course_type_id, Course.status == CourseStatus.PUBLISHED,
                   Course.employer_id.is_(None), Course.starts_at > after, confirmed < Course.capacity)
            .order_by(Course.starts_at)
            .limit(1)
        )
        if course is not None:
            db.session.add(Booking(course_id=course.id, person_id=person_id, status=BookingStatus.CONFIRMED,
                                   source=BookingSource.SELF, confirmed_at=utcnow()))
            return


def _pick_demo_trainee(builder: _HistoryBuilder) -> int | None:
    """A person holding a two-day certificate (the most recent such completion)."""
    ref = builder.ref
    two_day = builder.completed_type == ref.type_index("ADULT_2DAY")
    if not two_day.any():
        return None
    return int(builder.completed_person[np.flatnonzero(two_day)[-1]]) + 1


def _pick_demo_instructor(builder: _HistoryBuilder) -> int | None:
    """The instructor teaching the first published course ahead."""
    ahead = np.flatnonzero(builder.course_status == "published")
    for course_index in ahead[np.argsort(builder.course_first_start[ahead], kind="stable")]:
        instructor = builder.course_instructors.get(int(course_index) + 1)
        if instructor is not None:
            return int(builder.instructor_person[int(instructor) - 1])
    return None
