"""kept reach months and groups read from an index alone: the headline, chart and breakdown tables

Revision ID: 2026_12_07_01
Revises: 2026_12_07_99
Create Date: 2026-12-07 07:00:00

The dashboard's and the public progress page's headline, chart and area table add up ``reach_month`` by
month and area for one basis and variant; the dashboard's breakdown tables add up ``reach_group_month``
by dimension and value. Their primary keys lead with those columns but do not hold the count, so
PostgreSQL read the tables' rows and grouped them by hashing. Indexes that hold the count (and, for the
months, the course type) are read alone, already in the order of the groups. SQLite has no included
columns: its indexes hold the keys only.
"""
from alembic import op


revision = "2026_12_07_01"
down_revision = "2026_12_07_99"
branch_labels = None
depends_on = None

GROUP_KEYS = ["include_awareness", "basis", "counted", "dimension", "value", "month", "course_type_id"]


def upgrade():
    op.create_index("ix_reach_month_area", "reach_month", ["include_awareness", "basis", "month", "area"],
                    postgresql_include=["course_type_id", "people"])
    op.create_index("ix_reach_group_month_people", "reach_group_month", GROUP_KEYS, postgresql_include=["people"])


def downgrade():
    op.drop_index("ix_reach_group_month_people", table_name="reach_group_month")
    op.drop_index("ix_reach_month_area", table_name="reach_month")
