"""Course types: the MHFA England catalogue loaded from ``data/course_types.csv``, and finding one by code.
"""
from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa

from mhfa.courses.models import (
    CourseType,
)
from mhfa.extensions import db

COURSE_TYPES_CSV = Path(__file__).parent / "data" / "course_types.csv"


def load_course_types(path: Path = COURSE_TYPES_CSV) -> dict[str, int]:
    """Add the catalogue's course types that are missing; leave existing ones as coordinators set them."""
    existing = {ct.code: ct for ct in db.session.scalars(sa.select(CourseType))}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    added = 0
    for row in rows:
        if row["code"] in existing:
            continue
        course_type = CourseType(
            code=row["code"],
            name=row["name"],
            description=row["description"],
            sessions_in_person=int(row["sessions_in_person"]),
            sessions_online=int(row["sessions_online"]),
            hours=float(row["hours"]),
            max_learners=int(row["max_learners"]),
            recommended_min_learners=int(row["recommended_min_learners"]) if row["recommended_min_learners"] else None,
            min_age=int(row["min_age"]),
            certificate_title=row["certificate_title"],
            certificate_valid_years=int(row["certificate_valid_years"]) if row["certificate_valid_years"] else None,
            counts_toward_target=row["counts_toward_target"] == "yes",
            is_awareness=row.get("awareness") == "yes",
            requires_prior_certificate=row["requires_prior_certificate"] == "yes",
        )
        db.session.add(course_type)
        existing[course_type.code] = course_type
        added += 1
    for row in rows:
        course_type = existing[row["code"]]
        if row["prerequisites"] and not course_type.prerequisites:
            course_type.prerequisites = [existing[code] for code in row["prerequisites"].split(";")]
    db.session.flush()
    return {"course types added": added}

