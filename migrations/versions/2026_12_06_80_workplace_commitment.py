"""workplace wellbeing commitment: an organisation's award level, its dates, reference and verification

Revision ID: 2026_12_06_80
Revises: 2026_12_06_75
Create Date: 2026-12-06 20:10:00

The ``employer.wellbeing_commitment_signatory`` flag stays: recording an award at any level sets it.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_80"
down_revision = "2026_12_06_75"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wellbeing_commitment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=60), server_default="", nullable=False),
        sa.Column("verified_by_user_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("listed_publicly", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["employer_id"], ["employer.id"], ondelete="CASCADE",
                                name=op.f("fk_wellbeing_commitment_employer_id_employer")),
        sa.ForeignKeyConstraint(["verified_by_user_id"], ["user_account.id"],
                                name=op.f("fk_wellbeing_commitment_verified_by_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wellbeing_commitment")),
        sa.UniqueConstraint("employer_id", name=op.f("uq_wellbeing_commitment_employer_id")),
    )
    op.create_index(op.f("ix_wellbeing_commitment_expires_on"), "wellbeing_commitment", ["expires_on"])


def downgrade():
    op.drop_index(op.f("ix_wellbeing_commitment_expires_on"), table_name="wellbeing_commitment")
    op.drop_table("wellbeing_commitment")
