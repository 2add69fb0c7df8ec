"""The demo history's outcomes: evaluations answered for about 60% of course completions and follow-ups for fewer.

Assumptions (labelled, not published figures): confidence to help rises by about 3 points on average
(MHFA England 2018-19: 4.80 before, 8.27 after), by course type from 2.4 (awareness) to 3.6 (two-day);
knowing where to signpost rises a little less; most rate the course good or very good; one in ten
leaves a comment. Six months on, follow-ups go to completions older than six months that were invited
to evaluate; about 35% answer, and about 70% of them used their skills. Written in bulk after the
history (deterministic for a seed, apart from the random link tokens, which stay out of the checksum).
"""
from __future__ import annotations

import secrets

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.courses.models import CourseType
from mhfa.demo import bulk
from mhfa.extensions import db
from mhfa.outcomes import questionnaires
from mhfa.outcomes.models import EVALUATION, FOLLOW_UP

RESPONSE_RATE = 0.6
FOLLOW_UP_RESPONSE_RATE = 0.35
USED_RATE = 0.7
LIFT = {"ADULT_2DAY": 3.6, "ADULT_CHAMPION": 3.0, "YOUTH_2DAY": 3.4, "YOUTH_CHAMPION": 2.9, "AWARE": 2.4,
        "REFRESHER": 2.6}
COMMENTS = ["Clear and practical, thank you.", "The role play helped most.", "I feel ready to start a conversation.",
            "Would like more on signposting local services.", "Excellent trainer.", "Too much in one day."]
ACTIONS = ("listened", "signposted", "crisis", "other")


def add_outcomes(seed: int, today, completions: tuple[int, int] | None = None,
                 first_ids: tuple[int, int] = (0, 0), cohort: int = 0) -> dict[str, int]:
    """Invite every course completion to evaluate it, answer some, send and answer some follow-ups; row counts.

    ``completions`` (after, up to): only the completions of that id range (a cohort of the demo history,
    written a cohort at a time); the invitations' and answers' ids then follow ``first_ids``, and the
    ``cohort``-th cohort draws from a generator of its own.
    """
    rng = np.random.default_rng(seed + 22 if cohort == 0 else [seed + 22, cohort])
    connection = db.session.connection()
    within = sa.true() if completions is None else Completion.id.between(completions[0] + 1, completions[1])
    frame = pd.DataFrame(db.session.execute(
        sa.select(Completion.id, Completion.person_id, Completion.course_id, Completion.course_type_id,
                  Completion.completed_on, CourseType.code)
        .join(CourseType, CourseType.id == Completion.course_type_id)
        .where(Completion.course_id.is_not(None), within).order_by(Completion.id)).all(),
        columns=["completion_id", "person_id", "course_id", "course_type_id", "completed_on", "code"])
    if frame.empty:
        return {"outcome_invite": 0, "outcome_answer": 0}
    evaluation, follow_up = questionnaires.current(EVALUATION), questionnaires.current(FOLLOW_UP)
    n = len(frame)
    done = pd.to_datetime(frame["completed_on"]).to_numpy().astype("datetime64[s]") + np.timedelta64(17, "h")
    now = np.datetime64(pd.Timestamp(today).to_datetime64(), "s")
    answered = (rng.random(n) < RESPONSE_RATE) & (done + np.timedelta64(5, "D") <= now)
    answered_at = done + (rng.integers(1, 5 * 24, n) * 3600).astype("timedelta64[s]")
    first_invite, first_answer = first_ids
    invites = pd.DataFrame({
        "id": first_invite + np.arange(1, n + 1), "kind": EVALUATION, "completion_id": frame["completion_id"],
        "person_id": frame["person_id"], "course_id": frame["course_id"], "course_type_id": frame["course_type_id"],
        "token": [secrets.token_urlsafe(32) for _ in range(n)], "created_at": done,
        "expires_at": done + np.timedelta64(28, "D"),
        "answered_at": np.where(answered, answered_at, np.datetime64("NaT")),
        "questionnaire_id": np.where(answered, evaluation.id, None),
    })
    six_months = done + np.timedelta64(182, "D")
    followed = six_months <= now
    m = int(followed.sum())
    f_answered = rng.random(m) < FOLLOW_UP_RESPONSE_RATE
    f_sent = six_months[followed]
    follow = pd.DataFrame({
        "id": first_invite + np.arange(n + 1, n + m + 1), "kind": FOLLOW_UP,
        "completion_id": frame["completion_id"][followed].values,
        "person_id": frame["person_id"][followed].values, "course_id": frame["course_id"][followed].values,
        "course_type_id": frame["course_type_id"][followed].values,
        "token": [secrets.token_urlsafe(32) for _ in range(m)], "created_at": f_sent,
        "expires_at": f_sent + np.timedelta64(28, "D"),
        "answered_at": np.where(f_answered, f_sent + np.timedelta64(2, "D"), np.datetime64("NaT")),
        "questionnaire_id": np.where(f_answered, follow_up.id, None),
    })
    written = bulk.write(connection, "outcome_invite", pd.concat([invites, follow], ignore_index=True))
    answers = [*_evaluation_answers(rng, frame, invites, answered), *_follow_up_answers(rng, follow, f_answered)]
    table = pd.concat(answers, ignore_index=True)
    table.insert(0, "id", first_answer + np.arange(1, len(table) + 1))
    rows = bulk.write(connection, "outcome_answer", table)
    if completions is None:
        bulk.reset_sequences(connection, ["outcome_invite", "outcome_answer"])
    return {"outcome_invite": written, "outcome_answer": rows}


def _scores(rng, size: int, lift: np.ndarray, base: float) -> tuple[np.ndarray, np.ndarray]:
    before = np.clip(np.rint(rng.normal(base, 1.8, size)), 0, 10).astype(int)
    now = np.clip(np.rint(before + lift + rng.normal(0, 1.2, size)), 0, 10).astype(int)
    return before, now


def _evaluation_answers(rng, frame: pd.DataFrame, invites: pd.DataFrame, answered: np.ndarray) -> list[pd.DataFrame]:
    ids = invites["id"].to_numpy()[answered]
    k = len(ids)
    lift = frame["code"].map(LIFT).fillna(3.0).to_numpy()[answered]
    confidence_before, confidence_now = _scores(rng, k, lift, 4.8)
    signposting_before, signposting_now = _scores(rng, k, lift * 0.85, 4.5)
    rating = rng.choice([5, 4, 3, 2, 1], size=k, p=[0.62, 0.33, 0.035, 0.01, 0.005])
    out = [pd.DataFrame({"invite_id": ids, "key": key, "number": values, "text": None})
           for key, values in (("confidence_before", confidence_before), ("confidence_now", confidence_now),
                               ("signposting_before", signposting_before), ("signposting_now", signposting_now),
                               ("rating", rating))]
    commented = rng.random(k) < 0.1
    out.append(pd.DataFrame({"invite_id": ids[commented], "key": "comment", "number": None,
                             "text": rng.choice(COMMENTS, size=int(commented.sum()))}))
    return out


def _follow_up_answers(rng, follow: pd.DataFrame, answered: np.ndarray) -> list[pd.DataFrame]:
    ids = follow["id"].to_numpy()[answered]
    used = (rng.random(len(ids)) < USED_RATE).astype(int)
    out = [pd.DataFrame({"invite_id": ids, "key": "used_skills", "number": used, "text": None})]
    users = ids[used == 1]
    out.append(pd.DataFrame({"invite_id": users, "key": "times_used", "number": rng.integers(1, 12, len(users)),
                             "text": None}))
    for action, share in zip(ACTIONS, (0.9, 0.55, 0.15, 0.2), strict=True):
        out.append(pd.DataFrame({"invite_id": users, "key": f"actions:{action}",
                                 "number": (rng.random(len(users)) < share).astype(int), "text": None}))
    return out
