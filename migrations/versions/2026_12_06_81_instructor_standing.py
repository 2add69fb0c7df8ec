"""instructors who stay qualified: the date of each course-type qualification, continuing development
records

Revision ID: 2026_12_06_81
Revises: 2026_12_06_80
Create Date: 2026-12-06 20:12:00

Qualifications recorded before this change have no date (``qualified_on`` is empty): the instructor's
page says "date not recorded" until a coordinator records it.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_81"
down_revision = "2026_12_06_80"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instructor_course_type", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qualified_on", sa.Date(), nullable=True))
    op.create_table(
        "instructor_development",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instructor_id"], ["instructor.id"], ondelete="CASCADE",
                                name=op.f("fk_instructor_development_instructor_id_instructor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instructor_development")),
    )
    op.create_index(op.f("ix_instructor_development_instructor_id"), "instructor_development", ["instructor_id"])


def downgrade():
    op.drop_index(op.f("ix_instructor_development_instructor_id"), table_name="instructor_development")
    op.drop_table("instructor_development")
    with op.batch_alter_table("instructor_course_type", schema=None) as batch_op:
        batch_op.drop_column("qualified_on")
