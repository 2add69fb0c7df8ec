"""kept reach months read from an index alone: the headline, chart and area table

Revision ID: 2026_12_07_01
Revises: 2026_12_07_99
Create Date: 2026-12-07 07:00:00

The dashboard's and the public progress page's headline, chart and area table add up ``reach_month`` by
month and area for one basis and variant. Its primary key leads with those but holds the course type
before the count, so PostgreSQL read the table's rows and grouped them by hashing. An index on the
basis, variant, month and area that holds the course type and the count is read alone, already in the
order of the groups. SQLite has no included columns: its index holds the keys only.
"""
from alembic import op


revision = "2026_12_07_01"
down_revision = "2026_12_07_99"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_reach_month_area", "reach_month", ["include_awareness", "basis", "month", "area"],
                    postgresql_include=["course_type_id", "people"])


def downgrade():
    op.drop_index("ix_reach_month_area", table_name="reach_month")
