"""Closing a session (who ran it, when, which patients came along) and re-opening it.

A close locks the session's patients, then the session (`billing.lock_before_change`), checks what
the facilitator entered, writes the session's row and presence marks, and re-evaluates its billing
(`billing.facts_changed`) in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from roster.domain.recurrence import local_to_utc, utc_to_local
from roster.domain.statuses import SessionStatus
from roster.extensions import db
from roster.models import ClassSession, Facilitator, Patient, PatientPresence, User, utcnow
from roster.services import Conflict, ServiceError, audit, billing, clock
from roster.services.billing.closed import PairsRead, closed_pairs, closing_read, closing_returns
from roster.services.billing.statements import RawArray, Together
from roster.services.billing.stored import of_rows
from roster.services.billing.locks import entered_gate, gate, read_for_change
from roster.services.tokens import TOKEN_AND_USER
from roster.transactions import PREPARE_AT_ONCE


def actor_id(user: User | None) -> int | None:
    """The user a change is recorded as made by (None: nobody signed in)."""
    return user.id if user is not None and getattr(user, "is_authenticated", False) else None


CLOSE_AUDIT_FIELDS = ("status", "actual_facilitator_id", "actual_start", "actual_end")


# The API close's token read (`roster.api.read_with_token`): on PostgreSQL it also takes the session's attendance
# gate, exclusively (`billing.locks.SESSION_GATE`), as columns of the token's row (so for a live token only): the
# gate's own statement, a round trip, is saved; `lock_before_change`, next, reads with a snapshot taken after it.
# Prepared at its first run on a connection (`transactions.PREPARE_AT_ONCE`), as the close's other long statements.
CLOSE_READS = {"postgresql": TOKEN_AND_USER.add_columns(*gate(sa.bindparam("session_id", type_=sa.Integer()), exclusive=True))
               .execution_options(**{PREPARE_AT_ONCE: True}), "sqlite": TOKEN_AND_USER}


def close_read(request) -> tuple[sa.Select, dict]:
    """The close's token read and its bound values (``request``: the call's)."""
    return CLOSE_READS[db.session.get_bind().dialect.name], {"session_id": request.view_args["session_id"]}


def session_to_close(session_id: int, facilitator_id=None, gated: bool = False) -> ClassSession:
    """The session a close names (404 when there is none), read as `close_session` reads it, with its class
    and the facilitator named, in one statement (`billing.locks.read_for_change`; on PostgreSQL under its
    lock, its patients locked first): the close then reads none of it again. ``gated``: this transaction's
    token read took the session's gate (`close_read`; not a retried attempt's)."""
    if gated:
        entered_gate([session_id], exclusive=True)
    return read_for_change(session_id, _named(facilitator_id)) or db.get_or_404(ClassSession, session_id)


def _named(facilitator_id) -> int | None:
    return facilitator_id if isinstance(facilitator_id, int) else None


def close_session(
    session: ClassSession,
    *,
    facilitator_id: int | None,
    started_at: datetime,
    ended_at: datetime,
    patients_present: list[str],
    user: User | None,
    answer: billing.SessionAnswer | None = None,
):
    """Record who ran the session and when; mark it held; evaluate its billing.

    ``started_at``/``ended_at`` are wall-clock times in the class's zone.
    Closing again replaces these facts and re-evaluates (R15, R16).
    ``answer``: the session's billing as the API answers it, made from what its re-evaluation wrote.
    """
    named = _named(facilitator_id)
    # patients, then the session, read again: before any check (on PostgreSQL with the facilitator named)
    facilitator = billing.lock_before_change([session.id], facilitator_id=named)
    if session.status == SessionStatus.CANCELLED:
        raise Conflict("A cancelled session cannot be closed.", {"session": "cancelled"})
    errors: dict[str, str] = {}
    if facilitator_id is not None:
        if facilitator is None and named is not None:
            facilitator = db.session.get(Facilitator, named)
        if facilitator is None:
            errors["facilitator_id"] = "No such facilitator."
    tz = session.group_class.timezone
    start = local_to_utc(started_at, tz) if started_at else None
    end = local_to_utc(ended_at, tz) if ended_at else None
    if start is None:
        errors["started_at"] = "The actual start is required."
    if end is None:
        errors["ended_at"] = "The actual end is required."
    if start and end and end <= start:
        errors["ended_at"] = "The session must end after it starts."
    elif end and end > clock.now():
        errors["ended_at"] = (
            f"The actual end ({ended_at:%H:%M} on {clock.day_label(ended_at.date())}) is later than now: "
            "a session is closed once it has ended."
        )
    if start and end and (end - start).total_seconds() > 12 * 3600:
        errors["ended_at"] = "A session of more than 12 hours is not believable."
    if start and abs((start - session.starts_at).total_seconds()) > 24 * 3600:
        errors["started_at"] = (
            "The actual start must be within a day of the scheduled start "
            f"({utc_to_local(session.starts_at, tz):%Y-%m-%d %H:%M})."
        )
    if not isinstance(patients_present, list) or not all(isinstance(m, str) for m in patients_present):
        errors["patients_present"] = "List the MRNs of patients who were present."
        patients_present = []
    present = list(db.session.scalars(sa.select(Patient).where(Patient.mrn.in_(patients_present)))) if patients_present else []
    unknown = sorted(set(patients_present) - {p.mrn for p in present})
    if unknown:
        errors["patients_present"] = f"No patient with MRN {', '.join(unknown)}."
    if errors:
        raise ServiceError("The session could not be closed.", errors)

    before = audit.snapshot(session, CLOSE_AUDIT_FIELDS)
    changes = {"actual_facilitator_id": facilitator.id if facilitator is not None else None,
               "actual_start": start, "actual_end": end, "status": SessionStatus.HELD.value,
               "closed_at": utcnow(), "closed_by_id": actor_id(user)}
    if before["status"] != SessionStatus.HELD or session.held_timezone is None:
        changes |= billing.class_facts_to_keep(session)  # closing again keeps the facts it was held with (S8)
    if before["status"] != SessionStatus.HELD:
        changes["sequence"] = session.sequence + 1
    marks, pairs = _write_closed(session, changes, facilitator)
    if _replace_presence(session, {p.id for p in present}, user, marks) and pairs is not None:
        pairs = pairs._replace(stored=None)  # its attendance changed: read again
    db.session.flush()  # the presence marks added, and their audit records
    closed = {"action": "session.close", "entity_type": "class_session", "entity_id": session.id,
              "session_id": session.id, "before": before,
              "after": audit.snapshot(session, CLOSE_AUDIT_FIELDS) | {"patients_present": sorted(patients_present)}}
    # its audit record written with the lines' own; its facts as it stands (flushed, locked)
    billing.facts_changed(session_ids=[session.id], audit_events=[closed], written=[session], answer=answer,
                          pairs_read=pairs)
    return session


def _write_closed(session: ClassSession, changes: dict, facilitator: Facilitator | None
                  ) -> tuple[dict[int, int] | None, PairsRead | None]:
    """UPDATE the session's row with these column values (and its ``updated_at``), as ONE Core statement,
    and make the loaded object say the same, as written (its facilitator too, so a caller that had loaded
    the old one does not bill with it): the ORM's unit of work cost more than the UPDATE. The row is
    locked already (`billing.lock_before_change`). On PostgreSQL the same statement returns the session's
    patient-present marks (patient -> mark id: `_replace_presence`) and reads what its re-evaluation reads
    (`billing.closed`: its (patient, date) pairs, their sessions and, usually, its attendance, lines and
    findings; None, None: ask for them)."""
    changes = changes | {"updated_at": utcnow()}
    connection = db.session.connection()
    params = changes | {"session_id": session.id}
    if connection.dialect.name != "postgresql":
        connection.execute(_update_session(tuple(changes)), params)
        _set_written(session, changes, facilitator)
        return None, None
    day = utc_to_local(changes["actual_start"], changes.get("held_timezone") or billing.session_timezone(session)).date()
    returned, *read = _closing(tuple(changes)).apart(params | {"new_day": day, "ids": [session.id], "sessions": [session.id]})
    _set_written(session, changes, facilitator)
    mark_ids, patient_ids, *pairs = returned[0]
    return dict(zip(patient_ids, mark_ids)), closed_pairs(pairs, day, of_rows(*read))


def _set_written(session: ClassSession, changes: dict, facilitator: Facilitator | None) -> None:
    for key, value in (changes | {"actual_facilitator": facilitator}).items():
        set_committed_value(session, key, value)


@lru_cache(maxsize=16)
def _update_session(columns: tuple[str, ...]) -> sa.Update:
    """The UPDATE of these columns of a session (built once per set: a close writes one of a few)."""
    table = ClassSession.__table__
    return (sa.update(table).where(table.c.id == sa.bindparam("session_id"))
            .values({name: sa.bindparam(name, type_=table.c[name].type) for name in columns}))


@lru_cache(maxsize=16)
def _closing(columns: tuple[str, ...]) -> Together:
    """PostgreSQL: that UPDATE returning the session's presence marks' ids and patients (two arrays, in id
    order) and its pairs (`closed.closing_returns`), with what re-evaluation reads (`closed.closing_read`)."""
    table, presence = ClassSession.__table__, PatientPresence.__table__
    return closing_read(_update_session(columns).returning(*(
        sa.func.array(sa.select(column).where(presence.c.session_id == table.c.id).order_by(presence.c.id)
                      .scalar_subquery(), type_=RawArray(sa.Integer())).label(name)
        for name, column in (("mark_ids", presence.c.id), ("mark_patients", presence.c.patient_id))), *closing_returns()))


def _replace_presence(session: ClassSession, patient_ids: set[int], user: User | None,
                      have: dict[int, int] | None) -> bool:
    """The session's patient-present marks become these patients'. Its marks (``have``: patient -> mark id,
    as `_write_closed` read them; None: read them here) are read as rows, as Core (a close usually changes
    none of them); one to remove is deleted by its id. Returns whether any changed."""
    connection = db.session.connection()
    if have is None:
        have = {patient_id: mark_id for mark_id, patient_id in connection.execute(_MARKS, {"session_id": session.id})}
    gone = [mark_id for pid, mark_id in have.items() if pid not in patient_ids]
    for pid in have:
        if pid not in patient_ids:
            audit.record("presence.unmark", "patient", pid, session_id=session.id,
                         before={"present": True}, after={"present": False})
    if gone:
        connection.execute(_DELETE_MARKS, {"ids": gone})
        for obj in [o for o in db.session.identity_map.values() if isinstance(o, PatientPresence)]:
            if sa.inspect(obj).identity[0] in gone:  # loaded before: gone now
                db.session.expunge(obj)
    for pid in patient_ids - set(have):
        db.session.add(PatientPresence(session_id=session.id, patient_id=pid, marked_by_id=actor_id(user)))
        audit.record("presence.mark", "patient", pid, session_id=session.id,
                     before={"present": False}, after={"present": True})
    return bool(gone) or bool(patient_ids - set(have))


_MARKS = sa.select(PatientPresence.id, PatientPresence.patient_id).where(
    PatientPresence.session_id == sa.bindparam("session_id")).order_by(PatientPresence.id)
_DELETE_MARKS = sa.delete(PatientPresence.__table__).where(
    PatientPresence.__table__.c.id.in_(sa.bindparam("ids", expanding=True)))


def reopen_session(session: ClassSession, reason: str, user: User | None) -> ClassSession:
    """Back to scheduled (e.g. to fix attendance). Its unexported lines go; exported ones are voided."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ServiceError("Say why the session is re-opened.", {"reason": "A reason is required."})
    billing.lock_before_change([session.id])
    if session.status != SessionStatus.HELD:
        raise Conflict("Only a held session can be re-opened.", {"status": session.status})
    before = audit.snapshot(session, CLOSE_AUDIT_FIELDS)
    session.status = SessionStatus.SCHEDULED
    session.sequence += 1
    billing.forget_class_facts(session)  # when held again, it is held with the class as it is then
    db.session.flush()
    audit.record("session.reopen", "class_session", session.id, session_id=session.id,
                 before=before, after=audit.snapshot(session, CLOSE_AUDIT_FIELDS) | {"reason": reason})
    billing.facts_changed(session_ids=[session.id])
    return session
