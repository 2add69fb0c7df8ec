"""kept group rows per basis, split by whether the people count toward the target

Revision ID: 2026_12_06_10
Revises: 2026_12_06_41
Create Date: 2026-12-06 16:50:00

The breakdown tables (sector, equality answers, funding stream) count the same people as the
headline: those counted toward the target (in the target region, or area not known) on the chosen
basis, with people outside the region added only on request. The kept rows gain the basis and the
``counted`` flag and are recomputed from ``reach_first``.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_10"
down_revision = "2026_12_06_41"
branch_labels = None
depends_on = None

BASES = {"home": "home_area", "work": "work_area", "delivery": "delivery_area"}
DIMENSIONS = ("sector", "age_band", "sex", "ethnic_group", "disability", "funding_stream")


def _create(with_split: bool):
    keys = ["include_awareness", *(["basis", "counted"] if with_split else []), "dimension", "value", "month",
            "course_type_id"]
    columns = [sa.Column("include_awareness", sa.Boolean(), nullable=False)]
    if with_split:
        columns += [sa.Column("basis", sa.String(length=10), nullable=False),
                    sa.Column("counted", sa.Boolean(), nullable=False)]
    columns += [
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=30), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
    ]
    op.create_table("reach_group_month", *columns, sa.PrimaryKeyConstraint(*keys, name=op.f("pk_reach_group_month")))


def upgrade():
    op.drop_table("reach_group_month")
    _create(True)
    true, false = ("true", "false") if op.get_bind().dialect.name == "postgresql" else ("1", "0")
    for basis, column in BASES.items():
        counted = (f"CASE WHEN {column} = 0 OR {column} IN (SELECT id FROM council_area WHERE in_target_region) "
                   f"THEN {true} ELSE {false} END")
        for dimension in DIMENSIONS:
            op.execute(
                "INSERT INTO reach_group_month (include_awareness, basis, counted, dimension, value, month, "
                f"course_type_id, people) SELECT include_awareness, '{basis}', {counted}, '{dimension}', {dimension}, "
                f"month, course_type_id, COUNT(*) FROM reach_first "
                f"GROUP BY include_awareness, {counted}, {dimension}, month, course_type_id")


def downgrade():
    op.drop_table("reach_group_month")
    _create(False)
    for dimension in DIMENSIONS:
        op.execute(
            "INSERT INTO reach_group_month (include_awareness, dimension, value, month, course_type_id, people) "
            f"SELECT include_awareness, '{dimension}', {dimension}, month, course_type_id, COUNT(*) FROM reach_first "
            f"GROUP BY include_awareness, {dimension}, month, course_type_id")
