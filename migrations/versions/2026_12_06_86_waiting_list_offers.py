"""waiting-list offers: a seat offered for a limited time close to the course, the links' token, and the
programme's rules for offers and for an employer's place left unused by a no-show

Revision ID: 2026_12_06_86
Revises: 2026_12_06_85
Create Date: 2026-12-06 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_86"
down_revision = "2026_12_06_85"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("booking", sa.Column("offered_at", sa.DateTime(), nullable=True))
    op.add_column("booking", sa.Column("offer_expires_at", sa.DateTime(), nullable=True))
    op.add_column("booking", sa.Column("answer_token", sa.String(length=64), nullable=True))
    op.create_index("uq_booking_answer_token", "booking", ["answer_token"], unique=True)
    op.add_column("programme_settings", sa.Column("offer_window_days", sa.Integer(), nullable=False,
                                                  server_default="7"))
    op.add_column("programme_settings", sa.Column("offer_hours", sa.Integer(), nullable=False, server_default="24"))
    op.add_column("programme_settings", sa.Column("no_show_spends_place", sa.Boolean(), nullable=False,
                                                  server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("programme_settings") as batch:
        batch.drop_column("no_show_spends_place")
        batch.drop_column("offer_hours")
        batch.drop_column("offer_window_days")
    op.drop_index("uq_booking_answer_token", table_name="booking")
    op.drop_column("booking", "answer_token")
    op.drop_column("booking", "offer_expires_at")
    op.drop_column("booking", "offered_at")
