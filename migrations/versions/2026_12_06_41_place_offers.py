"""place offers: what the contact typed for a place, and the offer state when the address had an account

Revision ID: 2026_12_06_41
Revises: 2026_12_06_40
Create Date: 2026-12-06 11:00:00

A place given to an address that already has an account is an offer its owner accepts or declines
before anything is booked; the employer's pages show the name the contact typed, never the record's.
Existing places keep the name of the person they were given to as the name typed.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_41"
down_revision = "2026_12_06_40"
branch_labels = None
depends_on = None

STATES = ("offered", "accepted", "declined")


def upgrade():
    with op.batch_alter_table("place_voucher", schema=None) as batch_op:
        batch_op.add_column(sa.Column("given_first_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("given_last_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("given_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("offer", sa.Enum(*STATES, name="offerstate", native_enum=False, length=20,
                                                       create_constraint=False), nullable=True))
        batch_op.add_column(sa.Column("offer_answered_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE place_voucher SET given_first_name = (SELECT first_name FROM person WHERE person.id = "
        "place_voucher.assigned_person_id), given_last_name = (SELECT last_name FROM person WHERE person.id = "
        "place_voucher.assigned_person_id), given_email = (SELECT lower(email) FROM person WHERE person.id = "
        "place_voucher.assigned_person_id) WHERE assigned_person_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table("place_voucher", schema=None) as batch_op:
        batch_op.drop_column("offer_answered_at")
        batch_op.drop_column("offer")
        batch_op.drop_column("given_email")
        batch_op.drop_column("given_last_name")
        batch_op.drop_column("given_first_name")
