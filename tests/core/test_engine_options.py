"""The engine's options for PostgreSQL (roster/config.py, POSTGRESQL_ENGINE_OPTIONS); SQLite keeps SQLAlchemy's."""

from __future__ import annotations

import socket
import threading
import time

import pytest
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


def test_a_postgresql_connection_attempt_gives_up_after_its_timeout_instead_of_waiting_for_tcp_retries():
    """A database host that answers nothing kept gunicorn's master (its warm-up connects before any worker starts)
    waiting ~2 minutes for the kernel's retries. Here a listener that never accepts plays that host: the TCP
    handshake completes, then nothing answers. With the engine's options the attempt ends, as an OperationalError
    (the app's 503), after `connect_timeout` seconds; that option is the one psycopg honours (shortened here)."""
    from roster.config import POSTGRESQL_CONNECT_TIMEOUT, engine_options

    assert 2 <= POSTGRESQL_CONNECT_TIMEOUT <= 15
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"postgresql+psycopg://roster@127.0.0.1:{silent.getsockname()[1]}/roster"
    options = engine_options(url, {})
    assert options["connect_args"]["connect_timeout"] == POSTGRESQL_CONNECT_TIMEOUT
    options["connect_args"] = options["connect_args"] | {"connect_timeout": 2}
    engine = sa.create_engine(url, **options)
    outcome: dict = {}

    def attempt():
        started = time.monotonic()
        try:
            engine.connect().close()
        except sa.exc.OperationalError as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=attempt, daemon=True)
    try:
        thread.start()
        thread.join(20)
        assert not thread.is_alive(), "the connection attempt still waits after 20 s"
    finally:
        engine.dispose()
        silent.close()
    assert "error" in outcome
    assert 1.5 <= outcome["seconds"] < 10, outcome
    with pytest.raises(KeyError):  # SQLite gets none of it
        engine_options("sqlite://", {})["connect_args"]
