"""The models and the migrations describe the same schema, on both backends."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mhfa.db_types import render_item
from mhfa.extensions import db


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
