"""kept outcome figures refilled: current first aiders leave out awareness courses' certificates of attendance,
and evaluations are grouped by their place's funding stream

Revision ID: 2026_12_07_97
Revises: 2026_12_06_96
Create Date: 2026-12-07 03:00:00

A first aider holds a current certificate of a course type that is not an awareness course (an awareness
course's certificate of attendance never expires and makes no one a first aider): ``first_aider_kept``,
``first_aider_month``, ``first_aider_span`` and ``first_aider_span_month`` are refilled by that rule. An
invitation's funding stream is its place's, as reach counts it: the order's when the place was bought with a
voucher, else the course's (``outcome_kept.funding_stream`` and the funding-stream rows of
``outcome_group_month``). The rules are those of ``mhfa/outcomes/keeping.py``; ``flask --app wsgi mhfa
rebuild-reach --check`` confirms them.
"""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = "2026_12_07_97"
down_revision = "2026_12_06_96"
branch_labels = None
depends_on = None

SCORES = ("confidence_before", "confidence_now", "signposting_before", "signposting_now")
GOOD_OR_BETTER = 4
FOREVER = date(9999, 12, 31)
LONDON = ZoneInfo("Europe/London")
FIRST_AID = "course_type_id IN (SELECT t.id FROM course_type t WHERE t.is_awareness = {false})"


def _month_of(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST(EXTRACT(year FROM {column}) * 100 + EXTRACT(month FROM {column}) AS INTEGER)"
    return f"(CAST(strftime('%Y', {column}) AS INTEGER) * 100 + CAST(strftime('%m', {column}) AS INTEGER))"


def _month(day: date) -> int:
    return day.year * 100 + day.month


def _last_month_end(day: date) -> int:
    if day == FOREVER or (day + timedelta(days=1)).day == 1:
        return _month(day)
    return _month(day.replace(day=1) - timedelta(days=1))


def _day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])  # SQLite hands back text


def _refill_first_aiders(bind, dialect: str, first_aid: str) -> None:
    forever = "DATE '9999-12-31'" if dialect == "postgresql" else "'9999-12-31'"
    for table in ("first_aider_month", "first_aider_kept", "first_aider_span_month", "first_aider_span"):
        op.execute(f"DELETE FROM {table}")  # noqa: S608
    latest = (f"SELECT person_id, MAX(COALESCE(expires_on, {forever})) AS expires_on FROM certificate "  # noqa: S608
              f"WHERE revoked_at IS NULL AND {first_aid} GROUP BY person_id")
    op.execute(
        "INSERT INTO first_aider_kept (person_id, home_area, work_area, expires_on, expiry_month) "
        "SELECT l.person_id, COALESCE(p.home_council_area_id, 0), COALESCE(p.work_council_area_id, 0), l.expires_on, "
        f"{_month_of('l.expires_on', dialect)} FROM ({latest}) l JOIN person p ON p.id = l.person_id")
    for basis in ("home", "work"):
        op.execute(
            f"INSERT INTO first_aider_month (basis, area, expiry_month, people) SELECT '{basis}', {basis}_area, "
            f"expiry_month, COUNT(*) FROM first_aider_kept GROUP BY {basis}_area, expiry_month")
    rows = bind.execute(sa.text(
        "SELECT c.person_id, c.issued_on, c.expires_on, c.revoked_at, COALESCE(p.home_council_area_id, 0), "
        "COALESCE(p.work_council_area_id, 0) FROM certificate c JOIN person p ON p.id = c.person_id "
        f"WHERE c.{first_aid} ORDER BY c.person_id")).all()
    days: dict[int, list] = {}
    areas = {}
    for person_id, issued_on, expires_on, revoked_at, home, work in rows:
        issued_on, expires_on = _day(issued_on), _day(expires_on)
        end = expires_on or FOREVER
        if revoked_at is not None:
            if isinstance(revoked_at, str):
                revoked_at = datetime.fromisoformat(revoked_at)
            end = min(end, revoked_at.replace(tzinfo=UTC).astimezone(LONDON).date() - timedelta(days=1))
        areas[person_id] = (home, work)
        if end >= issued_on:
            days.setdefault(person_id, []).append((issued_on, end))
    spans = []
    for person_id, stretches in days.items():
        merged = []
        for start, end in sorted(stretches):
            if merged and (start <= merged[-1][1] or start - timedelta(days=1) == merged[-1][1]):
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        home, work = areas[person_id]
        spans += [{"person_id": person_id, "starts_on": start, "ends_on": end, "home_area": home, "work_area": work,
                   "from_month": _month(start), "to_month": _last_month_end(end)} for start, end in merged]
    table = sa.table("first_aider_span", *(sa.column(name) for name in (
        "person_id", "starts_on", "ends_on", "home_area", "work_area", "from_month", "to_month")))
    for start in range(0, len(spans), 10000):
        bind.execute(table.insert(), spans[start:start + 10000])
    for basis in ("home", "work"):
        op.execute(
            f"INSERT INTO first_aider_span_month (basis, area, from_month, to_month, people) SELECT '{basis}', "
            f"{basis}_area, from_month, to_month, COUNT(*) FROM first_aider_span "
            f"GROUP BY {basis}_area, from_month, to_month")


#: An invitation's funding stream: its place's (the order's for a place bought with a voucher, else the course's).
PLACE_STREAM = ("SELECT COALESCE(o.funding_stream, c.funding_stream) FROM outcome_invite i "
                "JOIN completion d ON d.id = i.completion_id LEFT JOIN course c ON c.id = i.course_id "
                "LEFT JOIN booking b ON b.id = d.booking_id LEFT JOIN place_voucher v ON v.id = b.voucher_id "
                "LEFT JOIN employer_order o ON o.id = v.order_id WHERE i.id = outcome_kept.invite_id")
#: The earlier rule (downgrade): the course's.
COURSE_STREAM = ("SELECT c.funding_stream FROM outcome_invite i JOIN course c ON c.id = i.course_id "
                 "WHERE i.id = outcome_kept.invite_id")


def _refill_streams(stream: str) -> None:
    op.execute(f"UPDATE outcome_kept SET funding_stream = ({stream})")  # noqa: S608
    op.execute("DELETE FROM outcome_group_month WHERE dimension = 'funding_stream'")
    sums = ", ".join(f"COUNT({q}), COALESCE(SUM(CAST({q} AS BIGINT)), 0), COALESCE(SUM(CAST({q} * {q} AS BIGINT)), 0)"
                     for q in SCORES)
    columns = ", ".join(f"{q}_n, {q}_sum, {q}_sq" for q in SCORES)
    op.execute(
        f"INSERT INTO outcome_group_month (kind, dimension, value, month, area, course_type_id, invited, answered, "
        f"{columns}, rated, good, use_answered, used) "
        f"SELECT kind, 'funding_stream', COALESCE(funding_stream, ''), month, area, course_type_id, COUNT(*), "
        f"SUM(answered), {sums}, COUNT(rating), SUM(CASE WHEN rating >= {GOOD_OR_BETTER} THEN 1 ELSE 0 END), "
        f"COUNT(used_skills), COALESCE(SUM(used_skills), 0) FROM outcome_kept "
        f"GROUP BY kind, COALESCE(funding_stream, ''), month, area, course_type_id")


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    _refill_first_aiders(bind, dialect, FIRST_AID.format(false="false" if dialect == "postgresql" else "0"))
    _refill_streams(PLACE_STREAM)


def downgrade():
    """Back to the earlier rules: every unrevoked certificate counted, and the course's funding stream."""
    bind = op.get_bind()
    _refill_first_aiders(bind, bind.dialect.name, "course_type_id IS NOT NULL")
    _refill_streams(COURSE_STREAM)
