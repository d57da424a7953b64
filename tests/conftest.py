"""Fixtures shared by the whole suite.

The database comes from ``TEST_DATABASE_URL`` (``make test`` sets it to the
throwaway PostgreSQL cluster on the second pass); unset, a SQLite file in a
temporary folder. The schema is built by the migrations, once per run; each
test starts from empty tables.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from roster import create_app
from roster.extensions import db as _db

from tests.builders import Builders

DEMO_PASSWORD = "correct-horse-battery"


def _on_postgresql() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """`postgres_only` tests need PostgreSQL itself (its pg_trgm indexes, stopping its cluster, the
    schemathesis pass); they run on the PG pass. Race tests are not among them: they run on both."""
    if _on_postgresql():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL itself (pg_trgm, its cluster, the schemathesis pass); make test runs the PG pass")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "roster-test.sqlite3")


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    os.environ.pop("DATABASE_URL", None)
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # scrypt's cost on every test user is minutes a run
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "SERVER_NAME": None,
        }
    )
    application.instance_path = str(tmp_path_factory.mktemp("instance"))
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield application
    with application.app_context():
        _db.engine.dispose()


def _empty_all_tables() -> None:
    engine = _db.engine
    tables = [t.name for t in _db.metadata.sorted_tables if t.name != "alembic_version"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # TRUNCATE, not DELETE: it also resets the planner's idea of each table's size, which the
            # EXPLAIN tests rely on, and leaves no free space for rows to come back out of order
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(sa.text(f'DELETE FROM "{table}"'))


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test that uses the app starts from empty tables and a fresh session."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        _empty_all_tables()
    yield
    with app.app_context():
        _db.session.remove()


class Clock:
    """The app's clock (``CLOCK``, read by roster.services.clock). By default late this evening in
    the clinic's zone, so every session of today has ended and tomorrow's have not begun."""

    def __init__(self, app):
        self.app = app
        tz = ZoneInfo(app.config["CLINIC_TIMEZONE"])
        today = datetime.now(timezone.utc).astimezone(tz).date()
        self.moment = datetime.combine(today, time(23, 30), tzinfo=tz).astimezone(timezone.utc)

    def set(self, moment: datetime) -> None:
        self.moment = moment.astimezone(timezone.utc)

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture(autouse=True)
def clock(request):
    if "app" not in request.fixturenames:
        yield None
        return
    app = request.getfixturevalue("app")
    fixed = Clock(app)
    app.config["CLOCK"] = fixed
    yield fixed
    app.config.pop("CLOCK", None)


@pytest.fixture
def ctx(app):
    """An application context for service-level tests."""
    with app.app_context():
        yield
        _db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def build(app) -> Builders:
    """Builders that return callables creating committed records (see tests/builders.py)."""
    return Builders(app)


@pytest.fixture
def login(client, build):
    """login(role) signs the test client in as a new user of that role and returns the user."""

    def _login(role: str, **kw):
        user = build.user(role=role, **kw)
        response = client.post("/login", data={"email": user.email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return _login


@pytest.fixture
def api(app, build):
    """api(role) returns a client-like object that sends a Bearer token of a user with that role."""

    def _api(role: str = "admin"):
        return build.api_client(role)

    return _api


@pytest.fixture
def count_queries(app):
    """with count_queries() as counter: ... ; counter.count is the number of SQL statements."""

    @contextmanager
    def _count():
        class Counter:
            count = 0
            statements: list[str] = []

        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO", "BEGIN")):
                return
            counter.count += 1
            counter.statements.append(statement)

        with app.app_context():
            engine = _db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return _count


@pytest.fixture
def database_errors(app) -> list[str]:
    """The SQLSTATE (or message) of every error the database answers during the test, retried ones
    included: a deadlock that was run again still shows here."""
    errors: list[str] = []

    def seen(context):
        orig = context.original_exception
        errors.append(getattr(orig, "sqlstate", None) or str(orig))

    with app.app_context():
        engine = _db.engine
    sa.event.listen(engine, "handle_error", seen)
    yield errors
    sa.event.remove(engine, "handle_error", seen)
