"""The demo history's people: trainees spread over council areas by population, and instructors.

A part of the demo history builder (``mhfa.demo.services._HistoryBuilder``): its methods read and set
the builder's arrays.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mhfa.demo import bulk
from mhfa.demo.accounts import DEMO_DOMAIN
from mhfa.demo.names import FIRST_NAMES, LAST_NAMES
from mhfa.demo.shape import delivery_weights


class _Population:
    """The demo history's people: trainees spread over council areas by population, and instructors."""

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
                           for f, s, i, e in zip(first, last, ids + self.offset.get("person", 0), has_email,
                                                 strict=True)], dtype=object)
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
            "created_at": bulk.moments(self._not_after_today(
                self._date(first_seen).astype("datetime64[s]") - np.timedelta64(20, "D") + np.timedelta64(10, "h"),
                margin_days=3)),
            "erased_at": None,
        }))
        self.frames.add("instructor", pd.DataFrame({
            "id": self.instructor_ids,
            "person_id": self.instructor_person,
            "licence_number": [f"MHFA-{2016 + int(j // 365) if j > 0 else 2016}-{i:05d}"
                               for i, j in zip(self.instructor_ids + self.offset.get("instructor", 0),
                                               self.instructor_joined, strict=True)],
            "licence_expires_on": bulk.days(self._date(self.instructor_expiry)),
            "active": self.instructor_expiry >= self.today_index,  # a lapsed licence is not an active instructor
        }))
        # Every demo instructor is licensed for every course in the catalogue (the schedule gives any of
        # them any course).
        types = np.asarray(self.ref.type_ids, dtype=np.int64)
        self.frames.add("instructor_course_type", pd.DataFrame({
            "instructor_id": np.repeat(np.asarray(self.instructor_ids, dtype=np.int64), len(types)),
            "course_type_id": np.tile(types, len(self.instructor_ids)),
            # qualified for each course when they joined the programme
            "qualified_on": bulk.days(self._date(np.repeat(self.instructor_joined, len(types)))),
        }))
