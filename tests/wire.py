"""What a request sends to the database, in order, round trip by round trip."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from roster.extensions import db


@contextmanager
def on_the_wire(app):
    """What requests send, in order: ("SQL", statement) and, on PostgreSQL, ("CMD", BEGIN/COMMIT/ROLLBACK) that
    psycopg sends on its own: each a round trip. (SQLite's BEGIN is a statement SQLAlchemy sends: left out.)"""
    import psycopg

    sent: list[tuple[str, str]] = []
    with app.app_context():
        engine = db.engine
    command = psycopg.Connection._exec_command

    def exec_command(self, cmd, *args, **kwargs):
        sent.append(("CMD", bytes(cmd).decode().split()[0]))
        return command(self, cmd, *args, **kwargs)

    def statement(conn, cursor, text, parameters, context, executemany):
        if not text.lstrip().upper().startswith("BEGIN"):
            sent.append(("SQL", text))

    psycopg.Connection._exec_command = exec_command
    sa.event.listen(engine, "before_cursor_execute", statement)
    try:
        yield sent
    finally:
        psycopg.Connection._exec_command = command
        sa.event.remove(engine, "before_cursor_execute", statement)
