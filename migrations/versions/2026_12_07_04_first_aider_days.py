"""kept first aiders per day of their latest expiry: today's count reads this month's days, not its people

Revision ID: 2026_12_07_04
Revises: 2026_12_07_03
Create Date: 2026-12-07 12:40:00

Today's current first aiders were the kept months after this one plus this month's people whose latest expiry
is today or later, read person by person from ``first_aider_kept`` (through ``ix_first_aider_kept_expires``): a
month's expiries, which grow with the people the programme trains (23,562 rows at 5,000,000 people).
``first_aider_day`` keeps the same people per basis, day of that expiry and area, filled here from
``first_aider_kept`` and kept from now on with ``first_aider_month``; the per-person index nothing reads any more
is dropped.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_07_04"
down_revision = "2026_12_07_03"
branch_labels = None
depends_on = None

BASES = {"home": "home_area", "work": "work_area"}


def upgrade():
    op.create_table(
        "first_aider_day",
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("area", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("basis", "expires_on", "area", name=op.f("pk_first_aider_day")),
    )
    for basis, column in BASES.items():
        op.execute(f"INSERT INTO first_aider_day (basis, expires_on, area, people) SELECT '{basis}', expires_on, "
                   f"{column}, COUNT(*) FROM first_aider_kept GROUP BY expires_on, {column}")
    op.drop_index("ix_first_aider_kept_expires", table_name="first_aider_kept")


def downgrade():
    op.create_index("ix_first_aider_kept_expires", "first_aider_kept", ["expires_on"], unique=False,
                    postgresql_include=["home_area", "work_area"])
    op.drop_table("first_aider_day")
