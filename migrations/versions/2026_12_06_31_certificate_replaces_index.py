"""certificate replaces index: the self-reference every deleted certificate is checked against

Revision ID: 2026_12_06_31
Revises: 2026_12_06_60
Create Date: 2026-12-06 17:40:00

Deleting certificates (erasure, the test suite's clean-up) checks each deleted row's id against
``replaces_id``; without an index that is a scan of the table per row.
"""
from alembic import op


revision = "2026_12_06_31"
down_revision = "2026_12_06_60"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_certificate_replaces_id", "certificate", ["replaces_id"])


def downgrade():
    op.drop_index("ix_certificate_replaces_id", table_name="certificate")
