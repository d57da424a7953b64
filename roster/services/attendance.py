"""Check-ins, patient-present marks, closing and re-opening sessions.

A check-in is unique per (session, caregiver, patient) in the database; a
second request for the same check-in (double tap, two desks, a retry)
finds the first one and answers calmly instead of failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from roster.domain.recurrence import local_to_utc, utc_to_local
from roster.domain.statuses import EnrollmentStatus, SessionStatus
from roster.extensions import db
from roster.models import (
    CheckIn,
    ClassSession,
    Facilitator,
    Patient,
    PatientPresence,
    User,
    mrn_key,
    utcnow,
)
from roster.services import Conflict, NotFound, ServiceError, audit, billing, clock, people
from roster.services import checkin_statements as statements
from roster.services.billing.locks import read_under_lock
from roster.services.checkin_people import Person, caregiver_and_patients, resolve_patient_for


@dataclass
class CheckInResult:
    checkin: sa.Row  # the check_in row (all its columns): made now (``created``), or the one that stood
    created: bool
    caregiver: Person
    patient: Person


def _actor_id(user: User | None) -> int | None:
    return user.id if user is not None and getattr(user, "is_authenticated", False) else None


def _require_open(session: ClassSession) -> None:
    if session.status == SessionStatus.CANCELLED:
        raise Conflict("This session was cancelled; nobody can be checked in.", {"session": "cancelled"})
    if timing(session) == LATER_DAY:
        day = clock.day_label(billing.date_of_service(session))
        raise Conflict(
            f"This session is on {day}, a later day: caregivers are checked in on the day they come.",
            {"session": f"Check-in opens on {day}."},
        )


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
    _require_open(session)
    caregiver, linked = caregiver_and_patients(caregiver_id, caregiver_rows)
    return _check_in_pair(session, caregiver, *resolve_patient_for(caregiver, linked, patient_mrn), user)


def check_in_for(session: ClassSession, caregiver_id: int, patient_id: int, user: User | None) -> CheckInResult:
    """The desk's check-in: the caregiver came for this patient (both by id, as the page sends them)."""
    _require_open(session)
    caregiver, linked = caregiver_and_patients(caregiver_id)
    for patient, relationship in linked:
        if patient.id == patient_id:
            return _check_in_pair(session, caregiver, patient, relationship, user)
    raise ServiceError(
        f"{caregiver.full_name} is not linked to that patient.",
        {"patient_id": "This caregiver is not linked to that patient."},
    )


def _check_in_pair(session: ClassSession, caregiver: Person, patient: Person, relationship: str | None,
                   user: User | None) -> CheckInResult:
    """One INSERT … ON CONFLICT DO NOTHING RETURNING: a second request for the same check-in (a
    double tap, another desk, a retried request) inserts nothing and finds the one that stands. On
    PostgreSQL the same statement writes its audit record, and answers with the check-in that stood
    (one round trip: ``checkin_statements.check_in_insert``)."""
    values = {  # the relationship as it is now: later link edits keep it (S9)
        "session_id": session.id, "caregiver_id": caregiver.id, "patient_id": patient.id,
        "checked_in_at": utcnow(), "checked_in_by_id": _actor_id(user), "relationship": relationship or "",
        "class_id": session.class_id, "enrolled": EnrollmentStatus.ENROLLED.value,
    }
    connection = db.session.connection()
    audited = connection.dialect.name == "postgresql"
    if audited:  # the record as audit.record_all writes it, for a walk-in and for an enrolled pair
        walk_in, enrolled = audit.event_rows([_created(session, caregiver, patient, kind, values["relationship"])
                                              for kind in (True, False)])
        values |= {"audit_at": walk_in["at"], "audit_actor_id": walk_in["actor_id"],
                   "audit_actor_label": walk_in["actor_label"], "audit_before": json.dumps(walk_in["before"]),
                   "after_walk_in": json.dumps(walk_in["after"]), "after_enrolled": json.dumps(enrolled["after"])}
    checkin = connection.execute(statements.check_in_insert(audited), values).first()
    if checkin is None or (audited and not checkin.created):
        return CheckInResult(checkin or _find_checkin(session.id, caregiver.id, patient.id), False, caregiver, patient)
    if not audited:  # written now, through Core: the ORM's unit of work cost more than the INSERT
        audit.record_all([_created(session, caregiver, patient, checkin.walk_in, checkin.relationship, checkin.id)])
    _after_attendance_change(session)
    return CheckInResult(checkin, True, caregiver, patient)


def _created(session: ClassSession, caregiver: Person, patient: Person, walk_in: bool, relationship: str,
             checkin_id: int | None = None) -> dict:
    """The audit record of a new check-in (``audit.record_all``'s event)."""
    return {"action": "checkin.create", "entity_type": "check_in", "entity_id": checkin_id, "session_id": session.id,
            "after": {"caregiver_id": caregiver.id, "patient_id": patient.id, "walk_in": walk_in,
                      "relationship": relationship} | after_the_fact(session)}


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
    _after_attendance_change(session)
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


def _after_attendance_change(session: ClassSession) -> None:
    if session.status == SessionStatus.HELD:
        billing.facts_changed(session_ids=[session.id])


# --------------------------------------------------------------------------- closing


CLOSE_AUDIT_FIELDS = ("status", "actual_facilitator_id", "actual_start", "actual_end")


def session_to_close(session_id: int, facilitator_id=None) -> ClassSession:
    """The session a close names (404 when there is none), read as `close_session` reads it: on
    PostgreSQL under its lock, its patients locked first, with its class and the facilitator named (one
    statement, `billing.lock_before_change`; the close then reads none of it again)."""
    billing.lock_before_change([session_id], facilitator_id=_named(facilitator_id))
    return read_under_lock(session_id) or db.get_or_404(ClassSession, session_id)


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
):
    """Record who ran the session and when; mark it held; evaluate its billing.

    ``started_at``/``ended_at`` are wall-clock times in the class's zone.
    Closing again replaces these facts and re-evaluates (R15, R16).
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
    # Through the relationship, so a caller that had loaded the old facilitator does not bill with it.
    session.actual_facilitator = facilitator
    session.actual_start, session.actual_end = start, end
    session.status = SessionStatus.HELD
    session.closed_at = utcnow()
    session.closed_by_id = _actor_id(user)
    if before["status"] != SessionStatus.HELD or session.held_timezone is None:
        billing.keep_class_facts(session)  # closing again keeps the facts it was held with (S8)
    session.sequence += 1 if before["status"] != SessionStatus.HELD else 0
    _replace_presence(session, {p.id for p in present}, user)
    db.session.flush()
    closed = {"action": "session.close", "entity_type": "class_session", "entity_id": session.id,
              "session_id": session.id, "before": before,
              "after": audit.snapshot(session, CLOSE_AUDIT_FIELDS) | {"patients_present": sorted(patients_present)}}
    # its audit record written with the lines' own; its facts as it stands (flushed, locked)
    billing.facts_changed(session_ids=[session.id], audit_events=[closed], written=[session])
    return session


def _replace_presence(session: ClassSession, patient_ids: set[int], user: User | None) -> None:
    """The session's patient-present marks become these patients'. Its marks are read as rows, as Core (a
    close usually changes none of them); one to remove is deleted by its id."""
    connection = db.session.connection()
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
        db.session.add(PatientPresence(session_id=session.id, patient_id=pid, marked_by_id=_actor_id(user)))
        audit.record("presence.mark", "patient", pid, session_id=session.id,
                     before={"present": False}, after={"present": True})


_MARKS = sa.select(PatientPresence.id, PatientPresence.patient_id).where(
    PatientPresence.session_id == sa.bindparam("session_id"))
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
