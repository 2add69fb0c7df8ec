"""Who takes which course when, grouped into courses with sessions and licensed instructors never double-booked.

A part of the demo history builder (``mhfa.demo.services._HistoryBuilder``): its methods read and set
the builder's arrays.
"""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from mhfa.demo import bulk
from mhfa.demo.shape import (
    DELIVERY_COST_PENCE,
    FIRST_COURSE_MIX,
    HORIZON_DAYS,
    IN_PERSON_RESUMES,
    LAYOUTS,
    LOCKDOWN_START,
    ONLINE_START,
    OUTCOME_COMPLETE,
    OUTCOME_NO_SHOW,
    OUTCOME_PARTIAL,
    PUBLIC_PRICE_PENCE,
    REFRESHABLE,
    START,
    _holiday,
    online_probability,
)


class _Schedule:
    """Who takes which course when, grouped into courses with sessions and licensed instructors never double-booked."""

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
        created = self._not_after_today(first_start - rng.integers(30, 120, count).astype("timedelta64[D]"),
                                        margin_days=3, spread_days=2)
        online = course.online.to_numpy()
        joining = np.where(online, [f"https://meet.example.org/mhfa-{i:06d}-{rng.integers(1e9):09d}"
                                    for i in course_ids + self.offset.get("course", 0)], None)
        public_delivered = (status == "completed") & ~closed
        spread = rng.spawn(1)[0].uniform(0.85, 1.15, count)  # a stream of its own: the rest of the history is unchanged
        cost = np.array([DELIVERY_COST_PENCE[c] for c in codes]) * spread
        delivery_cost = pd.array(np.where(public_delivered, np.round(cost / 100) * 100, np.nan), dtype="Int64")
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
            "funding_stream": np.where(closed, "employer_paid", "public"),
            "delivery_cost_pence": delivery_cost,
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
