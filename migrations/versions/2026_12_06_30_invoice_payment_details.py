"""invoice payment details: the bank account and payment terms every invoice prints, in the programme settings

Revision ID: 2026_12_06_30
Revises: 2026_12_06_20
Create Date: 2026-12-06 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_30"
down_revision = "2026_12_06_20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programme_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_account_name", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("bank_sort_code", sa.String(length=8), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("bank_account_number", sa.String(length=8), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("payment_terms_days", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("programme_settings", schema=None) as batch_op:
        batch_op.drop_column("payment_terms_days")
        batch_op.drop_column("bank_account_number")
        batch_op.drop_column("bank_sort_code")
        batch_op.drop_column("bank_account_name")
