"""Write a bench year into an empty database with bulk INSERTs (executemany, a chunk at a time)."""

from __future__ import annotations

import time
from datetime import date
from typing import Callable

import sqlalchemy as sa

from roster.benchdata.attendance import attend_year
from roster.benchdata.plan import plan_year
from roster.extensions import db
from roster.models import (
    AuditEvent,
    BillingLine,
    Caregiver,
    CaregiverLink,
    CheckIn,
    ClassSession,
    Enrollment,
    EnrollmentCaregiver,
    Facilitator,
    Finding,
    GroupClass,
    Patient,
    PatientPresence,
    User,
)

CHUNK = 5000
BENCH_PASSWORD = "roster-demo-2026"
BENCH_USERS = (
    ("admin@roster.demo", "admin", "Avery Admin"),
    ("coordinator@roster.demo", "coordinator", "Casey Coordinator"),
    ("frontdesk@roster.demo", "front_desk", "Frankie Desk"),
    ("biller@roster.demo", "biller", "Billie Biller"),
    ("facilitator@roster.demo", "facilitator", "Dana Reyes"),
)
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

    ensure_empty()
    started = time.perf_counter()
    users = _users(accounts)
    year = plan_year(weeks, classes_per_week, today, seed)
    desk = users["front_desk"]
    att = attend_year(year, today, (desk.id, desk.email), seed)
    say(f"planned in {time.perf_counter() - started:.1f} s")
    counts: dict[str, int] = {}
    for model, rows in (
        (Facilitator, year.facilitators), (Patient, year.patients), (Caregiver, year.caregivers),
        (CaregiverLink, year.links), (GroupClass, year.classes), (ClassSession, year.sessions),
        (Enrollment, year.enrollments), (EnrollmentCaregiver, year.members), (CheckIn, att.checkins),
        (PatientPresence, att.presence), (BillingLine, att.lines), (Finding, att.findings),
        (AuditEvent, sorted(att.audit, key=lambda e: e["at"])),
    ):
        _insert(model, rows)
        counts[model.__tablename__] = len(rows)
        say(f"{model.__tablename__:<22} {len(rows):>8} rows  ({time.perf_counter() - started:.1f} s)")
    users["facilitator"].facilitator_id = year.facilitators[0]["id"]
    _reset_sequences()
    return counts


def _users(accounts) -> dict[str, User]:
    out = {}
    for email, role, name in BENCH_USERS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        out[role] = user or accounts.create_user(email, role, BENCH_PASSWORD, name)
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


def _reset_sequences() -> None:
    """PostgreSQL: the id sequences continue after the explicit ids written here; statistics refreshed."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (Facilitator, Patient, Caregiver, CaregiverLink, GroupClass, ClassSession, Enrollment,
                  EnrollmentCaregiver, CheckIn, PatientPresence, BillingLine):
        name = model.__tablename__
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
            f"GREATEST((SELECT max(id) FROM \"{name}\"), 1))"
        ))
    db.session.execute(sa.text("ANALYZE"))  # fresh statistics, so the planner knows the tables are large
