"""Migrations are the only way a schema is made, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from roster.extensions import db


def _script(app) -> ScriptDirectory:
    with app.app_context():
        ext = app.extensions["migrate"]
        return ScriptDirectory.from_config(ext.migrate.get_config(ext.directory))


def test_single_head(app):
    heads = _script(app).get_heads()
    assert len(heads) == 1, heads


def test_models_and_migrations_agree(app):
    """The suite's database was built by `upgrade()` alone; autogenerate must find nothing to add."""
    with app.app_context():
        args = app.extensions["migrate"].configure_args
        opts = {"compare_type": args["compare_type"], "render_item": args["render_item"],
                "include_object": args["include_object"]}
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts=opts)
            diff = compare_metadata(context, db.metadata)
    assert diff == [], diff


def test_database_is_at_head(app):
    head = _script(app).get_current_head()
    with app.app_context():
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head


def test_constraints_live_in_the_database(app):
    """A duplicate check-in is refused by the database itself, not only by Python."""
    import pytest
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError

    with app.app_context(), db.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            with conn.begin():
                conn.execute(sa.text(
                    "INSERT INTO facilitator (name, discipline, npi, active, created_at) "
                    "VALUES ('X', 'XX', '1234567893', true, CURRENT_TIMESTAMP)"))


def test_the_comparison_would_notice_a_missing_column(app):
    """Guard against a comparison that cannot fail: a model column the migrations lack is found."""
    import sqlalchemy as sa

    with app.app_context():
        extra = sa.MetaData()
        for table in db.metadata.sorted_tables:
            table.to_metadata(extra)
        extra.tables["patient"].append_column(sa.Column("shoe_size", sa.Integer))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), extra)
    assert any(d[0] == "add_column" and d[3].name == "shoe_size" for d in diff)
