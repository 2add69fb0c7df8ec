"""outbox deferred rendering: a message may be written as its kind and payload, rendered when first sent

Revision ID: 2026_12_06_93
Revises: 2026_12_06_88
Create Date: 2026-12-06 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_93"
down_revision = "2026_12_06_88"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.alter_column("raw", existing_type=sa.LargeBinary(), nullable=True)


def downgrade():
    # A message never rendered has no bytes to keep: drop it (it was never sent).
    op.execute("DELETE FROM outbox_message WHERE raw IS NULL")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column("raw", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("payload")
        batch_op.drop_column("kind")
