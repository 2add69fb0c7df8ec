"""kept funnel: one row per place and the places per start month, course type and expiry month (by basis and area, and all areas)

Revision ID: 2026_12_06_94
Revises: 2026_12_06_93
Create Date: 2026-12-06 23:40:00

The funnel from booked to certified is a sum of a few kept rows, kept in the same transaction as every
change that moves it (``mhfa/outcomes/keeping.py``). The tables are created and filled here by the same
rules; ``flask --app wsgi mhfa rebuild-reach --check`` confirms them. ``funnel_type_month`` is what the funnel
reads when no area is chosen (the dashboard's section by default): a few hundred rows instead of one per area.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_94"
down_revision = "2026_12_06_93"
branch_labels = None
depends_on = None


SUM_KEYS = ("month", "course_type_id", "current_month")  # the sums' keys (funnel_month's after basis and area)
STEPS = ("booked", "attended", "completed", "certified")


def _part(unit: str, column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST(EXTRACT({unit} FROM {column}) AS INTEGER)"
    code = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H"}[unit]
    return f"CAST(strftime('{code}', {column}) AS INTEGER)"


def _london_month(column: str, dialect: str) -> str:
    """yyyymm of a UTC moment in London (an hour ahead in summer: only the last hour of March to September moves)."""
    year, month, day, hour = (_part(u, column, dialect) for u in ("year", "month", "day", "hour"))
    return (f"({year} * 100 + {month} + CASE WHEN {hour} = 23 AND (({month} IN (3, 5, 7, 8) AND {day} = 31) "
            f"OR ({month} IN (4, 6, 9) AND {day} = 30)) THEN 1 ELSE 0 END)")


def upgrade():
    op.create_table(
        "funnel_place",
        sa.Column("booking_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("course_type_id", sa.Integer(), nullable=False),
        sa.Column("home_area", sa.Integer(), nullable=False),
        sa.Column("work_area", sa.Integer(), nullable=False),
        sa.Column("delivery_area", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("certified", sa.Integer(), nullable=False),
        sa.Column("current_until", sa.Date(), nullable=True),
        sa.Column("current_month", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_funnel_place")),
    )
    op.create_index("ix_funnel_place_starts", "funnel_place", ["starts_at"], unique=False)
    op.create_index("ix_funnel_place_current", "funnel_place", ["current_until"], unique=False)
    for table, keys in (("funnel_month", ("basis", "area", *SUM_KEYS)), ("funnel_type_month", SUM_KEYS)):
        op.create_table(
            table,
            *(sa.Column(key, sa.String(length=10) if key == "basis" else sa.Integer(), autoincrement=False,
                        nullable=False) for key in keys),
            *(sa.Column(step, sa.Integer(), nullable=False) for step in STEPS),
            sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{table}")),
        )
    dialect = op.get_bind().dialect.name
    forever = "DATE '9999-12-31'" if dialect == "postgresql" else "'9999-12-31'"
    op.execute(
        "INSERT INTO funnel_place (booking_id, month, starts_at, course_type_id, home_area, work_area, delivery_area, "
        "attended, completed, certified, current_until, current_month) "
        f"SELECT b.id, {_london_month('c.starts_at', dialect)}, c.starts_at, c.course_type_id, "
        "COALESCE(p.home_council_area_id, 0), COALESCE(p.work_council_area_id, 0), COALESCE(c.council_area_id, 0), "
        "CASE WHEN EXISTS (SELECT 1 FROM attendance_mark m WHERE m.booking_id = b.id AND m.status = 'present') "
        "THEN 1 ELSE 0 END, "
        "CASE WHEN EXISTS (SELECT 1 FROM completion d WHERE d.booking_id = b.id) THEN 1 ELSE 0 END, "
        "CASE WHEN EXISTS (SELECT 1 FROM completion d JOIN certificate x ON x.completion_id = d.id "
        "WHERE d.booking_id = b.id) THEN 1 ELSE 0 END, "
        f"(SELECT MAX(COALESCE(x.expires_on, {forever})) FROM completion d JOIN certificate x "
        "ON x.completion_id = d.id WHERE d.booking_id = b.id AND x.revoked_at IS NULL), 0 "
        "FROM booking b JOIN course c ON c.id = b.course_id JOIN person p ON p.id = b.person_id "
        "WHERE b.status = 'confirmed' AND c.status IN ('published', 'completed') AND c.starts_at IS NOT NULL")
    op.execute(f"UPDATE funnel_place SET current_month = {_part('year', 'current_until', dialect)} * 100 + "
               f"{_part('month', 'current_until', dialect)} WHERE current_until IS NOT NULL")
    keys, sums = ", ".join(SUM_KEYS), "COUNT(*), SUM(attended), SUM(completed), SUM(certified)"
    for basis in ("home", "work", "delivery"):
        op.execute(f"INSERT INTO funnel_month (basis, area, {keys}, {', '.join(STEPS)}) "
                   f"SELECT '{basis}', {basis}_area, {keys}, {sums} FROM funnel_place GROUP BY {basis}_area, {keys}")
    op.execute(f"INSERT INTO funnel_type_month ({keys}, {', '.join(STEPS)}) "
               f"SELECT {keys}, {sums} FROM funnel_place GROUP BY {keys}")


def downgrade():
    op.drop_table("funnel_type_month")
    op.drop_table("funnel_month")
    op.drop_index("ix_funnel_place_current", table_name="funnel_place")
    op.drop_index("ix_funnel_place_starts", table_name="funnel_place")
    op.drop_table("funnel_place")
