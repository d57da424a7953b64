"""Transactions: one per request, settled in one place.

How a write reaches the database (every view, service and command follows this):

- **Services** change objects and ``flush()``. They never commit or roll back. A
  service that must undo part of its own work uses ``db.session.begin_nested()``
  (a SAVEPOINT, which nests properly on both databases).
- **Views** never commit or roll back either. ``RosterFlask.dispatch_request``
  runs every view inside the request's transaction: when the view returns, the
  transaction commits once; when anything raises, it rolls back, and the error
  handlers answer (``ServiceError`` -> its status, a conflict -> 409, the
  database away -> 503). A view that catches a ``ServiceError`` and still
  answers normally (a form shown again, a flash and a redirect) calls
  ``discard_changes()`` so nothing of the refused request is kept;
  ``roster.forms.show_service_error`` does that for forms.
- **Races** end in the database (row locks in a fixed order, atomic updates,
  unique constraints). A request that loses a race with a serialization failure,
  a deadlock or a unique-key collision is run again from the start (up to
  ``RETRIES`` times, after a short random pause so the same contenders do not
  meet again in step) in a new transaction, which sees the winner's committed rows;
  if it still fails, the answer is 409 with a sentence, never a 500.
- **CLI commands** commit once at their end; tests' builders commit what they build.

SQLite: Python's sqlite3 driver, left to itself, opens transactions late and lets
a SAVEPOINT's RELEASE commit. ``sqlite_transactions`` applies SQLAlchemy's
documented pysqlite recipe: the driver's own transaction handling is switched off
and SQLAlchemy emits ``BEGIN IMMEDIATE`` itself, so every transaction takes the
write lock when it starts (writers queue one after the other, waiting up to the
busy timeout), savepoints nest, and a rollback leaves nothing. Reads are the exception: a GET
or HEAD request begins a plain (deferred) ``BEGIN``, reads a snapshot and never takes or waits
for the write lock (the walk-in search, the today page and a CSV download no longer queue behind
check-ins, nor they behind it). Should such a request write after all (a claim file made on its
first download, an API token's use recorded once a minute), its first write raises
``NeedsWriteLock`` before reaching the database; the request is then run again from the start
with ``BEGIN IMMEDIATE``, like a request that lost a race, so no write ever runs without the lock. A request still waiting when the busy
timeout runs out answers 503 with Retry-After and says Roster is busy (``is_busy``), never
"database is locked". The journal is in
WAL mode so readers outside a transaction are never blocked.

PostgreSQL: a GET or HEAD request reads without a transaction (``postgresql_readers``): the
connection is in autocommit, so its plain SELECTs cost no BEGIN and no COMMIT (a round trip each).
At READ COMMITTED, PostgreSQL's level, each statement of a transaction sees the data as it stands
when the statement starts, which is what a statement run on its own sees: a page reads the same
rows either way. The first statement that is not a plain read (``plain_read``: a write, a row
lock, ``set_config``, a sequence, an advisory lock, a savepoint, a server-side cursor, anything but
SELECT or a reading WITH) turns the connection back to transactions before it runs: psycopg begins
one with it, the request goes on in it, and it commits (or rolls back) as any request's. Nothing
ran before it but plain reads, which a transaction would have seen alike, so the request is not run
again (a ``SET LOCAL``, or ``set_config(…, true)``, begins the transaction the statements after it
read it in). A view marked ``writes_when_read`` runs in a transaction from the start.
"""

from __future__ import annotations

import random
import re
import select
import time

import psycopg
from flask import Flask, current_app, g, has_request_context, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError

from roster.extensions import db

RETRIES = 5  # attempts of a request that lost a race in the database
RETRY_PAUSE_S = 0.02  # at most this many seconds times the attempt's number before the next attempt
SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL SQLSTATEs worth running the request again for
RETRY_SQLSTATES = {"40001", "40P01", "23505"}  # serialization failure, deadlock, unique violation
CONFLICT_SQLSTATE_CLASSES = ("40", "23")  # a lost race that survives the retries -> 409


def init_engines(app: Flask) -> None:
    """Settle transaction handling of each engine of the app (after ``db.init_app``)."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                sqlite_transactions(engine, app.config.get("SQLITE_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS))
            elif engine.dialect.name == "postgresql":
                event.listen(engine, "checkout", drop_closed_connection)
                postgresql_readers(engine)


def drop_closed_connection(dbapi_connection, connection_record, connection_proxy) -> None:
    """A pooled PostgreSQL connection the server has ended (a restart, a terminated backend) is
    replaced before a request uses it, as ``pool_pre_ping`` would, without its round trip on every
    request: an idle connection has nothing to read unless the server said goodbye (its FATAL
    message, then the end of the stream). SQLAlchemy discards the connection on ``DisconnectionError``
    and checks out a fresh one."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    poll = select.poll()
    poll.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    if poll.poll(0):
        raise DisconnectionError("the server ended the connection")


def postgresql_readers(engine: Engine) -> None:
    """A GET reads without BEGIN and COMMIT (autocommit) until a statement needs a transaction (the module's
    docstring). Pool and driver hooks only: an engine event (begin, commit, a statement's) makes SQLAlchemy
    dispatch events on every connection of every request (~100 Python calls a request)."""
    event.listen(engine, "connect", _reader_cursors)
    event.listen(engine, "checkout", _begin_as_reader)
    event.listen(engine, "do_execute", _prepare_at_once)


# Execution option: psycopg prepares the statement at its first run on a connection (as a rule at its second,
# config.POSTGRESQL_ENGINE_OPTIONS): for a few long ones run once a request on few of a worker's connections
# (the close's), whose planning costs more than running them. Not for statements a rolled-back request runs
# often: psycopg forgets its prepared statements at a ROLLBACK (a round trip to prepare, one to forget).
PREPARE_AT_ONCE = "roster_prepare_at_once"


def _prepare_at_once(cursor, statement, parameters, context) -> bool:
    """The driver's execute for a statement marked ``PREPARE_AT_ONCE`` (a dialect event: False, the driver's own)."""
    if not context.execution_options.get(PREPARE_AT_ONCE):
        return False
    cursor.execute(statement, parameters, prepare=True)
    return True


def _begin_as_reader(dbapi_connection, connection_record, connection_proxy) -> None:
    """Each checkout decides: a GET's connection reads in autocommit; any other use (a write, a command, a test
    outside a request) gets transactions, whatever the connection's last user did."""
    if _reads_only():
        dbapi_connection._roster_reader = True
        if not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True  # idle: psycopg only notes it
    elif getattr(dbapi_connection, "_roster_reader", False):
        _transactions_again(dbapi_connection)


def _transactions_again(dbapi_connection) -> None:
    """From the next statement on, a transaction (psycopg sends BEGIN with it)."""
    dbapi_connection._roster_reader = False
    if dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


def _reader_cursors(dbapi_connection, connection_record) -> None:
    dbapi_connection._roster_reader = False
    dbapi_connection.cursor_factory = ReaderCursor
    dbapi_connection.server_cursor_factory = ReaderServerCursor


class ReaderCursor(psycopg.Cursor):
    """psycopg's cursor, which on a reader's connection begins a transaction before a statement that is not a
    plain read (``plain_read``) or that runs many times."""

    def execute(self, query, params=None, **kwargs):
        if self._conn._roster_reader and not plain_read(query):
            _transactions_again(self._conn)
        return super().execute(query, params, **kwargs)

    def executemany(self, query, params_seq, **kwargs):
        if self._conn._roster_reader:
            _transactions_again(self._conn)
        return super().executemany(query, params_seq, **kwargs)


class ReaderServerCursor(psycopg.ServerCursor):
    """A server-side cursor (``yield_per``) lives in a transaction: a reader's connection begins one first."""

    def execute(self, query, params=None, **kwargs):
        if self._conn._roster_reader:
            _transactions_again(self._conn)
        return super().execute(query, params, **kwargs)


_NOT_PLAIN = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|SHARE|INTO)\b"  # writes, row locks (FOR UPDATE/SHARE), SELECT INTO
    r"|\b(set_config|nextval|setval|pg_advisory\w*|pg_try_advisory\w*|txid_current\w*|pg_current_xact_id\w*"
    r"|pg_notify|lo_\w+)\s*\(",
    re.IGNORECASE)
_READ_HEAD = re.compile(r"[\s(]*(SELECT|WITH)\b", re.IGNORECASE)
_PLAIN_READS: dict[str, bool] = {}  # by statement text: a request's statements are the same few strings


def plain_read(statement: str) -> bool:
    """A SELECT (or a WITH of SELECTs) that writes nothing, locks no row and sets nothing: PostgreSQL runs it
    alike in a transaction or on its own. When in doubt, not (it then runs in a transaction, as before)."""
    known = _PLAIN_READS.get(statement)
    if known is None:
        known = bool(_READ_HEAD.match(statement)) and not _NOT_PLAIN.search(statement)
        if len(_PLAIN_READS) >= 4096:
            _PLAIN_READS.clear()
        _PLAIN_READS[statement] = known
    return known


def sqlite_transactions(engine: Engine, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """SQLAlchemy's pysqlite recipe: the driver stops managing transactions; we emit BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # no BEGIN from the driver, no implicit COMMIT
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        if _reads_only():
            conn.exec_driver_sql("BEGIN")
            conn.info[READER] = True
        else:
            conn.info.pop(READER, None)  # the info outlives a checkout: never let a writer inherit it
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def on_end(conn):
        conn.info.pop(READER, None)

    @event.listens_for(engine, "before_cursor_execute")
    def before_write(conn, cursor, statement, parameters, context, executemany):
        if conn.info.get(READER) and not statement.lstrip()[:9].upper().startswith(READ_STATEMENTS):
            raise NeedsWriteLock(statement)


READER = "roster_reader"  # on a connection's info while its transaction began without the write lock
READ_STATEMENTS = ("SELECT", "WITH", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class NeedsWriteLock(Exception):
    """A request that began reading without SQLite's write lock is about to write: run it again with it."""


def writes_when_read(view):
    """Mark a GET view that writes (a file made and kept on its first download): on SQLite its
    request takes the write lock from the start instead of being run again."""
    view._roster_writes_when_read = True
    return view


def _reads_only() -> bool:
    if not has_request_context() or request.method not in SAFE_METHODS or g.get("_roster_writes"):
        return False
    return not getattr(current_app.view_functions.get(request.endpoint), "_roster_writes_when_read", False)


def _again_with_write_lock() -> None:
    _rollback_quietly()
    g._roster_writes = True


def discard_changes() -> None:
    """The request was refused: roll back now, and commit nothing when the view returns."""
    g._roster_discard = True
    db.session.rollback()


def sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def lost_race(exc: BaseException) -> bool:
    """A serialization failure, a deadlock or a unique-key collision: worth a new attempt."""
    if isinstance(exc, IntegrityError) and sqlstate(exc) is None:
        return "UNIQUE" in str(getattr(exc, "orig", exc))  # SQLite names no SQLSTATE
    return sqlstate(exc) in RETRY_SQLSTATES


def is_conflict(exc: BaseException) -> bool:
    """An error of the database that means 'someone else changed this at the same moment'."""
    if isinstance(exc, IntegrityError):
        return True
    state = sqlstate(exc) or ""
    return isinstance(exc, DBAPIError) and state.startswith(CONFLICT_SQLSTATE_CLASSES)


def is_busy(exc: BaseException) -> bool:
    """SQLite: the write lock was still held by another request when the busy timeout ran out."""
    return isinstance(exc, OperationalError) and "database is locked" in str(getattr(exc, "orig", exc))


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection itself is gone; the pool replaces it
        db.session.close()


class RosterFlask(Flask):
    """Flask with the request transaction around every view (see the module's docstring)."""

    def preprocess_request(self):
        try:
            return super().preprocess_request()
        except NeedsWriteLock:  # a before_request hook of a GET writes (SQLite): again, with the lock
            _again_with_write_lock()
            return super().preprocess_request()

    def dispatch_request(self):
        attempt = 0
        while attempt < RETRIES:
            attempt += 1
            flashes = list(session.get("_flashes", [])) if "_flashes" in session else None
            g._roster_discard = False
            try:
                rv = super().dispatch_request()
                if g._roster_discard:
                    db.session.rollback()
                else:
                    db.session.commit()
                return rv
            except NeedsWriteLock:
                if g.get("_roster_writes"):
                    raise  # pragma: no cover - a write-locked transaction never raises it
                _again_with_write_lock()
                _forget_attempt(flashes)
                attempt -= 1  # not a lost race: this attempt does not count
                continue
            except Exception as exc:
                _rollback_quietly()
                if attempt < RETRIES and isinstance(exc, DBAPIError) and lost_race(exc):
                    _forget_attempt(flashes)
                    # a deadlock's two sides retried at once can meet again: a random pause sets them apart
                    time.sleep(random.uniform(0, RETRY_PAUSE_S * attempt))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover


def _forget_attempt(flashes: list | None) -> None:
    """Undo what a failed attempt left outside the database before the request runs again."""
    if flashes is None:
        session.pop("_flashes", None)
    else:
        session["_flashes"] = flashes
    for upload in request.files.values():
        upload.stream.seek(0)
