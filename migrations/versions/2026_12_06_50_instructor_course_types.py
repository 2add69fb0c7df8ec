"""instructor licences by course type: the course types each instructor's licence covers

Revision ID: 2026_12_06_50
Revises: 2026_12_06_30
Create Date: 2026-12-06 17:10:00

MHFA England licenses an instructor for each course (Adult, Youth, ...) apart. Instructors recorded
before this change had one licence for everything, so each is given every course type there is; a
coordinator narrows it on the instructor's page.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_50"
down_revision = "2026_12_06_30"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "instructor_course_type",
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("course_type_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["course_type_id"], ["course_type.id"],
                                name=op.f("fk_instructor_course_type_course_type_id_course_type")),
        sa.ForeignKeyConstraint(["instructor_id"], ["instructor.id"], ondelete="CASCADE",
                                name=op.f("fk_instructor_course_type_instructor_id_instructor")),
        sa.PrimaryKeyConstraint("instructor_id", "course_type_id", name=op.f("pk_instructor_course_type")),
    )
    op.execute(
        "INSERT INTO instructor_course_type (instructor_id, course_type_id) "
        "SELECT instructor.id, course_type.id FROM instructor CROSS JOIN course_type"
    )


def downgrade():
    op.drop_table("instructor_course_type")
