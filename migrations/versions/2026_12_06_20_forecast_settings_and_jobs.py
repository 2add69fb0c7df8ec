"""forecast settings and jobs: the settings a stored forecast used, and runs started from the forecast page

Revision ID: 2026_12_06_20
Revises: 2026_12_06_11
Create Date: 2026-12-06 17:00:00

A stored forecast records the programme settings it used (the start date beside the target and the
deadline it already had, and the region and counting course types), so the page can say when the
settings have changed since. ``forecast_job`` records each run started from the page: its state and
progress, which the page reads while the run goes on in the background.
"""
from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_20"
down_revision = "2026_12_06_11"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("forecast_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("settings", sa.JSON(), nullable=True))
    op.execute("UPDATE forecast_run SET settings = '{}'")
    with op.batch_alter_table("forecast_run", schema=None) as batch_op:
        batch_op.alter_column("settings", existing_type=sa.JSON(), nullable=False)
    op.create_table(
        "forecast_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.Enum("queued", "running", "done", "failed", name="jobstate", native_enum=False,
                                   length=20, create_constraint=False), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user_account.id"],
                                name=op.f("fk_forecast_job_requested_by_id_user_account"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["run_id"], ["forecast_run.id"], name=op.f("fk_forecast_job_run_id_forecast_run"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_job")),
    )
    op.create_index(op.f("ix_forecast_job_created_at"), "forecast_job", ["created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_forecast_job_created_at"), table_name="forecast_job")
    op.drop_table("forecast_job")
    with op.batch_alter_table("forecast_run", schema=None) as batch_op:
        batch_op.drop_column("settings")
        batch_op.drop_column("target_start")
