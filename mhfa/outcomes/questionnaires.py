"""The questionnaires: the versions stored in the database, which one is current, and checking answers against one.

A question is a dict with ``key``, ``type`` and ``label`` (and ``hint``, ``required``):

- ``scale``: a whole number from ``min`` to ``max`` (0 to 10);
- ``choice``: one of ``choices`` (``[number, label]`` pairs), stored as the number;
- ``yesno``: yes (1) or no (0);
- ``count``: a whole number from ``min`` to ``max``;
- ``multi``: any of ``choices`` (``[code, label]`` pairs), stored as one 0/1 answer per code (``key:code``);
- ``text``: free text up to ``max_length`` characters.

The programme changes the questions by adding a version (:func:`add_version`): what is sent from then on
is the newest version, and every answer keeps the version it answered.
"""
from __future__ import annotations

import sqlalchemy as sa

from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.outcomes.models import KINDS, Questionnaire

TYPES = ("scale", "choice", "yesno", "count", "multi", "text")
RATING_CHOICES = [[1, "Very poor"], [2, "Poor"], [3, "Neither good nor poor"], [4, "Good"], [5, "Very good"]]
GOOD_OR_BETTER = 4  # a rating of good (4) or very good (5)


def _scale(key: str, label: str, hint: str) -> dict:
    """A required score from 0 to 10."""
    return {"key": key, "type": "scale", "min": 0, "max": 10, "required": True, "label": label, "hint": hint}


#: Version 1 of each kind, as the first migration of this area stores it.
EVALUATION_V1 = [
    _scale("confidence_before",
           "Before the course, how confident were you to help someone with a mental health problem?",
           "0 is not at all confident, 10 is completely confident"),
    _scale("confidence_now", "Now, how confident are you to help someone with a mental health problem?",
           "0 is not at all confident, 10 is completely confident"),
    _scale("signposting_before", "Before the course, how well did you know where to signpost someone for help?",
           "0 is not at all, 10 is completely"),
    _scale("signposting_now", "Now, how well do you know where to signpost someone for help?",
           "0 is not at all, 10 is completely"),
    {"key": "rating", "type": "choice", "choices": RATING_CHOICES, "required": True,
     "label": "Overall, how would you rate the course?"},
    {"key": "comment", "type": "text", "max_length": 1000, "required": False,
     "label": "Anything you would like to tell us about the course (optional)",
     "hint": "Do not include your name or anyone else's: comments are shown to the programme team and your "
             "instructor without names"},
]
FOLLOW_UP_V1 = [
    {"key": "used_skills", "type": "yesno", "required": True,
     "label": "Have you used your Mental Health First Aid skills since the course?"},
    {"key": "times_used", "type": "count", "min": 1, "max": 999, "required": False,
     "label": "If yes, about how many times?"},
    {"key": "actions", "type": "multi", "required": False, "label": "If yes, what did you do?",
     "hint": "Select all that apply",
     "choices": [["listened", "Listened"], ["signposted", "Signposted to a GP or NHS 111"],
                 ["crisis", "Crisis support"], ["other", "Something else"]]},
]
TITLES = {"evaluation": "How was your Mental Health First Aid course?",
          "follow_up": "Six months on: have you used your Mental Health First Aid skills?"}


FIRST_VERSIONS = {"evaluation": EVALUATION_V1, "follow_up": FOLLOW_UP_V1}


def current(kind: str) -> Questionnaire:
    """The newest version of ``kind``: the migrations store version 1 of each, and it is stored again if a
    database lost it (emptied by hand), so an invitation can always be answered."""
    found = db.session.scalar(sa.select(Questionnaire).where(Questionnaire.kind == kind)
                              .order_by(Questionnaire.version.desc()).limit(1))
    if found is None:
        found = Questionnaire(kind=kind, version=1, title=TITLES[kind], questions=FIRST_VERSIONS[kind])
        db.session.add(found)
        db.session.flush()
    return found


def _check_question(question: dict) -> None:
    key, kind = question.get("key"), question.get("type")
    if not isinstance(key, str) or not key.isidentifier() or len(key) > 40:
        raise DomainError(f"A question's key must be a short name of letters, digits and underscores: {key!r}")
    if kind not in TYPES:
        raise DomainError(f"Question {key}: the type must be one of {', '.join(TYPES)}")
    if not isinstance(question.get("label"), str) or not question["label"].strip():
        raise DomainError(f"Question {key}: enter the question's text")
    if kind in ("scale", "count") and not (isinstance(question.get("min"), int) and isinstance(question.get("max"), int)
                                           and question["min"] < question["max"]):
        raise DomainError(f"Question {key}: a {kind} needs whole numbers min < max")
    choices = question.get("choices")
    if kind in ("choice", "multi") and not (isinstance(choices, list) and len(choices) >= 2):
        raise DomainError(f"Question {key}: give at least two choices")


def add_version(kind: str, title: str, questions: list[dict]) -> Questionnaire:
    """Store a new version of ``kind``'s questions (checked first); it is sent from now on."""
    if kind not in KINDS:
        raise DomainError(f"The kind must be one of {', '.join(KINDS)}")
    if not isinstance(questions, list) or not questions:
        raise DomainError("Give at least one question")
    for question in questions:
        _check_question(question)
    keys = [q["key"] for q in questions]
    if len(set(keys)) != len(keys):
        raise DomainError("Each question needs its own key")
    version = (db.session.scalar(sa.select(sa.func.max(Questionnaire.version)).where(Questionnaire.kind == kind))
               or 0) + 1
    questionnaire = Questionnaire(kind=kind, version=version, title=title.strip() or TITLES[kind], questions=questions)
    db.session.add(questionnaire)
    db.session.flush()
    return questionnaire


def _whole(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 6:
        return int(value.strip())
    return None


def check_answers(questionnaire: Questionnaire, raw: dict) -> dict[str, tuple[int | None, str | None]]:
    """The answers to store (key -> (number, text)), or a DomainError on the first question answered wrongly.

    ``raw`` maps a question's key to what was sent: a string or number (a list of codes for ``multi``);
    missing or empty means not answered.
    """
    stored: dict[str, tuple[int | None, str | None]] = {}
    for q in questionnaire.questions:
        key, kind, value = q["key"], q["type"], raw.get(q["key"])
        empty = value is None or value == "" or value == []
        label = q["label"].rstrip("?").replace(" (optional)", "")
        if empty:
            if q.get("required"):
                raise DomainError(f"Answer the question: {q['label']}", field=key)
            continue
        if kind == "text":
            text = str(value).strip()
            if len(text) > q.get("max_length", 1000):
                raise DomainError(f"{label}: write {q.get('max_length', 1000)} characters or fewer", field=key)
            if text:
                stored[key] = (None, text)
        elif kind == "multi":
            codes = value if isinstance(value, list) else [value]
            allowed = [str(code) for code, _ in q["choices"]]
            if any(str(code) not in allowed for code in codes):
                raise DomainError(f"{label}: choose from the options given", field=key)
            for code in allowed:
                stored[f"{key}:{code}"] = (1 if code in [str(c) for c in codes] else 0, None)
        else:
            number = _whole(value)
            if kind == "yesno":
                number = {"yes": 1, "no": 0}.get(str(value).lower(), number)
                allowed = {0, 1}
            elif kind == "choice":
                allowed = {int(code) for code, _ in q["choices"]}
            else:
                allowed = range(q["min"], q["max"] + 1)
            if number is None or number not in allowed:
                if kind in ("scale", "count"):
                    raise DomainError(f"{label}: choose a whole number from {q['min']} to {q['max']}", field=key)
                raise DomainError(f"{label}: choose one of the options given", field=key)
            stored[key] = (number, None)
    return stored
