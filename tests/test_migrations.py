"""The models and the migrations describe the same schema, on both backends."""
import re
from pathlib import Path

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


def test_every_revision_is_named_by_its_date_and_number_and_its_file_after_it(app_ctx):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(app_ctx.extensions["migrate"].migrate.get_config())
    for revision in script.walk_revisions():
        assert re.fullmatch(r"\d{4}_\d\d_\d\d_\d\d", revision.revision), revision.revision
        assert Path(revision.path).name.startswith(f"{revision.revision}_"), revision.path



def test_indexes_holding_included_columns_hold_them_after_the_migrations(app_ctx):
    """Autogenerate does not compare an index's included columns (PostgreSQL): read them from the catalogue."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("included columns are PostgreSQL's")
    indexes = [index for table in db.metadata.tables.values() for index in table.indexes]
    declared = {index.name: list(index.dialect_options["postgresql"]["include"]) for index in indexes
                if index.dialect_options["postgresql"]["include"]}
    assert declared, "no model declares an index with included columns"
    with db.engine.connect() as connection:
        found = dict(connection.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes").all())
    for name, columns in declared.items():
        assert found.get(name, "").endswith(f" INCLUDE ({', '.join(columns)})"), (name, found.get(name))
