"""The statements of a check-in and of its undo, each built once (building and keying a statement cost more
than running it), run as Core (plain rows: the answer and the audit need a few columns, not ORM objects).

On PostgreSQL each writes its audit record in the same statement (a data-modifying WITH): one round trip,
where a second statement (and a third, for a double tap's read of the check-in that stands) cost more.
"""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa

from roster.models import AuditEvent, CheckIn, ClassSession, Patient

_CHECKIN = CheckIn.__table__
# what a check-in's caller reads of its row (the API's answer, the desk's message, the audit on SQLite)
ANSWER = ("id", "caregiver_id", "checked_in_at", "walk_in", "relationship")
_NAMES = ", ".join(ANSWER)
_PAIR = "session_id = :session_id AND caregiver_id = :caregiver_id AND patient_id = :patient_id"
CREATED = sa.column("created", sa.Boolean())  # a check-in's row: made by this statement, or the one that stood
# PostgreSQL: the session's status as the statement reads it, after the session's gate (`billing.enter_gate`)
SESSION_STATUS = sa.column("session_status", sa.String())
_STATUS = "(SELECT status FROM class_session WHERE class_session.id = :session_id)"


@lru_cache(maxsize=2)
def check_in_insert(audited: bool) -> sa.TextClause:
    """The check-in's INSERT … ON CONFLICT DO NOTHING RETURNING, walk-in or not asked inside it.

    ``audited`` (PostgreSQL): with its audit record, written from what the INSERT returned in the same
    statement (the record's JSON made by ``audit.event_rows`` and ``json.dumps`` as ``record_all`` writes it,
    for either answer to walk-in; none when the check-in was there already); and when it was there already
    (a double tap), that check-in's row, ``created`` false, as this statement's snapshot saw it. None of
    either when it was committed by another call after that snapshot was taken (a double tap sent to two
    servers at once): ``find_checkin`` reads it then, in a statement of its own (a new snapshot).
    Without ``audited`` (SQLite): the new row only; ``find_checkin`` reads one that stood.

    Written once as text: SQLAlchemy never caches its dialects' ON CONFLICT constructs (2.0:
    ``OnConflictClause`` has no cache key), so every check-in compiled its statement again (~1-5 ms); a text
    statement is compiled once. Bound with the columns' types."""
    c = _CHECKIN.c
    insert = (
        "INSERT INTO check_in (session_id, caregiver_id, patient_id, checked_in_at, checked_in_by_id, walk_in, "
        "relationship) VALUES (:session_id, :caregiver_id, :patient_id, :checked_in_at, :checked_in_by_id, "
        "NOT EXISTS (SELECT 1 FROM enrollment_caregiver JOIN enrollment "
        "ON enrollment.id = enrollment_caregiver.enrollment_id WHERE enrollment.class_id = :class_id "
        "AND enrollment.patient_id = :patient_id AND enrollment.status = :enrolled "
        "AND enrollment_caregiver.caregiver_id = :caregiver_id), :relationship) "
        f"ON CONFLICT (session_id, caregiver_id, patient_id) DO NOTHING RETURNING {_NAMES}"
    )
    types = [sa.bindparam(column.name, type_=column.type) for column in c if column.name not in ("id", "walk_in")]
    answer = [c[name] for name in ANSWER]
    if not audited:
        return sa.text(insert).bindparams(*types).columns(*answer)
    statement = (
        f"WITH added AS ({insert}), audited AS (INSERT INTO audit_event (at, actor_id, actor_label, action, "
        "entity_type, entity_id, session_id, before, after) SELECT CAST(:audit_at AS TIMESTAMP WITH TIME ZONE), "
        "CAST(:audit_actor_id AS INTEGER), CAST(:audit_actor_label AS VARCHAR), 'checkin.create', 'check_in', "
        "added.id, CAST(:session_id AS INTEGER), CAST(CAST(:audit_before AS TEXT) AS JSON), "
        "CAST(CASE WHEN added.walk_in THEN CAST(:after_walk_in AS TEXT) ELSE CAST(:after_enrolled AS TEXT) END AS JSON) "
        "FROM added) "
        f"SELECT {_NAMES}, true AS created, {_STATUS} AS session_status FROM added UNION ALL "
        f"SELECT {_NAMES}, false, NULL FROM check_in WHERE {_PAIR} AND NOT EXISTS (SELECT 1 FROM added)"
    )
    types.append(sa.bindparam("audit_at", type_=AuditEvent.__table__.c.at.type))
    return sa.text(statement).bindparams(*types).columns(*answer, CREATED, SESSION_STATUS)


@lru_cache(maxsize=1)
def find_checkin() -> sa.Select:
    """The check-in of a (session, caregiver, patient) that stands, as a row (``ANSWER``'s columns)."""
    return sa.select(*(_CHECKIN.c[name] for name in ANSWER)).where(*(_CHECKIN.c[key] == sa.bindparam(key)
                                       for key in ("session_id", "caregiver_id", "patient_id")))


UNDONE = ("id", "caregiver_id", "patient_id", "checked_in_at", "checked_in_by_id")  # what an undo's audit keeps


@lru_cache(maxsize=6)
def undo_delete(by: str, audited: bool) -> sa.Executable:
    """The undo's DELETE … RETURNING, for each way of naming the patient (all, id, MRN: looked up inside it).

    ``audited`` (PostgreSQL): with the audit record of each check-in removed, in id order, written from what
    the DELETE returned in the same statement; its ``before`` made as ``record_all`` writes
    ``{"caregiver_id": …, "patient_id": …, "checked_in_at": <isoformat>, "checked_in_by_id": …}`` (``json.dumps``'
    text; the time in UTC as Python's ``isoformat`` writes it: microseconds only when there are some), its
    ``after`` given (``json.dumps``'d), its time, actor and session given as ``audit.event_rows`` makes them."""
    c = _CHECKIN.c
    stmt = sa.delete(_CHECKIN).where(c.session_id == sa.bindparam("session_id"),
                                     c.caregiver_id == sa.bindparam("caregiver_id"))
    if by == "id":
        stmt = stmt.where(c.patient_id == sa.bindparam("patient"))
    elif by == "mrn":
        patient = Patient.__table__
        stmt = stmt.where(c.patient_id == sa.select(patient.c.id)
                          .where(patient.c.mrn_key == sa.bindparam("patient")).scalar_subquery())
    stmt = stmt.returning(*(c[name] for name in UNDONE))
    if not audited:
        return stmt
    removed = stmt.cte("removed")
    r = removed.c
    utc = sa.func.timezone(_text("UTC"), r.checked_in_at)
    micro = sa.func.to_char(utc, _text("US"))
    iso = sa.func.concat(sa.func.to_char(utc, _text('YYYY-MM-DD"T"HH24:MI:SS')),
                         sa.case((micro == _text("000000"), _text("")), else_=sa.func.concat(_text("."), micro)),
                         _text("+00:00"))
    before = sa.func.concat(_text('{"caregiver_id": '), r.caregiver_id, _text(', "patient_id": '), r.patient_id,
                            _text(', "checked_in_at": "'), iso, _text('", "checked_in_by_id": '),
                            sa.func.coalesce(sa.cast(r.checked_in_by_id, sa.Text), _text("null")), _text("}"))
    audit = AuditEvent.__table__
    records = sa.select(
        sa.cast(sa.bindparam("audit_at", type_=audit.c.at.type), audit.c.at.type),
        sa.cast(sa.bindparam("audit_actor_id", type_=sa.Integer), sa.Integer),
        sa.cast(sa.bindparam("audit_actor_label", type_=sa.String), sa.String),
        _text("checkin.undo"), _text("check_in"), r.id, sa.cast(sa.bindparam("session_id", type_=sa.Integer), sa.Integer),
        sa.cast(before, sa.JSON), sa.cast(sa.cast(sa.bindparam("audit_after", type_=sa.Text), sa.Text), sa.JSON),
    ).order_by(r.id)
    audited_cte = sa.insert(audit).from_select(
        ["at", "actor_id", "actor_label", "action", "entity_type", "entity_id", "session_id", "before", "after"],
        records).cte("audited")
    status = sa.select(ClassSession.__table__.c.status).where(
        ClassSession.__table__.c.id == sa.bindparam("session_id", type_=sa.Integer)).scalar_subquery()
    return sa.select(*(r[name] for name in UNDONE), status.label("session_status")).add_cte(audited_cte)


def _text(value: str):
    """A constant written into the statement (not a bound value: nothing to convert on every call)."""
    return sa.literal_column("'" + value.replace("'", "''") + "'", sa.Text)
