"""kept funnel for all areas together: the places per start month, course type and expiry month

Revision ID: 2026_12_06_97
Revises: 2026_12_06_96
Create Date: 2026-12-07 00:10:00

What the funnel reads when no area is chosen (the dashboard's section by default): a few hundred rows
instead of one per area. Filled here from the kept places; ``flask --app wsgi mhfa rebuild-reach --check``
confirms it.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_97"
down_revision = "2026_12_06_96"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "funnel_type_month",
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("current_month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("certified", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "course_type_id", "current_month", name=op.f("pk_funnel_type_month")),
    )
    op.execute(
        "INSERT INTO funnel_type_month (month, course_type_id, current_month, booked, attended, completed, certified) "
        "SELECT month, course_type_id, current_month, COUNT(*), SUM(attended), SUM(completed), SUM(certified) "
        "FROM funnel_place GROUP BY month, course_type_id, current_month")


def downgrade():
    op.drop_table("funnel_type_month")
