"""billing/locks.py: a row this transaction locked is not locked again, and the memory of it ends
with the transaction or a savepoint (a savepoint rolled back releases the locks taken in it)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from roster.extensions import db
from roster.models import Patient
from roster.services.billing import locks
from tests.billing.clinic import Clinic


def test_locks_are_taken_once_and_forgotten_when_a_transaction_or_savepoint_ends(app, api):
    """(A flush opens an inner transaction too; forgetting there made every close lock and read
    twice on PostgreSQL.)"""
    mrn = Clinic(api("admin")).patient()
    with app.app_context():
        pid = db.session.scalar(sa.select(Patient.id).where(Patient.mrn == mrn))
        if db.engine.dialect.name == "sqlite":  # one writer holds the whole database: nothing to lock
            assert locks.unlocked(Patient, {pid}) == set() and locks.lock(Patient, {pid}) == set()
            return
        assert locks.unlocked(Patient, {pid}) == {pid}
        assert locks.lock(Patient, {pid}) == {pid}
        assert locks.lock(Patient, {pid}) == set() and locks.unlocked(Patient, {pid}) == set()
        db.session.get(Patient, pid).needs = ["stroke", "dementia"]
        db.session.flush()  # a flush is no savepoint: the lock stays, and so does the memory of it
        assert locks.unlocked(Patient, {pid}) == set()
        with db.engine.connect() as other:  # really held: another transaction cannot take it
            with pytest.raises(OperationalError):
                other.execute(sa.text("SELECT id FROM patient WHERE id = :id FOR UPDATE NOWAIT"), {"id": pid})
        with db.session.begin_nested():
            pass
        assert locks.unlocked(Patient, {pid}) == {pid}  # forgotten (taken again if needed)
        db.session.rollback()
        assert locks.unlocked(Patient, {pid}) == {pid}
