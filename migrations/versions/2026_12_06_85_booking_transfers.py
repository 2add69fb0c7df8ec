"""booking transferred_from: a booking moved to another date points back at the one it replaced

Revision ID: 2026_12_06_85
Revises: 2026_12_06_81
Create Date: 2026-12-06 20:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_85"
down_revision = "2026_12_06_81"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN … REFERENCES on both databases (SQLite accepts a nullable column with a foreign key
    # without rebuilding the table, which would have to reflect its partial unique index).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE booking ADD COLUMN transferred_from_id INTEGER"
                   " CONSTRAINT fk_booking_transferred_from_id_booking REFERENCES booking (id)")
    else:
        op.add_column("booking", sa.Column("transferred_from_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_booking_transferred_from_id_booking", "booking", "booking",
                              ["transferred_from_id"], ["id"])
    op.create_index("ix_booking_transferred_from_id", "booking", ["transferred_from_id"])


def downgrade():
    op.drop_index("ix_booking_transferred_from_id", table_name="booking")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_booking_transferred_from_id_booking", "booking", type_="foreignkey")
    op.drop_column("booking", "transferred_from_id")
