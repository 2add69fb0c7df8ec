"""erased index: the erased records, which every revocation list reads

Revision ID: 2026_12_01_12
Revises: 2026_12_01_11
Create Date: 2026-12-01 17:00:00

The status list sets the bit of every certificate whose holder was erased; without an index that read
the whole person table (60 ms at 500,000 people) at every request.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_01_12"
down_revision = "2026_12_01_11"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_person_erased", "person", ["erased_at"], postgresql_where=sa.text("erased_at IS NOT NULL"),
                    sqlite_where=sa.text("erased_at IS NOT NULL"))


def downgrade():
    op.drop_index("ix_person_erased", table_name="person")
