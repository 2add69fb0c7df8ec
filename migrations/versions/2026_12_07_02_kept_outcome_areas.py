"""kept outcome sums per area and course type, every month together: the public page's region

Revision ID: 2026_12_07_02
Revises: 2026_12_07_01
Create Date: 2026-12-07 07:15:00

The public progress page shows the region's evaluation and follow-up figures: the kept sums of every
month of the region's areas, which ``outcome_month`` holds per month (thousands of rows, more every
month). ``outcome_area`` keeps the same sums per kind, home area and course type, a few hundred rows
whatever the length of the history, filled here from ``outcome_month`` and kept from now on with the
other kept outcome figures (``mhfa/outcomes/keeping.py``).
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_07_02"
down_revision = "2026_12_07_01"
branch_labels = None
depends_on = None

SUMS = ["invited", "answered", *(f"{q}_{s}" for q in ("confidence_before", "confidence_now", "signposting_before",
                                                       "signposting_now") for s in ("n", "sum", "sq")),
        "rated", "good", "use_answered", "used"]
KEYS = ["kind", "area", "course_type_id"]


def upgrade():
    op.create_table(
        "outcome_area",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("area", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in SUMS),
        sa.PrimaryKeyConstraint(*KEYS, name=op.f("pk_outcome_area")),
    )
    op.execute(f"INSERT INTO outcome_area ({', '.join(KEYS + SUMS)}) "
               f"SELECT {', '.join(KEYS)}, {', '.join(f'SUM({name})' for name in SUMS)} "
               f"FROM outcome_month GROUP BY {', '.join(KEYS)}")


def downgrade():
    op.drop_table("outcome_area")
