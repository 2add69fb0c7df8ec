"""reach: programme settings, kept reach figures, awareness course types

Revision ID: 2026_12_01_07
Revises: 2026_12_01_06
Create Date: 2026-12-01 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_01_07"
down_revision = "2026_12_01_06"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course_type", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_awareness", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE course_type SET is_awareness = true WHERE code = 'AWARE'")

    op.create_table(
        "programme_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_people", sa.Integer(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_settings")),
    )
    op.create_table(
        "reach_first",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("include_awareness", sa.Boolean(), nullable=False),
        sa.Column("completion_id", sa.Integer(), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("course_type_id", sa.Integer(), nullable=False),
        sa.Column("home_area", sa.Integer(), nullable=False),
        sa.Column("work_area", sa.Integer(), nullable=False),
        sa.Column("delivery_area", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=30), nullable=False),
        sa.Column("age_band", sa.String(length=30), nullable=False),
        sa.Column("sex", sa.String(length=30), nullable=False),
        sa.Column("ethnic_group", sa.String(length=30), nullable=False),
        sa.Column("disability", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "include_awareness", name=op.f("pk_reach_first")),
    )
    op.create_index("ix_reach_first_month", "reach_first", ["include_awareness", "month"], unique=False)
    op.create_table(
        "reach_month",
        sa.Column("include_awareness", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("area", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("include_awareness", "basis", "month", "area", "course_type_id",
                                name=op.f("pk_reach_month")),
    )
    op.create_table(
        "reach_group_month",
        sa.Column("include_awareness", sa.Boolean(), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=30), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("include_awareness", "dimension", "value", "month", "course_type_id",
                                name=op.f("pk_reach_group_month")),
    )


def downgrade():
    op.drop_table("reach_group_month")
    op.drop_table("reach_month")
    op.drop_index("ix_reach_first_month", table_name="reach_first")
    op.drop_table("reach_first")
    op.drop_table("programme_settings")
    with op.batch_alter_table("course_type", schema=None) as batch_op:
        batch_op.drop_column("is_awareness")
