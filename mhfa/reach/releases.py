"""Monthly releases: the public progress figures frozen at each month's end, kept, never changed.

``freeze`` computes the open-data tables as at a month's last day and stores them. Run again for a
month already released, it compares: the same figures add nothing; different figures (a late import,
a revoked certificate) add a new revision of that month, a correction, with a note of what changed.
A release is addressed by its key, ``2026-11`` or ``2026-11-r2``, and served from what was stored.
"""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from mhfa.errors import DomainError, NotFound
from mhfa.extensions import db
from mhfa.reach import counted, opendata
from mhfa.reach.models import ReachRelease
from mhfa.timeutil import london_today

KEY = re.compile(r"^(\d{4})-(\d{2})(?:-r([1-9]\d{0,3}))?$")


def last_complete_month(today: date | None = None) -> int:
    return counted.add_months(counted.month_key(today or london_today()), -1)


def parse_month(text: str) -> int:
    found = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise DomainError("Give the month as YYYY-MM, for example 2026-11", field="month")
    return int(found.group(1)) * 100 + int(found.group(2))


def freeze(month: int | None = None, *, today: date | None = None) -> ReachRelease | None:
    """Freeze a complete month's figures (default: the last complete month). Returns the new release, or
    None when the figures equal the month's latest release."""
    today = today or london_today()
    month = month or last_complete_month(today)
    if month > last_complete_month(today):
        raise DomainError("A month is released once it has ended", field="month")
    data = {"tables": opendata.tables(today, month=month)}
    latest = db.session.scalar(sa.select(ReachRelease).where(ReachRelease.month == month)
                               .order_by(ReachRelease.revision.desc()).limit(1))
    if latest is not None and latest.data == data:
        return None
    note = "" if latest is None else "Correction of " + latest.key + ": " + _changes(latest.data, data)
    release = ReachRelease(month=month, revision=1 if latest is None else latest.revision + 1,
                           as_of=counted.month_end(month), note=note, data=data)
    db.session.add(release)
    db.session.flush()
    return release


def _changes(before: dict, after: dict) -> str:
    old, new = before["tables"]["headline"][0], after["tables"]["headline"][0]
    moved = [f"{name} {old.get(name)} to {new.get(name)}" for name in ("counted_toward_target", "outside_region")
             if old.get(name) != new.get(name)]
    return "; ".join(moved) or "figures below the headline changed"


def all_releases() -> list[ReachRelease]:
    return list(db.session.scalars(sa.select(ReachRelease).order_by(ReachRelease.month.desc(),
                                                                    ReachRelease.revision.desc())))


def release(key: str) -> ReachRelease:
    """The release named ``key`` (``2026-11``, ``2026-11-r2``), or NotFound."""
    found = KEY.match(key or "")
    if not found:
        raise NotFound("No release of that name")
    month = int(found.group(1)) * 100 + int(found.group(2))
    revision = int(found.group(3) or 1)
    kept = db.session.scalar(sa.select(ReachRelease).where(ReachRelease.month == month,
                                                           ReachRelease.revision == revision))
    if kept is None:
        raise NotFound("No release of that name")
    return kept


def previous(kept: ReachRelease) -> ReachRelease | None:
    """The latest release of the month before (for the month's changes)."""
    return db.session.scalar(sa.select(ReachRelease).where(ReachRelease.month == counted.add_months(kept.month, -1))
                             .order_by(ReachRelease.revision.desc()).limit(1))
