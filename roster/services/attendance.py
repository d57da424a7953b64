"""Check-ins and patient-present marks (closing and re-opening: `closing`, re-exported here).

A check-in is unique per (session, caregiver, patient) in the database; a
second request for the same check-in (double tap, two desks, a retry)
finds the first one and answers calmly instead of failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from roster.domain.statuses import EnrollmentStatus, SessionStatus
from roster.extensions import db
from roster.models import (
    CheckIn,
    ClassSession,
    Patient,
    PatientPresence,
    User,
    mrn_key,
    utcnow,
)
from roster.services import Conflict, NotFound, ServiceError, audit, billing, clock, people
from roster.services import checkin_statements as statements
from roster.services.checkin_people import Person, caregiver_and_patients, resolve_patient_for
from roster.services.closing import (  # noqa: F401 (closing and re-opening: attendance.close_session, …)
    CLOSE_AUDIT_FIELDS,
    close_read,
    close_session,
    reopen_session,
    session_to_close,
)
from roster.services.closing import actor_id as _actor_id


@dataclass
class CheckInResult:
    checkin: sa.Row  # the check-in (checkin_statements.ANSWER: id, caregiver, time, walk-in, relationship): made
    # now (``created``), or the one that stood
    created: bool
    caregiver: Person
    patient: Person


def _require_open(session: ClassSession) -> str:
    """Refuse a cancelled session or one of a later day; else its ``timing``."""
    if session.status == SessionStatus.CANCELLED:
        raise Conflict("This session was cancelled; nobody can be checked in.", {"session": "cancelled"})
    when = timing(session)
    if when == LATER_DAY:
        day = clock.day_label(billing.date_of_service(session))
        raise Conflict(
            f"This session is on {day}, a later day: caregivers are checked in on the day they come.",
            {"session": f"Check-in opens on {day}."},
        )
    return when


LATER_DAY, TODAY, PAST_DAY = "later_day", "today", "past_day"


def timing(session: ClassSession) -> str:
    """Whether the session's day (in its class's zone) is later than today, today, or past."""
    day = billing.date_of_service(session)
    today = clock.today_in(billing.session_timezone(session))
    return LATER_DAY if day > today else TODAY if day == today else PAST_DAY


def after_the_fact(session: ClassSession) -> dict:
    """What the audit adds to attendance entered on a later day than the session's (back-entry)."""
    return {"after_the_fact": True} if timing(session) == PAST_DAY else {}


def check_in(
    session: ClassSession, caregiver_id: int, patient_mrn: str | None, user: User | None,
    caregiver_rows: list | None = None,
) -> CheckInResult:
    """``caregiver_rows``: the caregiver and their linked patients as read already (``caregiver_and_patients``)."""
    when = _require_open(session)
    caregiver, linked = caregiver_and_patients(caregiver_id, caregiver_rows)
    return _check_in_pair(session, caregiver, *resolve_patient_for(caregiver, linked, patient_mrn), user, when)


def check_in_for(session: ClassSession, caregiver_id: int, patient_id: int, user: User | None) -> CheckInResult:
    """The desk's check-in: the caregiver came for this patient (both by id, as the page sends them)."""
    when = _require_open(session)
    caregiver, linked = caregiver_and_patients(caregiver_id)
    for patient, relationship in linked:
        if patient.id == patient_id:
            return _check_in_pair(session, caregiver, patient, relationship, user, when)
    raise ServiceError(
        f"{caregiver.full_name} is not linked to that patient.",
        {"patient_id": "This caregiver is not linked to that patient."},
    )


def _check_in_pair(session: ClassSession, caregiver: Person, patient: Person, relationship: str | None,
                   user: User | None, when: str) -> CheckInResult:
    """One INSERT … ON CONFLICT DO NOTHING RETURNING: a second request for the same check-in (a
    double tap, another desk, a retried request) inserts nothing and finds the one that stands. On
    PostgreSQL the same statement writes its audit record, and answers with the check-in that stood
    (one round trip: ``checkin_statements.check_in_insert``)."""
    values = {  # the relationship as it is now: later link edits keep it (S9)
        "session_id": session.id, "caregiver_id": caregiver.id, "patient_id": patient.id,
        "checked_in_at": utcnow(), "checked_in_by_id": _actor_id(user), "relationship": relationship or "",
        "class_id": session.class_id, "enrolled": EnrollmentStatus.ENROLLED.value,
    }
    late = {"after_the_fact": True} if when == PAST_DAY else {}  # after_the_fact(session)
    connection = db.session.connection()
    audited = connection.dialect.name == "postgresql"
    if audited:  # the record as audit.record_all writes it, for a walk-in and for an enrolled pair
        billing.enter_gate([session.id], exclusive=False)  # a close under way ends first (locks.SESSION_GATE)
        walk_in, enrolled = audit.event_rows([_created(session, caregiver, patient, kind, values["relationship"], late)
                                              for kind in (True, False)])
        values |= {"audit_at": walk_in["at"], "audit_actor_id": walk_in["actor_id"],
                   "audit_actor_label": walk_in["actor_label"], "audit_before": json.dumps(walk_in["before"]),
                   "after_walk_in": json.dumps(walk_in["after"]), "after_enrolled": json.dumps(enrolled["after"])}
    checkin = connection.execute(statements.check_in_insert(audited), values).first()
    if checkin is None or (audited and not checkin.created):
        return CheckInResult(checkin or _find_checkin(session.id, caregiver.id, patient.id), False, caregiver, patient)
    if not audited:  # written now, through Core: the ORM's unit of work cost more than the INSERT
        audit.record_all([_created(session, caregiver, patient, checkin.walk_in, checkin.relationship, late,
                                   checkin.id)])
    _after_attendance_change(session, checkin.session_status if audited else None)
    return CheckInResult(checkin, True, caregiver, patient)


def _created(session: ClassSession, caregiver: Person, patient: Person, walk_in: bool, relationship: str,
             late: dict, checkin_id: int | None = None) -> dict:
    """The audit record of a new check-in (``audit.record_all``'s event); ``late``: ``after_the_fact(session)``."""
    return {"action": "checkin.create", "entity_type": "check_in", "entity_id": checkin_id, "session_id": session.id,
            "after": {"caregiver_id": caregiver.id, "patient_id": patient.id, "walk_in": walk_in,
                      "relationship": relationship} | late}


def _find_checkin(session_id: int, caregiver_id: int, patient_id: int) -> sa.Row | None:
    return db.session.connection().execute(
        statements.find_checkin(), {"session_id": session_id, "caregiver_id": caregiver_id, "patient_id": patient_id}
    ).first()


def undo_check_in(
    session: ClassSession, caregiver_id: int, patient_id: int | None = None, *, patient_mrn: str | None = None
) -> int:
    """Remove a caregiver's check-in(s) in a session (for one patient, by id or by MRN, or all). Returns
    how many. One DELETE … RETURNING (the MRN looked up inside it): what it removed is what the audit
    records (on PostgreSQL written by the same statement). An unknown MRN is ``NotFound`` as
    ``people.get_patient_by_mrn`` says it."""
    by = "all" if patient_id is None and not patient_mrn else "id" if patient_id is not None else "mrn"
    params = {"session_id": session.id, "caregiver_id": caregiver_id}
    if by != "all":
        params["patient"] = patient_id if by == "id" else mrn_key(patient_mrn)
    connection = db.session.connection()
    audited = connection.dialect.name == "postgresql"
    after = after_the_fact(session) or None
    if audited:  # the records as audit.record_all writes them
        billing.enter_gate([session.id], exclusive=False)  # a close under way ends first (locks.SESSION_GATE)
        record, = audit.event_rows([{}])
        params |= {"audit_at": record["at"], "audit_actor_id": record["actor_id"],
                   "audit_actor_label": record["actor_label"], "audit_after": json.dumps(after)}
    rows = connection.execute(statements.undo_delete(by, audited), params).all()
    if not rows:
        if by == "mrn":
            people.get_patient_by_mrn(patient_mrn)  # NotFound when there is no such patient
        raise NotFound("That caregiver is not checked in to this session.", {"caregiver_id": "Not checked in."})
    removed = {row.id for row in rows}
    for obj in [o for o in db.session.identity_map.values() if isinstance(o, CheckIn)]:
        if sa.inspect(obj).identity[0] in removed:  # loaded before: gone now
            db.session.expunge(obj)
    if not audited:
        audit.record_all([{
            "action": "checkin.undo", "entity_type": "check_in", "entity_id": row.id, "session_id": session.id,
            "before": {"caregiver_id": row.caregiver_id, "patient_id": row.patient_id,
                       "checked_in_at": row.checked_in_at.isoformat(), "checked_in_by_id": row.checked_in_by_id},
            "after": after,
        } for row in sorted(rows, key=lambda r: r.id)])
    _after_attendance_change(session, rows[0].session_status if audited else None)
    return len(rows)


def set_present(session: ClassSession, patient: Patient, present: bool, user: User | None) -> bool:
    """Mark (or unmark) a patient as present at the session. Returns True if anything changed."""
    _require_open(session)
    mark = db.session.scalar(
        sa.select(PatientPresence).where(
            PatientPresence.session_id == session.id, PatientPresence.patient_id == patient.id
        )
    )
    if present and mark is None:
        try:
            with db.session.begin_nested():
                db.session.add(PatientPresence(session_id=session.id, patient_id=patient.id,
                                               marked_by_id=_actor_id(user)))
        except IntegrityError:
            return False
        audit.record("presence.mark", "patient", patient.id, session_id=session.id,
                     before={"present": False}, after={"present": True} | after_the_fact(session))
    elif not present and mark is not None:
        db.session.delete(mark)
        db.session.flush()
        audit.record("presence.unmark", "patient", patient.id, session_id=session.id,
                     before={"present": True}, after={"present": False} | after_the_fact(session))
    else:
        return False
    _after_attendance_change(session)
    return True


def _after_attendance_change(session: ClassSession, status: str | None = None) -> None:
    """Re-evaluate the session's billing if it is held: ``status`` as the change's own statement read it
    after the session's gate (PostgreSQL); else read again after the gate, or (SQLite, whose one writer
    read it under the write lock) as loaded."""
    if status is None and db.session.get_bind().dialect.name == "postgresql":
        billing.enter_gate([session.id], exclusive=False)
        status = db.session.scalar(sa.select(ClassSession.status).where(ClassSession.id == session.id))
    if (status or session.status) == SessionStatus.HELD:
        billing.facts_changed(session_ids=[session.id])
