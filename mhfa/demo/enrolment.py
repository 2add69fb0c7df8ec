"""Bookings (cancellations, waiting lists on full courses), attendance, completions and certificates.

A part of the demo history builder (``mhfa.demo.services._HistoryBuilder``): its methods read and set
the builder's arrays.
"""
from __future__ import annotations

import secrets

import numpy as np
import pandas as pd

from mhfa.certificates.models import status_list_size
from mhfa.demo import bulk
from mhfa.demo.shape import (
    BOOKING_STATUS,
    CANCELLED,
    CONFIRMED,
    OUTCOME_COMPLETE,
    OUTCOME_NO_SHOW,
    OUTCOME_PARTIAL,
    REFRESHABLE,
    WAITLISTED,
)


class _Enrolment:
    """Bookings (cancellations, waiting lists on full courses), attendance, completions and certificates."""

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

    # ------------------------------------------------------------------ registers, completions, certificates
    def _attendance_and_completions(self) -> None:
        rng, ref, course, b = self.rng, self.ref, self.course, self.bookings
        n_bookings = len(b)
        booking_ids = np.arange(1, n_bookings + 1)
        status = b.status.to_numpy()
        course_index = b.course.to_numpy()
        created = self._not_after_today(b.created.to_numpy())
        is_waitlisted = status == WAITLISTED
        cancelled = status == CANCELLED
        cancelled_at = np.where(cancelled, created + rng.integers(1, 10 * 86400, n_bookings).astype("timedelta64[s]"),
                                np.datetime64("NaT"))
        cancelled_at = np.minimum(cancelled_at, self.course_first_start[course_index] - np.timedelta64(1, "h"))
        cancelled_at = np.maximum(np.minimum(cancelled_at, np.datetime64(self.today, "s")), created)
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
            "number": [f"MR{y}-{i:07d}" for i, y in zip(completion_ids + self.offset.get("certificate", 0), years,
                                                         strict=True)],
            "verification_token": [secrets.token_urlsafe(24) for _ in range(count)],
            "completion_id": completion_ids,
            "person_id": self.completed_person + 1,
            "course_type_id": ref.type_ids[comp_type],
            "title": np.array(ref.title, dtype=object)[comp_type],
            "issued_on": bulk.days(completed_on),
            "expires_on": bulk.days(expires.astype("datetime64[D]")),
            "revoked_at": None,
            "revoked_reason": None,
            # Distinct random bits of the revocation status list, as issuing assigns them (from a generator
            # spawned off the seeded one, which leaves the rest of the history's draws as they were); each
            # cohort draws from a block of the list past the earlier cohorts' blocks.
            "status_index": self.frames.status_block(status_list_size(count))
            + self.rng.spawn(1)[0].choice(status_list_size(count), size=count, replace=False),
            "replaces_id": pd.array([None] * count, dtype="Int64"),
            "created_at": bulk.moments(last_end + np.timedelta64(1, "h")),
        }))
