"""kept outcome figures: evaluations and follow-ups per month, area and course type; current first aiders
per area and expiry month

Revision ID: 2026_12_06_75
Revises: 2026_12_06_31
Create Date: 2026-12-06 20:20:00

The dashboard's and the public page's outcome figures are sums of a few kept rows, kept in the same
transaction as every change that moves them (``mhfa/outcomes/keeping.py``). The tables are created and
filled here by the same rules (``outcome_type_month``: the same sums for all areas together); ``flask --app wsgi mhfa rebuild-reach --check`` confirms them.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_75"
down_revision = "2026_12_06_31"
branch_labels = None
depends_on = None

SCORES = ("confidence_before", "confidence_now", "signposting_before", "signposting_now")
ANSWER_KEYS = (*SCORES, "rating", "used_skills")
GOOD_OR_BETTER = 4


def _month(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST(EXTRACT(year FROM {column}) * 100 + EXTRACT(month FROM {column}) AS INTEGER)"
    return f"(CAST(strftime('%Y', {column}) AS INTEGER) * 100 + CAST(strftime('%m', {column}) AS INTEGER))"


def upgrade():
    op.create_table(
        "outcome_kept",
        sa.Column("invite_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("area", sa.Integer(), nullable=False),
        sa.Column("course_type_id", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        *(sa.Column(key, sa.Integer(), nullable=True) for key in ANSWER_KEYS),
        sa.PrimaryKeyConstraint("invite_id", name=op.f("pk_outcome_kept")),
    )
    values = [sa.Column("invited", sa.Integer(), nullable=False), sa.Column("answered", sa.Integer(), nullable=False)]
    for q in SCORES:
        values += [sa.Column(f"{q}_{part}", sa.Integer(), nullable=False) for part in ("n", "sum", "sq")]
    values += [sa.Column(name, sa.Integer(), nullable=False) for name in ("rated", "good", "use_answered", "used")]
    op.create_table(
        "outcome_month",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("area", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        *values,
        sa.PrimaryKeyConstraint("kind", "month", "area", "course_type_id", name=op.f("pk_outcome_month")),
    )
    op.create_index("ix_outcome_month_area", "outcome_month", ["area"], unique=False)
    op.create_table(
        "outcome_type_month",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(c.name, c.type, nullable=False) for c in values),
        sa.PrimaryKeyConstraint("kind", "month", "course_type_id", name=op.f("pk_outcome_type_month")),
    )
    op.create_table(
        "first_aider_kept",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("home_area", sa.Integer(), nullable=False),
        sa.Column("work_area", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("expiry_month", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_first_aider_kept")),
    )
    op.create_index("ix_first_aider_kept_expires", "first_aider_kept", ["expires_on"], unique=False)
    op.create_table(
        "first_aider_month",
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("area", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("expiry_month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("basis", "area", "expiry_month", name=op.f("pk_first_aider_month")),
    )
    _fill(op.get_bind().dialect.name)


def _fill(dialect: str) -> None:
    numbers = ", ".join(f"(SELECT a.number FROM outcome_answer a WHERE a.invite_id = i.id AND a.key = '{key}')"
                        for key in ANSWER_KEYS)
    op.execute(
        f"INSERT INTO outcome_kept (invite_id, kind, month, area, course_type_id, answered, {', '.join(ANSWER_KEYS)}) "
        f"SELECT i.id, i.kind, {_month('c.completed_on', dialect)}, COALESCE(p.home_council_area_id, 0), "
        f"i.course_type_id, CASE WHEN i.answered_at IS NOT NULL THEN 1 ELSE 0 END, {numbers} "
        "FROM outcome_invite i JOIN completion c ON c.id = i.completion_id LEFT JOIN person p ON p.id = i.person_id")
    sums = ", ".join(f"COUNT({q}), COALESCE(SUM(CAST({q} AS BIGINT)), 0), COALESCE(SUM(CAST({q} * {q} AS BIGINT)), 0)"
                     for q in SCORES)
    columns = ", ".join(f"{q}_n, {q}_sum, {q}_sq" for q in SCORES)
    for table, keys in (("outcome_month", "kind, month, area, course_type_id"),
                        ("outcome_type_month", "kind, month, course_type_id")):
        op.execute(
            f"INSERT INTO {table} ({keys}, invited, answered, {columns}, rated, good, use_answered, used) "
            f"SELECT {keys}, COUNT(*), SUM(answered), {sums}, COUNT(rating), "
            f"SUM(CASE WHEN rating >= {GOOD_OR_BETTER} THEN 1 ELSE 0 END), COUNT(used_skills), "
            f"COALESCE(SUM(used_skills), 0) FROM outcome_kept GROUP BY {keys}")
    latest = ("SELECT person_id, MAX(COALESCE(expires_on, DATE '9999-12-31')) AS expires_on FROM certificate "
              "WHERE revoked_at IS NULL GROUP BY person_id") if dialect == "postgresql" else (
        "SELECT person_id, MAX(COALESCE(expires_on, '9999-12-31')) AS expires_on FROM certificate "
        "WHERE revoked_at IS NULL GROUP BY person_id")
    op.execute(
        "INSERT INTO first_aider_kept (person_id, home_area, work_area, expires_on, expiry_month) "
        "SELECT l.person_id, COALESCE(p.home_council_area_id, 0), COALESCE(p.work_council_area_id, 0), l.expires_on, "
        f"{_month('l.expires_on', dialect)} FROM ({latest}) l JOIN person p ON p.id = l.person_id")
    for basis in ("home", "work"):
        op.execute(
            f"INSERT INTO first_aider_month (basis, area, expiry_month, people) SELECT '{basis}', {basis}_area, "
            f"expiry_month, COUNT(*) FROM first_aider_kept GROUP BY {basis}_area, expiry_month")


def downgrade():
    op.drop_table("first_aider_month")
    op.drop_index("ix_first_aider_kept_expires", table_name="first_aider_kept")
    op.drop_table("first_aider_kept")
    op.drop_table("outcome_type_month")
    op.drop_index("ix_outcome_month_area", table_name="outcome_month")
    op.drop_table("outcome_month")
    op.drop_table("outcome_kept")
