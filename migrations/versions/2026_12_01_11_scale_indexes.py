"""scale indexes: people matched by lower-cased email; the revoked certificates

Revision ID: 2026_12_01_11
Revises: 2026_12_01_10
Create Date: 2026-12-01 16:00:00

At 500,000 people a staff list of 200 took a minute (each address matched by lower(email) read the
whole person table twice) and the revocation list read every certificate ever issued.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_01_11"
down_revision = "2026_12_01_10"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_person_email_lower", "person", [sa.text("lower(email)")])
    op.create_index("ix_certificate_revoked", "certificate", ["revoked_at"],
                    postgresql_where=sa.text("revoked_at IS NOT NULL"),
                    sqlite_where=sa.text("revoked_at IS NOT NULL"))


def downgrade():
    op.drop_index("ix_certificate_revoked", table_name="certificate")
    op.drop_index("ix_person_email_lower", table_name="person")
