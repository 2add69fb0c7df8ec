"""a course's places counted from an index alone: the finder's free places and each booking

Revision ID: 2026_12_07_03
Revises: 2026_12_07_02
Create Date: 2026-12-07 07:40:00

A seat is taken by a confirmed place or held for a waiting-list offer (``offer_expires_at`` set), so
counting a course's places read every booking's row for its offer; the finder's "only courses with free
places" counts them for every upcoming course. ``ix_booking_course_status`` now holds the offer's
expiry too, so PostgreSQL counts from the index alone. SQLite has no included columns: unchanged there.
"""
from alembic import op


revision = "2026_12_07_03"
down_revision = "2026_12_07_02"
branch_labels = None
depends_on = None


def _recreate(include: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_booking_course_status", table_name="booking")
    op.create_index("ix_booking_course_status", "booking", ["course_id", "status"], postgresql_include=include)


def upgrade():
    _recreate(["offer_expires_at"])


def downgrade():
    _recreate([])
