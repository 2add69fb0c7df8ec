"""kept group rows per area: the breakdown tables of one chosen area

Revision ID: 2026_12_07_99
Revises: 2026_12_07_98
Create Date: 2026-12-07 03:15:00

With a council area chosen, the dashboard's and the API's breakdown tables (employer sector, equality
answers, funding stream) counted the area's people in ``reach_first``, a scan that grew with the history.
``reach_group_area_month`` keeps those counts per month, course type, basis and area, filled here from
``reach_first`` and kept from now on with the other kept reach figures. On PostgreSQL its index on the
area holds every column the tables read, so they read it alone.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_07_99"
down_revision = "2026_12_07_98"
branch_labels = None
depends_on = None

BASES = {"home": "home_area", "work": "work_area", "delivery": "delivery_area"}
DIMENSIONS = ("sector", "age_band", "sex", "ethnic_group", "disability", "funding_stream")
KEYS = ("include_awareness", "basis", "area", "dimension", "value", "month", "course_type_id")


def upgrade():
    op.create_table(
        "reach_group_area_month",
        sa.Column("include_awareness", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("area", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=30), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEYS, name=op.f("pk_reach_group_area_month")),
    )
    op.create_index("ix_reach_group_area_month_area", "reach_group_area_month",
                    ["include_awareness", "basis", "area", "month"],
                    postgresql_include=["course_type_id", "dimension", "value", "people"])
    for basis, column in BASES.items():
        for dimension in DIMENSIONS:
            op.execute(
                f"INSERT INTO reach_group_area_month ({', '.join(KEYS)}, people) "
                f"SELECT include_awareness, '{basis}', {column}, '{dimension}', {dimension}, month, course_type_id, "
                f"COUNT(*) FROM reach_first GROUP BY include_awareness, {column}, {dimension}, month, course_type_id")


def downgrade():
    op.drop_index("ix_reach_group_area_month_area", table_name="reach_group_area_month")
    op.drop_table("reach_group_area_month")
