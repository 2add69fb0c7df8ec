"""The models and the migrations describe the same schema, on both backends."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mhfa.db_types import render_item
from mhfa.extensions import db


# SQLite's reflection cannot read an index on an expression; the PostgreSQL half compares that one too.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index ix_person_email_lower")
def test_autogenerate_finds_no_difference_between_models_and_migrations(app_ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_item": render_item}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_reach_a_single_head(app_ctx):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(app_ctx.extensions["migrate"].migrate.get_config())
    assert len(script.get_heads()) == 1
