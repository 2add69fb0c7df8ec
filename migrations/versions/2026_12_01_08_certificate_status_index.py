"""certificate status index: a random, unique bit in the revocation status list for each certificate

Revision ID: 2026_12_01_08
Revises: 2026_12_01_07
Create Date: 2026-12-01 16:00:00

Existing certificates get distinct random indexes (drawn below a multiple of 131,072 at least twice their
number, as new certificates are), replacing the sequential id that revealed the order of issue. A credential
downloaded before this migration names the old index: download it again.

On SQLite the constraint is added by copying the table (Alembic's batch mode), with foreign-key checks off
meanwhile, as Alembic advises: with them on, dropping the old copy checks each of its rows against the new
copy's unindexed self-references, and 110,000 certificates took over ten minutes instead of two seconds.
"""
import random
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "2026_12_01_08"
down_revision = "2026_12_01_07"
branch_labels = None
depends_on = None

STATUS_LIST_MIN_BITS = 131_072
CHUNK = 10_000


def _foreign_keys_on(dbapi_connection, connection_record):
    if dbapi_connection is not None:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")


@contextmanager
def _foreign_keys_off_on_sqlite():
    """SQLite: no foreign-key checks while the table is copied, back on when the connection is returned.

    The pragma does nothing inside a transaction: there (a fresh database migrated from the start, after
    other migrations' writes) the table is empty and the copy costs nothing, so the checks stay on.
    """
    connection = op.get_bind()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and not raw.in_transaction:
        raw.execute("PRAGMA foreign_keys=OFF")
        # The migration's writes open a transaction, in which "ON" would do nothing: set it at check-in.
        sa.event.listen(connection.engine.pool, "checkin", _foreign_keys_on, once=True)
    yield


def upgrade():
    with _foreign_keys_off_on_sqlite():
        _upgrade()


def _upgrade():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_index", sa.Integer(), nullable=True))

    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM certificate ORDER BY id"))]
    size = -(-2 * (len(ids) + 1) // STATUS_LIST_MIN_BITS) * STATUS_LIST_MIN_BITS
    indexes = random.SystemRandom().sample(range(size), len(ids))
    update = sa.text("UPDATE certificate SET status_index = :status_index WHERE id = :id")
    pairs = [{"id": i, "status_index": index} for i, index in zip(ids, indexes, strict=True)]
    for start in range(0, len(pairs), CHUNK):
        connection.execute(update, pairs[start:start + CHUNK])

    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.alter_column("status_index", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_certificate_status_index"), ["status_index"])


def downgrade():
    with _foreign_keys_off_on_sqlite(), op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_certificate_status_index"), type_="unique")
        batch_op.drop_column("status_index")
