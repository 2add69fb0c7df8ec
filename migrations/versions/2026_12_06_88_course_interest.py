"""course interest: "tell me when there's a course" for a course type in a council area (or online)

Revision ID: 2026_12_06_88
Revises: 2026_12_06_87
Create Date: 2026-12-06 20:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_88"
down_revision = "2026_12_06_87"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "course_interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("course_type_id", sa.Integer(), nullable=False),
        sa.Column("council_area_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.Column("notified_course_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["council_area_id"], ["council_area.id"],
                                name=op.f("fk_course_interest_council_area_id_council_area")),
        sa.ForeignKeyConstraint(["course_type_id"], ["course_type.id"],
                                name=op.f("fk_course_interest_course_type_id_course_type")),
        sa.ForeignKeyConstraint(["notified_course_id"], ["course.id"],
                                name=op.f("fk_course_interest_notified_course_id_course")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_course_interest_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_interest")),
    )
    op.create_index("ix_course_interest_person_id", "course_interest", ["person_id"])
    op.create_index("ix_course_interest_waiting", "course_interest",
                    ["course_type_id", "council_area_id", "notified_at"])


def downgrade():
    op.drop_index("ix_course_interest_waiting", table_name="course_interest")
    op.drop_index("ix_course_interest_person_id", table_name="course_interest")
    op.drop_table("course_interest")
