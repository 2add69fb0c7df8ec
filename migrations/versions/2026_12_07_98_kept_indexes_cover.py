"""kept funnel and first-aider indexes hold what today's counts read of this month's rows

Revision ID: 2026_12_07_98
Revises: 2026_12_07_97
Create Date: 2026-12-07 03:00:00

The dashboard's outcomes section counts this month's started places and expiries, and this month's
expiring first aiders, from ``funnel_place`` and ``first_aider_kept``; with the grouped columns included
in the range indexes, PostgreSQL reads them from the index alone. SQLite has no included columns: its
indexes stay as they were.
"""
from alembic import op


revision = "2026_12_07_98"
down_revision = "2026_12_07_97"
branch_labels = None
depends_on = None

PLACE_GROUPS = ["month", "course_type_id", "home_area", "work_area", "delivery_area"]
PLACE_STEPS = ["attended", "completed", "certified", "current_until"]
INDEXES = (("ix_funnel_place_starts", "funnel_place", "starts_at", PLACE_GROUPS + PLACE_STEPS),
           ("ix_funnel_place_current", "funnel_place", "current_until", PLACE_GROUPS),
           ("ix_first_aider_kept_expires", "first_aider_kept", "expires_on", ["home_area", "work_area"]))


def _recreate(include: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, column, covered in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], postgresql_include=covered if include else [])


def upgrade():
    _recreate(include=True)


def downgrade():
    _recreate(include=False)
