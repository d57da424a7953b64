"""The row locks billing takes on PostgreSQL, in one fixed order: patients, then sessions, then lines.

Every lock is ``FOR NO KEY UPDATE`` (check-ins and lines that reference the rows can still be
inserted), taken in id order, and remembered for the rest of the transaction: a row this
transaction has locked is not locked again, and re-evaluation knows that what it reads about
such rows cannot move under it (`facts_changed` then settles in one round). The memory is
forgotten whenever a transaction or savepoint ends (a savepoint rolled back releases the locks
taken inside it), which only costs a lock taken again.

SQLite has one writer at a time (``BEGIN IMMEDIATE`` holds the whole database from the first
statement): nothing is locked, and everything counts as held.
"""

from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, joinedload

from roster.extensions import db
from roster.models import BillingLine, CheckIn, ClassSession, Facilitator, Patient
from roster.transactions import PREPARE_AT_ONCE

_HELD = "billing.row_locks"  # Session.info: table name -> ids locked in this transaction


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction) -> None:
    # the transaction itself or a savepoint; not the inner "subtransaction" every flush opens
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HELD, None)


def _locking() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _held(model) -> set[int]:
    return db.session.info.setdefault(_HELD, {}).setdefault(model.__tablename__, set())


def _read_under_lock() -> dict[tuple[type, int], object]:
    """What `lock_before_change` has read in this transaction: (ClassSession, id) -> the session, locked
    with its patients and read under the lock; (Facilitator, id) -> the facilitator, or None: there is none.
    Held here (the session's identity map keeps only objects referenced elsewhere)."""
    return db.session.info.setdefault(_HELD, {}).setdefault("lock_before_change", {})


def read_under_lock(session_id: int) -> ClassSession | None:
    """The session as `lock_before_change` (or `read_for_change`) read it in this transaction (None: it did not)."""
    return _read_under_lock().get((ClassSession, session_id))


def read_for_change(session_id: int, facilitator_id: int | None = None) -> ClassSession | None:
    """The session a change (a close) names, with its class, and the facilitator ``facilitator_id`` names,
    in ONE statement, remembered for the transaction (`read_under_lock`; the facilitator is then found by
    ``get`` without a statement): on PostgreSQL `lock_before_change`'s, under the locks; on SQLite,
    which locks nothing, the same read without them. None: there is no such session."""
    if _locking():
        lock_before_change([session_id], facilitator_id)
    else:
        read = _read_under_lock()
        for session, facilitator in db.session.execute(
                _READ_FOR_CHANGE, {"session": session_id, "facilitator": facilitator_id}).tuples():
            read[ClassSession, session.id] = session
            if facilitator_id is not None:
                read[Facilitator, facilitator_id] = facilitator
    return read_under_lock(session_id)


def unlocked(model, ids: Iterable[int]) -> set[int]:
    """The rows among these this transaction does not hold yet (none on SQLite)."""
    ids = set(ids)
    if not ids or not _locking():
        return set()
    return ids - _held(model)


def lock(model, ids: Iterable[int]) -> set[int]:
    """Lock the rows not held yet, in id order; returns their ids."""
    new = unlocked(model, ids)
    if new:
        db.session.execute(
            sa.select(model.id).where(model.id.in_(sorted(new))).order_by(model.id).with_for_update(key_share=True)
        ).all()
        _held(model).update(new)
    return new


def updated(model, ids: Iterable[int]) -> None:
    """Rows this transaction has just UPDATEd (flushed) hold a FOR UPDATE lock, stronger than ours,
    until it ends: remember them, so re-evaluation does not lock them again (one round trip less)."""
    if _locking():
        _held(model).update(ids)


def lock_selected(model, built: dict[str, sa.Select], params: dict) -> list[sa.Row]:
    """The rows a statement (built per kind of database, its first column ``model``'s id) selects,
    ``model``'s rows locked as it reads them, in id order (one round trip instead of two); nothing is
    locked on SQLite."""
    connection = db.session.connection()
    kind = connection.dialect.name
    if kind != "postgresql":
        return connection.execute(built[kind], params).all()
    locking = _LOCKING.get(id(built))
    if locking is None or locking[0] is not built:  # built once per statement (and kept with it)
        stmt = built[kind].order_by(model.id).with_for_update(key_share=True, of=model)
        locking = _LOCKING[id(built)] = (built, stmt)
    rows = connection.execute(locking[1], params).all()
    _held(model).update(row[0] for row in rows)
    return rows


_LOCKING: dict[int, tuple[dict, sa.Select]] = {}

# A session's attendance gate (PostgreSQL): a transaction-scoped advisory lock per session, taken
# before anything else by what changes whether a session is held (a close, a re-open, a cancel:
# exclusive) and by what changes who came (a check-in, an undo, a patient's presence: shared).
# A check-in's row only key-share locks its session, which a close's lock does not stop; without
# the gate a check-in committed while a close was under way was billed by neither (the close had
# read who came; the desk had seen the session not yet held), and an undo left its line standing.
# With it, a change of attendance either waits for the close and then reads the session held (and
# evaluates its billing), or the close waits for it and then reads it. It is taken in a statement
# of its own: what follows reads with a snapshot taken after it was granted. Advisory locks stand
# outside the rows' order (patients, sessions, lines) and come first, so they add no deadlock.
# The exclusive gate's statement also makes the rest of the transaction run prepared statements with their
# generic plan (``plan_cache_mode``; until the transaction or a savepoint ends, as the gate's memory).
# Billing's statements are constant texts that psycopg prepares after a few runs, but PostgreSQL planned
# them again at every run for the values given (an array's length makes the generic plan look dearer): a
# close's statements spent 2.4 ms planning for 1.5 ms running (pg_stat_statements; the generic plans run
# as fast). Not for the whole connection: a search's plan depends on its pattern. (psycopg forgets its
# prepared statements at a ROLLBACK: a transaction rolled back each time, as a benchmark's, plans anyway.)
SESSION_GATE = 0x52_53  # advisory-lock class ("RS")


def gate(session_id: sa.ColumnElement, exclusive: bool) -> list[sa.ColumnElement]:
    """PostgreSQL: the session's attendance gate as columns of a statement: ``gate`` (shared, or exclusive and then
    ``plans``, the rest of the transaction's generic plans). `enter_gate` takes it in a statement of its own; a
    statement that reads one row anyway takes it there, a round trip fewer (the API close's token read,
    `closing.CLOSE_READS`; the API check-in's and undo's, `frontdesk.with_token`): then call `entered_gate`."""
    if not exclusive:
        return [sa.func.pg_advisory_xact_lock_shared(SESSION_GATE, session_id).label("gate")]
    return [sa.func.pg_advisory_xact_lock(SESSION_GATE, session_id).label("gate"),
            sa.func.set_config(sa.literal_column("'plan_cache_mode'"), sa.literal_column("'force_generic_plan'"),
                               sa.true()).label("plans")]


_GATE_IDS = sa.func.unnest(sa.cast(sa.bindparam("ids"), ARRAY(sa.Integer()))).column_valued("s")
_GATE = {exclusive: sa.select(*gate(_GATE_IDS, exclusive)) for exclusive in (True, False)}  # each id given, in order


def _gates() -> dict[int, bool]:
    return db.session.info.setdefault(_HELD, {}).setdefault("session_gate", {})  # id -> exclusive


def enter_gate(session_ids: Iterable[int], exclusive: bool) -> None:
    """Take these sessions' attendance gates (see ``SESSION_GATE``), in id order, unless this transaction
    holds them already (as strongly); nothing on SQLite, whose one writer at a time orders the same."""
    if not _locking():
        return
    gates = _gates()
    new = sorted(i for i in set(session_ids) if i not in gates or (exclusive and not gates[i]))
    if new:
        db.session.execute(_GATE[exclusive], {"ids": new}).all()
        entered_gate(new, exclusive)


def entered_gate(session_ids: Iterable[int], exclusive: bool) -> None:
    """A statement of this transaction took these gates (the API check-in's first read): remember it."""
    if _locking():
        gates = _gates()
        for i in session_ids:
            gates[i] = exclusive or gates.get(i, False)


def lock_before_change(session_ids: Iterable[int], facilitator_id: int | None = None) -> Facilitator | None:
    """Take, before a service updates these sessions' rows (closing, re-opening, cancelling), the
    locks ``facts_changed`` takes afterwards, in its order: their patients, then the sessions. An
    UPDATE would lock the session first, and two desks closing two sessions of one patient's day
    would then each hold one lock the other wants (a deadlock, run again, but slow). The sessions'
    loaded objects are read again under the lock; ``facts_changed`` then finds them held.
    On PostgreSQL the same statement reads the facilitator ``facilitator_id`` names (not locked), and
    returns it (None: there is no such facilitator, or nothing was read: SQLite, ask for it there).
    Called again for sessions it has already locked and read in this transaction (the API close reads
    its session so, then closes it), it reads nothing again: they and their patients are held since,
    and the facilitator is the one read then (`read_under_lock`; another one is asked for with ``get``)."""
    ids = set(session_ids)
    if not ids or not _locking():
        return None
    read = _read_under_lock()
    enter_gate(ids, exclusive=True)  # first: a check-in under way ends before the patients are read
    if all((ClassSession, i) in read for i in ids):  # already, earlier in this transaction (the API close's view)
        if facilitator_id is None:
            return None
        return read[Facilitator, facilitator_id] if (Facilitator, facilitator_id) in read else db.session.get(
            Facilitator, facilitator_id)
    # The sessions as the desk before us left them (it may have closed them while we waited),
    # not as they were loaded before the lock: read again under the lock, with their class (the
    # caller reads its zone: a lazy load after populate_existing would read it again). ONE statement:
    # the sessions' rows come out of a join with every patient already locked (the aggregate of the
    # patients' CTE is complete before its first row), so the sessions are locked after them.
    locked: list[int] = []
    facilitator = None
    for session, facilitator, patient_ids in db.session.execute(
        _LOCK_BEFORE_CHANGE, {"sessions": sorted(ids), "facilitator": facilitator_id},
        execution_options={"populate_existing": True},
    ).tuples():
        locked = patient_ids or []
        read[ClassSession, session.id] = session
    if facilitator_id is not None and read.keys() >= {(ClassSession, i) for i in ids}:  # the outer join answered
        read[Facilitator, facilitator_id] = facilitator
    _held(Patient).update(locked)
    _held(ClassSession).update(ids)
    return facilitator


def _lock_before_change() -> sa.Select:
    sessions = sa.bindparam("sessions", type_=ARRAY(sa.Integer()))
    concerned = sa.union(
        sa.select(CheckIn.patient_id).where(CheckIn.session_id == sa.any_(sessions)),
        sa.select(BillingLine.patient_id).where(BillingLine.session_id == sa.any_(sessions),
                                                BillingLine.status != "void"),
    )
    patients = (sa.select(Patient.id).where(Patient.id == sa.any_(sa.func.array(concerned.scalar_subquery())))
                .order_by(Patient.id).with_for_update(key_share=True)
                .cte("locked_patients").prefix_with("MATERIALIZED"))
    locked = sa.select(sa.func.array_agg(patients.c.id).label("ids")).cte("locked_ids").prefix_with("MATERIALIZED")
    named = Facilitator.id == sa.bindparam("facilitator", type_=sa.Integer())
    return (sa.select(ClassSession, Facilitator, locked.c.ids).options(joinedload(ClassSession.group_class))
            .select_from(sa.join(ClassSession, locked, sa.true()).outerjoin(Facilitator, named)).where(ClassSession.id == sa.any_(sessions)).order_by(ClassSession.id)
            .with_for_update(key_share=True, of=ClassSession))


# built once (PostgreSQL only); prepared at its first run on a connection (a close's, a re-open's, a cancel's)
_LOCK_BEFORE_CHANGE = _lock_before_change().execution_options(**{PREPARE_AT_ONCE: True})
_READ_FOR_CHANGE = (  # SQLite's (`read_for_change`)
    sa.select(ClassSession, Facilitator).options(joinedload(ClassSession.group_class))
    .outerjoin(Facilitator, Facilitator.id == sa.bindparam("facilitator", type_=sa.Integer()))
    .where(ClassSession.id == sa.bindparam("session", type_=sa.Integer())))
