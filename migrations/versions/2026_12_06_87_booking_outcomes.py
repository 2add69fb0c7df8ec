"""what happened to each booking: a "withdrew" mark's reason, why a booking ended without completion, and
whether a no-show's employer place was spent or returned

Revision ID: 2026_12_06_87
Revises: 2026_12_06_86
Create Date: 2026-12-06 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_87"
down_revision = "2026_12_06_86"
branch_labels = None
depends_on = None

REASONS = ("did_not_attend", "withdrew", "absent_from_session", "course_cancelled")


def upgrade():
    op.add_column("attendance_mark", sa.Column("reason", sa.String(length=200), nullable=True))
    op.add_column("non_completion", sa.Column("reason", sa.Enum(*REASONS, name="noncompletionreason",
                                                                native_enum=False, length=20,
                                                                create_constraint=False), nullable=True))
    op.add_column("non_completion", sa.Column("detail", sa.String(length=200), nullable=True))
    op.add_column("non_completion", sa.Column("place_returned", sa.Boolean(), nullable=True))
    op.add_column("non_completion", sa.Column("voucher_id", sa.Integer(), nullable=True))
    op.create_index("ix_non_completion_voucher_id", "non_completion", ["voucher_id"])


def downgrade():
    op.drop_index("ix_non_completion_voucher_id", table_name="non_completion")
    with op.batch_alter_table("non_completion") as batch:
        batch.drop_column("voucher_id")
        batch.drop_column("place_returned")
        batch.drop_column("detail")
        batch.drop_column("reason")
    with op.batch_alter_table("attendance_mark") as batch:
        batch.drop_column("reason")
