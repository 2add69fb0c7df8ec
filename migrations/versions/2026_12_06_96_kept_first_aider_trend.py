"""kept first-aider trend: each person's stretches of holding a current certificate, and their count per area,
first month and last month-end covered

Revision ID: 2026_12_06_96
Revises: 2026_12_06_95
Create Date: 2026-12-07 00:00:00

The first aiders at each month's end (the outcomes page's trend) are a sum of kept rows
(``mhfa/outcomes/keeping.py``), kept in the same transaction as every change that moves them. The tables are
filled here by the same rules (a revocation ends a certificate's days the London day before it);
``flask --app wsgi mhfa rebuild-reach --check`` confirms them.
"""
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_96"
down_revision = "2026_12_06_95"
branch_labels = None
depends_on = None

FOREVER = date(9999, 12, 31)
LONDON = ZoneInfo("Europe/London")


def _month(day: date) -> int:
    return day.year * 100 + day.month


def _last_month_end(day: date) -> int:
    if day == FOREVER or (day + timedelta(days=1)).day == 1:
        return _month(day)
    return _month(day.replace(day=1) - timedelta(days=1))


def upgrade():
    op.create_table(
        "first_aider_span",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("home_area", sa.Integer(), nullable=False),
        sa.Column("work_area", sa.Integer(), nullable=False),
        sa.Column("from_month", sa.Integer(), nullable=False),
        sa.Column("to_month", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "starts_on", name=op.f("pk_first_aider_span")),
    )
    op.create_table(
        "first_aider_span_month",
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("area", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("from_month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("to_month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("basis", "area", "from_month", "to_month", name=op.f("pk_first_aider_span_month")),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT c.person_id, c.issued_on, c.expires_on, c.revoked_at, COALESCE(p.home_council_area_id, 0), "
        "COALESCE(p.work_council_area_id, 0) FROM certificate c JOIN person p ON p.id = c.person_id "
        "ORDER BY c.person_id")).all()
    days: dict[int, list] = {}
    areas = {}
    for person_id, issued_on, expires_on, revoked_at, home, work in rows:
        if isinstance(issued_on, str):  # SQLite hands back text
            issued_on = date.fromisoformat(issued_on[:10])
            expires_on = None if expires_on is None else date.fromisoformat(expires_on[:10])
        end = expires_on or FOREVER
        if revoked_at is not None:
            if isinstance(revoked_at, str):
                from datetime import datetime
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


def downgrade():
    op.drop_table("first_aider_span_month")
    op.drop_table("first_aider_span")
