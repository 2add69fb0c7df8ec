"""credit notes: VAT credit notes for cancelled invoiced orders (invitation expiry needs no column)

Contact invitations expire MHFA_INVITATION_DAYS after their row's created_at, so they need no
column. Cancelling an invoiced or paid order issues a credit note (its own sequential number, the
invoice it refers to, negative amounts) instead of touching the invoice.

Revision ID: 2026_12_01_10
Revises: 2026_12_01_09
Create Date: 2026-12-01 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_01_10"
down_revision = "2026_12_01_09"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credit_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('unit_price_pence', sa.Integer(), nullable=False),
    sa.Column('net_pence', sa.Integer(), nullable=False),
    sa.Column('vat_pence', sa.Integer(), nullable=False),
    sa.Column('vat_rate_bp', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('customer_address', sa.Text(), nullable=False),
    sa.Column('purchase_order_ref', sa.String(length=60), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user_account.id'], name=op.f('fk_credit_note_created_by_user_id_user_account')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_credit_note_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['order_id'], ['employer_order.id'], name=op.f('fk_credit_note_order_id_employer_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_note')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_note_number'))
    )
    with op.batch_alter_table('credit_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_note_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_note_order_id'), ['order_id'], unique=False)


def downgrade():
    with op.batch_alter_table('credit_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_note_order_id'))
        batch_op.drop_index(batch_op.f('ix_credit_note_invoice_id'))
    op.drop_table('credit_note')
