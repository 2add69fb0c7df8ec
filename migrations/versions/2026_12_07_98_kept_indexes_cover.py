"""kept funnel, first-aider and outcome indexes hold what the dashboard's outcomes section reads

Revision ID: 2026_12_07_98
Revises: 2026_12_07_97
Create Date: 2026-12-07 03:00:00

The dashboard's outcomes section counts this month's started places and expiries, and this month's
expiring first aiders, from ``funnel_place`` and ``first_aider_kept``, and one area's months from
``funnel_month`` and ``outcome_month``; with the columns they read included in the indexes, PostgreSQL
reads them from the index alone. SQLite has no included columns: its indexes hold the keys only.
"""
from alembic import op


revision = "2026_12_07_98"
down_revision = "2026_12_07_97"
branch_labels = None
depends_on = None

PLACE_GROUPS = ["month", "course_type_id", "home_area", "work_area", "delivery_area"]
PLACE_STEPS = ["attended", "completed", "certified", "current_until"]
SUMS = ["invited", "answered", *(f"{q}_{s}" for q in ("confidence_before", "confidence_now", "signposting_before",
                                                       "signposting_now") for s in ("n", "sum", "sq")),
        "rated", "good", "use_answered", "used"]
INDEXES = (("ix_funnel_place_starts", "funnel_place", ["starts_at"], PLACE_GROUPS + PLACE_STEPS),
           ("ix_funnel_place_current", "funnel_place", ["current_until"], PLACE_GROUPS),
           ("ix_first_aider_kept_expires", "first_aider_kept", ["expires_on"], ["home_area", "work_area"]),
           ("ix_outcome_month_area", "outcome_month", ["area"], ["kind", "month", "course_type_id", *SUMS]))
FUNNEL_MONTH_AREA = ("ix_funnel_month_area", "funnel_month", ["basis", "area", "month"],
                     ["course_type_id", "current_month", "booked", "attended", "completed", "certified"])


def _recreate(include: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, columns, covered in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_include=covered if include else [])


def upgrade():
    _recreate(include=True)
    name, table, columns, covered = FUNNEL_MONTH_AREA
    op.create_index(name, table, columns, postgresql_include=covered)


def downgrade():
    op.drop_index(FUNNEL_MONTH_AREA[0], table_name=FUNNEL_MONTH_AREA[1])
    _recreate(include=False)
