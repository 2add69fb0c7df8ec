"""funding streams: a stream on courses and orders, recorded delivery costs, kept spend, equality populations

Revision ID: 2026_12_01_09
Revises: 2026_12_01_08
Create Date: 2026-12-01 16:00:00

Existing rows get the default streams (employer-paid for closed courses and for every order,
publicly funded otherwise), and the kept figures gain each reached person's funding stream and the
spend by stream, computed here by the rules in ``mhfa/reach/keeping.py`` (``flask --app wsgi mhfa
rebuild-reach --check`` confirms them).
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_01_09"
down_revision = "2026_12_01_08"
branch_labels = None
depends_on = None

STREAMS = ("employer_paid", "public", "other")


def upgrade():
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("funding_stream", sa.Enum(*STREAMS, name="fundingstream", native_enum=False,
                                                                length=20, create_constraint=False),
                                      server_default="public", nullable=False))
        batch_op.add_column(sa.Column("delivery_cost_pence", sa.Integer(), nullable=True))
    op.execute("UPDATE course SET funding_stream = 'employer_paid' WHERE employer_id IS NOT NULL")
    with op.batch_alter_table("employer_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("funding_stream", sa.Enum(*STREAMS, name="fundingstream", native_enum=False,
                                                                length=20, create_constraint=False),
                                      server_default="employer_paid", nullable=False))
    with op.batch_alter_table("reach_first", schema=None) as batch_op:
        batch_op.add_column(sa.Column("funding_stream", sa.String(length=30), server_default="", nullable=False))
    op.create_table(
        "reach_spend_month",
        sa.Column("funding_stream", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_type_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("spend_pence", sa.BigInteger(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("uncosted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("funding_stream", "month", "course_type_id", "source",
                                name=op.f("pk_reach_spend_month")),
    )
    op.create_table(
        "equality_population",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_area_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=30), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["council_area_id"], ["council_area.id"],
                                name=op.f("fk_equality_population_council_area_id_council_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equality_population")),
        sa.UniqueConstraint("council_area_id", "dimension", "value", "year",
                            name=op.f("uq_equality_population_council_area_id")),
    )
    _fill_kept_figures()


def _month(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(to_char({column}, 'YYYYMM') AS INTEGER)"
    return f"CAST(strftime('%Y%m', {column}) AS INTEGER)"


def _fill_kept_figures():
    op.execute(
        "UPDATE reach_first SET funding_stream = COALESCE("
        "(SELECT o.funding_stream FROM completion c JOIN booking b ON b.id = c.booking_id "
        "JOIN place_voucher v ON v.id = b.voucher_id JOIN employer_order o ON o.id = v.order_id "
        "WHERE c.id = reach_first.completion_id), "
        "(SELECT co.funding_stream FROM completion c JOIN course co ON co.id = c.course_id "
        "WHERE c.id = reach_first.completion_id), '')")
    op.execute(
        "INSERT INTO reach_group_month (include_awareness, dimension, value, month, course_type_id, people) "
        "SELECT include_awareness, 'funding_stream', funding_stream, month, course_type_id, COUNT(*) "
        "FROM reach_first GROUP BY include_awareness, funding_stream, month, course_type_id")
    course_month, order_month = _month("starts_at"), _month("ordered_at")
    op.execute(
        "INSERT INTO reach_spend_month (funding_stream, month, course_type_id, source, spend_pence, items, uncosted) "
        f"SELECT funding_stream, {course_month}, course_type_id, 'course', COALESCE(SUM(delivery_cost_pence), 0), "
        "COUNT(delivery_cost_pence), SUM(CASE WHEN delivery_cost_pence IS NULL THEN 1 ELSE 0 END) FROM course "
        "WHERE status = 'completed' AND funding_stream IN ('public', 'other') AND starts_at IS NOT NULL "
        f"GROUP BY funding_stream, {course_month}, course_type_id")
    op.execute(
        "INSERT INTO reach_spend_month (funding_stream, month, course_type_id, source, spend_pence, items, uncosted) "
        f"SELECT funding_stream, {order_month}, course_type_id, 'order', SUM(CAST(places AS BIGINT) * "
        "price_per_place_pence), COUNT(*), 0 FROM employer_order WHERE status IN ('invoiced', 'paid') "
        f"GROUP BY funding_stream, {order_month}, course_type_id")


def downgrade():
    op.drop_table("equality_population")
    op.drop_table("reach_spend_month")
    with op.batch_alter_table("reach_first", schema=None) as batch_op:
        batch_op.drop_column("funding_stream")
    with op.batch_alter_table("employer_order", schema=None) as batch_op:
        batch_op.drop_column("funding_stream")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("delivery_cost_pence")
        batch_op.drop_column("funding_stream")
