"""rate limit counter: rate-limit windows in the app's database, shared by every worker

Revision ID: 2026_12_06_40
Revises: 2026_12_01_12
Create Date: 2026-12-06 09:00:00

The default rate-limit store (RATELIMIT_STORAGE_URI=database://): one row per counter and window.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_40"
down_revision = "2026_12_01_12"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_limit_counter",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counter")),
    )
    op.create_index(op.f("ix_rate_limit_counter_expires_at"), "rate_limit_counter", ["expires_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_rate_limit_counter_expires_at"), table_name="rate_limit_counter")
    op.drop_table("rate_limit_counter")
