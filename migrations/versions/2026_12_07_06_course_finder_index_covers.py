"""the finder's course index holds what its filters read, in the order its pages are listed

Revision ID: 2026_12_07_06
Revises: 2026_12_07_05
Create Date: 2026-12-07 19:40:00

``ix_course_finder`` was (status, starts_at): a finder page read every upcoming published course's row
from the table to test its filters (12,465 rows, one page each, at 5,000,000 people: 10-13 ms for the
page's count and again for its rows), then sorted them by start and id before the page's limit. It is
now (status, starts_at, id), the finder's order, holding on PostgreSQL every column its filters test
(deadline, employer, area, mode, course type, capacity and seats taken), so the count reads the index
alone and a page stops at its twentieth course. SQLite has no included columns: the key only there.
"""
from alembic import op


revision = "2026_12_07_06"
down_revision = "2026_12_07_05"
branch_labels = None
depends_on = None

#: What the finder's filters test besides status and start (``mhfa.courses.listings.find_courses``).
FILTERED = ["booking_deadline", "employer_id", "council_area_id", "delivery_mode", "course_type_id", "capacity",
            "seats_taken"]


def upgrade():
    op.drop_index("ix_course_finder", table_name="course")
    op.create_index("ix_course_finder", "course", ["status", "starts_at", "id"], postgresql_include=FILTERED)


def downgrade():
    op.drop_index("ix_course_finder", table_name="course")
    op.create_index("ix_course_finder", "course", ["status", "starts_at"])
