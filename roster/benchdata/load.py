"""Write a bench year into an empty database with bulk INSERTs (executemany, a chunk at a time)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import date
from typing import Callable

import sqlalchemy as sa

from roster.benchdata.attendance import attend_year
from roster.benchdata.plan import plan_year
from roster.extensions import db
from roster.models import AuditEvent, BillingLine, Caregiver, CaregiverLink, CheckIn, ClassSession, Enrollment
from roster.models import EnrollmentCaregiver, Facilitator, Finding, GroupClass, Patient, PatientPresence, User

CHUNK = 5000
FILLED_TABLES = (Facilitator, Patient, Caregiver, GroupClass, ClassSession)


class NotEmpty(Exception):
    pass


def ensure_empty() -> None:
    for model in FILLED_TABLES:
        if db.session.scalar(sa.select(sa.func.count()).select_from(model)):
            raise NotEmpty(f"The database already has {model.__tablename__} rows; bench data needs an empty one.")


def build_year(weeks: int, classes_per_week: int, today: date, *, seed: int = 12,
               say: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Fill the (empty) database with a year; the caller commits. Returns rows written per table."""
    from roster.services import accounts
    from roster.services.billing import day_totals

    ensure_empty()
    started = time.perf_counter()
    users = _users(accounts)
    year = plan_year(weeks, classes_per_week, today, seed)
    desk = users["front_desk"]
    attend_year(year, today, (desk.id, desk.email), seed)
    say(f"planned in {time.perf_counter() - started:.1f} s")
    tables = (
        (Facilitator, year.facilitators), (Patient, year.patients), (Caregiver, year.caregivers),
        (CaregiverLink, year.links), (GroupClass, year.classes), (ClassSession, year.sessions),
        (Enrollment, year.enrollments), (EnrollmentCaregiver, year.members), (CheckIn, year.checkins),
        (PatientPresence, year.presence), (BillingLine, year.lines), (Finding, year.findings),
        (AuditEvent, sorted(year.audit, key=lambda e: e["at"])),
    )
    counts: dict[str, int] = {}
    with _words_after_load():
        for model, rows in tables:
            _insert(model, rows)
            counts[model.__tablename__] = len(rows)
            say(f"{model.__tablename__:<22} {len(rows):>8} rows  ({time.perf_counter() - started:.1f} s)")
    day_totals.recount()  # the billing review's sums by day, from the lines just written
    users["facilitator"].facilitator_id = year.facilitators[0]["id"]
    _reset_sequences([model for model, rows in tables if rows and "id" in rows[0]])
    return counts


@contextmanager
def _words_after_load():
    """PostgreSQL: the walk-in search's words of the keys (migration 0019) made once after the load, in two
    statements, instead of by their insert triggers once per row (executemany sends a statement a row: that
    doubled the year's load). The triggers are off inside this transaction only (ALTER TABLE is transactional)."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    toggles = ("caregiver", "caregiver_words_insert"), ("caregiver_link", "link_words_insert")
    if postgresql:
        for table, trigger in toggles:
            db.session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    yield
    if postgresql:
        for table, trigger in toggles:
            db.session.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
        db.session.execute(sa.text("SELECT caregiver_words_rebuild()"))


def _users(accounts) -> dict[str, User]:
    """The demo clinic's staff logins (``roster.seed``), made if missing."""
    from roster.seed import DEMO_PASSWORD, DEMO_USERS

    out = {}
    for email, role, name in DEMO_USERS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        out[role] = user or accounts.create_user(email, role, DEMO_PASSWORD, name)
    return out


def _insert(model, rows: list[dict]) -> None:
    """Rows of one table, a chunk per executemany. Keys are made uniform (missing columns are NULL/default)."""
    if not rows:
        return
    keys = sorted({k for row in rows for k in row})
    table = model.__table__
    for start in range(0, len(rows), CHUNK):
        chunk = [{k: row.get(k) for k in keys} for row in rows[start:start + CHUNK]]
        db.session.execute(sa.insert(table), chunk)


def _reset_sequences(models: list) -> None:
    """PostgreSQL: the id sequences of the tables written with explicit ids continue after them; statistics
    refreshed."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        name = model.__tablename__
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
            f"GREATEST((SELECT max(id) FROM \"{name}\"), 1))"
        ))
    db.session.execute(sa.text("ANALYZE"))  # fresh statistics, so the planner knows the tables are large


def settle() -> None:
    """PostgreSQL, after the load is committed: VACUUM ANALYZE, as autovacuum would do within a minute of such a
    bulk insert on a live database (visibility map for index-only scans, GIN pending lists merged, statistics),
    so what is measured next is the database a clinic runs on, not the minute after a bulk load."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
