"""kept outcome groups: each kept invitation's funding stream and equality answers, and the outcome sums per
group, month, area and course type

Revision ID: 2026_12_06_95
Revises: 2026_12_06_94
Create Date: 2026-12-06 23:50:00

The outcomes page's tables by funding stream, sex, age band, ethnic group and disability are sums of kept
rows (``mhfa/outcomes/keeping.py``), kept in the same transaction as every change that moves them. The
columns and the table are filled here by the same rules; ``flask --app wsgi mhfa rebuild-reach --check``
confirms them.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_95"
down_revision = "2026_12_06_94"
branch_labels = None
depends_on = None

SCORES = ("confidence_before", "confidence_now", "signposting_before", "signposting_now")
GROUPS = ("funding_stream", "sex", "age_band", "ethnic_group", "disability")
GOOD_OR_BETTER = 4


def upgrade():
    with op.batch_alter_table("outcome_kept", schema=None) as batch_op:
        for name in GROUPS:
            batch_op.add_column(sa.Column(name, sa.String(length=40), nullable=True))
    values = [sa.Column("invited", sa.Integer(), nullable=False), sa.Column("answered", sa.Integer(), nullable=False)]
    for q in SCORES:
        values += [sa.Column(f"{q}_{part}", sa.Integer(), nullable=False) for part in ("n", "sum", "sq")]
    values += [sa.Column(name, sa.Integer(), nullable=False) for name in ("rated", "good", "use_answered", "used")]
    op.create_table(
        "outcome_group_month",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("area", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        *values,
        sa.PrimaryKeyConstraint("kind", "dimension", "value", "month", "area", "course_type_id",
                                name=op.f("pk_outcome_group_month")),
    )
    op.execute("UPDATE outcome_kept SET funding_stream = (SELECT c.funding_stream FROM outcome_invite i "
               "JOIN course c ON c.id = i.course_id WHERE i.id = outcome_kept.invite_id)")
    for name in GROUPS[1:]:
        op.execute(f"UPDATE outcome_kept SET {name} = (SELECT p.{name} FROM outcome_invite i "  # noqa: S608
                   "JOIN person p ON p.id = i.person_id WHERE i.id = outcome_kept.invite_id)")
    sums = ", ".join(f"COUNT({q}), COALESCE(SUM(CAST({q} AS BIGINT)), 0), COALESCE(SUM(CAST({q} * {q} AS BIGINT)), 0)"
                     for q in SCORES)
    columns = ", ".join(f"{q}_n, {q}_sum, {q}_sq" for q in SCORES)
    for name in GROUPS:
        op.execute(
            f"INSERT INTO outcome_group_month (kind, dimension, value, month, area, course_type_id, invited, answered, "
            f"{columns}, rated, good, use_answered, used) "
            f"SELECT kind, '{name}', COALESCE({name}, ''), month, area, course_type_id, COUNT(*), SUM(answered), {sums}, "
            f"COUNT(rating), SUM(CASE WHEN rating >= {GOOD_OR_BETTER} THEN 1 ELSE 0 END), COUNT(used_skills), "
            f"COALESCE(SUM(used_skills), 0) FROM outcome_kept "
            f"GROUP BY kind, COALESCE({name}, ''), month, area, course_type_id")


def downgrade():
    op.drop_table("outcome_group_month")
    with op.batch_alter_table("outcome_kept", schema=None) as batch_op:
        for name in reversed(GROUPS):
            batch_op.drop_column(name)
