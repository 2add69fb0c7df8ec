"""monthly releases of the public progress figures, frozen at each month's end

Revision ID: 2026_12_06_11
Revises: 2026_12_06_10
Create Date: 2026-12-06 17:10:00
"""
import sqlalchemy as sa
from alembic import op


revision = "2026_12_06_11"
down_revision = "2026_12_06_10"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reach_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reach_release")),
        sa.UniqueConstraint("month", "revision", name="uq_reach_release_month_revision"),
    )


def downgrade():
    op.drop_table("reach_release")
