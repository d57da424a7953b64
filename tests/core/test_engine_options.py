"""The engine's options for PostgreSQL (roster/config.py, POSTGRESQL_ENGINE_OPTIONS); SQLite keeps SQLAlchemy's."""

from __future__ import annotations

import sqlalchemy as sa

from roster.extensions import db


def test_on_postgresql_a_statement_is_prepared_at_its_second_run_and_the_pool_hands_out_the_last_connection_returned(app):
    """A worker's connections each see few closes: psycopg's default (prepare at the fifth run) left the close's
    statements planned again at every close (issue 12, make load). On SQLite nothing changes."""
    with app.app_context():
        engine = db.engine
        pg = engine.dialect.name == "postgresql"
        first, second = engine.raw_connection(), engine.raw_connection()
        last = second.dbapi_connection
        first.close()
        second.close()  # returned last
        again = engine.raw_connection()
        assert (again.dbapi_connection is last) == pg  # LIFO on PostgreSQL; SQLite's pool stays FIFO
        again.close()
        if not pg:
            return
        counted, listed = sa.text("SELECT count(*) FROM class_session WHERE id = :id"), sa.text(
            "SELECT statement FROM pg_prepared_statements")
        with engine.connect() as connection:
            prepared = []
            for run in (1, 2):
                connection.execute(counted, {"id": run}).all()
                prepared.append(any("FROM class_session WHERE id = $1" in s for s in connection.execute(listed).scalars()))
        assert prepared == [False, True]  # psycopg's default: at the fifth run
