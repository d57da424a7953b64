"""Group classes: validating a class and its planned sessions, creating and updating it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from roster.domain.families import DEFAULT_TRAINING, TRAININGS
from roster.domain.recurrence import (
    MAX_DURATION,
    MIN_DURATION,
    InvalidRule,
    WeeklyRule,
    expand_weekly,
    local_to_utc,
)
from roster.domain.statuses import SessionStatus
from roster.domain.validators import session_window
from roster.extensions import db
from roster.models import MODALITIES, ClassSession, Facilitator, GroupClass
from roster.services import Conflict, ServiceError, audit
from roster.services.scheduling.conflicts import check_conflicts
from roster.services.scheduling.enrolment import _lock_class, promote_waiting, seats_taken
from roster.services.validation import (
    parse_date,
    parse_local,
    reject_unknown,
    require_object,
    tags,
    text,
    valid_timezone,
    whole_number,
)

CLASS_AUDIT_FIELDS = (
    "title", "needs", "room", "capacity", "facilitator_id", "timezone", "modality", "place_of_service",
    "training",
)
MAX_SESSIONS = 200


@dataclass(frozen=True)
class PlannedSession:
    starts_at: datetime  # aware UTC
    ends_at: datetime


@dataclass(frozen=True)
class NewClass:
    """What ``create_class`` made: the class and its sessions' ids in the order they were given."""

    group_class: GroupClass
    session_ids: list[int]


def validate_class(data: dict, *, partial: bool = False) -> dict[str, Any]:
    require_object(data)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def wants(key):
        return not partial or key in data

    if wants("title"):
        out["title"] = text(data, "title", errors, required=True, max_len=160, label="Title")
    if wants("needs"):
        out["needs"] = tags(data.get("needs"), "needs", errors, "Focus needs")
    if wants("capacity"):
        out["capacity"] = whole_number(data.get("capacity"), "capacity", errors, "Capacity", 1, 500)
    if wants("room"):
        out["room"] = text(data, "room", errors, required=False, max_len=80, label="Room") or ""
    if wants("facilitator_id"):
        fid = data.get("facilitator_id")
        if fid in (None, ""):
            out["facilitator_id"] = None
        elif not isinstance(fid, int) or db.session.get(Facilitator, fid) is None:
            errors["facilitator_id"] = "No such facilitator."
        else:
            out["facilitator_id"] = fid
    if wants("timezone"):
        tz = data.get("timezone")
        if not valid_timezone(tz):
            errors["timezone"] = "Time zone must be an IANA name such as America/Chicago."
        out["timezone"] = tz
    if wants("modality"):
        modality = data.get("modality", "in_person")
        if modality not in MODALITIES:
            errors["modality"] = "Modality must be in_person or telehealth."
        out["modality"] = modality
    if wants("place_of_service"):
        pos = data.get("place_of_service")
        if pos in (None, ""):
            pos = "02" if out.get("modality") == "telehealth" else "11"
        if not isinstance(pos, str) or not re.fullmatch(r"\d{2}", pos):
            errors["place_of_service"] = "Place of service is a two-digit code such as 11."
        out["place_of_service"] = pos
    if wants("training"):
        training = data.get("training") or DEFAULT_TRAINING
        if training not in TRAININGS:
            errors["training"] = f"Training must be one of {', '.join(TRAININGS)}."
        out["training"] = training
    reject_unknown(data, {"title", "needs", "capacity", "room", "facilitator_id", "timezone", "modality",
                          "place_of_service", "training", "sessions", "recurrence"}, errors)
    if errors:
        raise ServiceError("Some class fields are not valid.", errors)
    return out


def plan_sessions(data: dict, tz: str) -> list[PlannedSession]:
    """Sessions from the explicit list and/or a weekly rule, in the given order."""
    errors: dict[str, str] = {}
    planned: list[PlannedSession] = []
    sessions = data.get("sessions") or []
    if not isinstance(sessions, list):
        raise ServiceError("Sessions must be a list.", {"sessions": "Expected a list."})
    for i, item in enumerate(sessions):
        if not isinstance(item, dict):
            errors[f"sessions[{i}]"] = "Each session needs starts_at and duration_minutes."
            continue
        start = parse_local(item.get("starts_at"), f"sessions[{i}].starts_at", errors, "Start")
        minutes = whole_number(item.get("duration_minutes"), f"sessions[{i}].duration_minutes", errors,
                       "Duration", MIN_DURATION, MAX_DURATION)
        if start and minutes:
            begin = local_to_utc(start, tz)
            planned.append(PlannedSession(begin, begin + timedelta(minutes=minutes)))
    rule = data.get("recurrence")
    if rule:
        planned.extend(_expand_rule(rule, tz, errors))
    if len(planned) > MAX_SESSIONS:
        errors["sessions"] = f"At most {MAX_SESSIONS} sessions at once."
    if errors:
        raise ServiceError("Some sessions are not valid.", errors)
    return planned


def _expand_rule(rule: Any, tz: str, errors: dict) -> list[PlannedSession]:
    if not isinstance(rule, dict):
        errors["recurrence"] = "Recurrence must be an object."
        return []
    weekdays = rule.get("weekdays")
    if not isinstance(weekdays, list) or not all(isinstance(d, int) for d in weekdays):
        errors["recurrence.weekdays"] = "Weekdays must be a list of numbers, 0 = Monday."
        return []
    try:
        start_time = time.fromisoformat(str(rule.get("start_time", "")))
    except ValueError:
        errors["recurrence.start_time"] = "Start time must be HH:MM."
        return []
    first = parse_date(rule.get("first_date"), "recurrence.first_date", errors, "First date", session_window)
    until = parse_date(rule.get("until"), "recurrence.until", errors, "End date", session_window)
    if first is None:
        errors.setdefault("recurrence.first_date", "First date is required.")
        return []
    weekly = WeeklyRule(
        weekdays=frozenset(weekdays),
        start_time=start_time,
        duration_minutes=rule.get("duration_minutes"),
        first_date=first,
        count=rule.get("count"),
        until=until,
    )
    try:
        occurrences = expand_weekly(weekly, tz, limit=MAX_SESSIONS)
    except InvalidRule as exc:
        for key, why in exc.fields.items():
            errors[f"recurrence.{key}"] = why
        return []
    return [PlannedSession(o.starts_at, o.ends_at) for o in occurrences]


def _validate_new_class(data: dict) -> tuple[dict[str, Any], list[PlannedSession]]:
    """The class's fields and its planned sessions; the errors of both are reported together."""
    require_object(data)
    errors: dict[str, str] = {}
    message = None
    clean: dict[str, Any] = {}
    planned: list[PlannedSession] = []
    try:
        clean = validate_class(data)
    except ServiceError as exc:
        errors, message = dict(exc.fields), exc.message
    tz = data.get("timezone")
    try:
        planned = plan_sessions(data, tz if valid_timezone(tz) else "UTC")
    except ServiceError as exc:
        errors.update(exc.fields)
        message = message or exc.message
    if errors:
        raise ServiceError(message, errors)
    return clean, planned


def create_class(data: dict) -> NewClass:
    clean, planned = _validate_new_class(data)
    check_conflicts([(p.starts_at, p.ends_at, clean["room"], clean["facilitator_id"]) for p in planned])
    group_class = GroupClass(**clean)
    db.session.add(group_class)
    db.session.flush()
    session_rows = [
        ClassSession(class_id=group_class.id, starts_at=p.starts_at, ends_at=p.ends_at) for p in planned
    ]
    db.session.add_all(session_rows)
    db.session.flush()
    audit.record(
        "class.create", "group_class", group_class.id,
        after=audit.snapshot(group_class, CLASS_AUDIT_FIELDS) | {"sessions": len(session_rows)},
    )
    return NewClass(group_class, [s.id for s in session_rows])


def update_class(group_class: GroupClass, data: dict) -> GroupClass:
    clean = validate_class(data, partial=True)
    if "capacity" in clean and clean["capacity"] is not None:
        _lock_class(group_class.id)  # seats are counted and promoted under the class's lock
        used = seats_taken(group_class.id)
        if clean["capacity"] < used:
            raise ServiceError(
                f"{used} seats are already taken; withdraw sets before lowering capacity below that.",
                {"capacity": f"At least {used}: {used} seats are taken; withdraw sets to go lower."},
            )
    if {"room", "facilitator_id"} & set(clean):
        future = [s for s in group_class.sessions if s.status == SessionStatus.SCHEDULED]
        room = clean.get("room", group_class.room)
        fid = clean.get("facilitator_id", group_class.facilitator_id)
        check_conflicts(
            [(s.starts_at, s.ends_at, s.room if s.room is not None else room,
              s.facilitator_id if s.facilitator_id is not None else fid) for s in future],
            ignore_ids=[s.id for s in group_class.sessions],
        )
    old_capacity = group_class.capacity
    group_class.promoted = []  # waiting sets moved in because seats were added
    if audit.apply_changes(group_class, clean, CLASS_AUDIT_FIELDS, "class.update", "group_class"):
        for s in group_class.sessions:
            s.sequence += 1
        # Held sessions keep the class facts they were held with (S8): nothing to re-bill.
        if group_class.capacity > old_capacity:
            group_class.promoted = promote_waiting(_lock_class(group_class.id))
    return group_class


# --------------------------------------------------------------------------- removing a class made by mistake


def has_attendance(group_class: GroupClass) -> bool:
    """Whether anything happened in the class: a check-in, a patient marked present, a held session or a line."""
    from roster.models import BillingLine, CheckIn, PatientPresence

    session_ids = sa.select(ClassSession.id).where(ClassSession.class_id == group_class.id)
    if db.session.scalar(sa.select(ClassSession.id).where(ClassSession.class_id == group_class.id,
                                                          ClassSession.status == SessionStatus.HELD).limit(1)):
        return True
    return any(
        db.session.scalar(sa.select(model.id).where(model.session_id.in_(session_ids)).limit(1)) is not None
        for model in (CheckIn, PatientPresence, BillingLine)
    )


def delete_class(group_class: GroupClass) -> None:
    """Delete a class that never had attendance, with its sessions and enrolments (audited)."""
    from roster.models import Enrollment, EnrollmentCaregiver, Finding

    _lock_class(group_class.id)
    if has_attendance(group_class):
        raise Conflict(
            f"“{group_class.title}” has attendance, so it cannot be deleted; archive it instead.",
            {"class": "Has attendance."},
        )
    before = audit.snapshot(group_class, CLASS_AUDIT_FIELDS) | {"sessions": len(group_class.sessions)}
    session_ids = sa.select(ClassSession.id).where(ClassSession.class_id == group_class.id)
    enrollment_ids = sa.select(Enrollment.id).where(Enrollment.class_id == group_class.id)
    db.session.execute(sa.delete(Finding).where(Finding.session_id.in_(session_ids)))
    db.session.execute(sa.delete(EnrollmentCaregiver).where(EnrollmentCaregiver.enrollment_id.in_(enrollment_ids)))
    db.session.execute(sa.delete(Enrollment).where(Enrollment.class_id == group_class.id))
    db.session.execute(sa.delete(ClassSession).where(ClassSession.class_id == group_class.id))
    class_id = group_class.id
    db.session.execute(sa.delete(GroupClass).where(GroupClass.id == class_id))
    db.session.expire_all()
    audit.record("class.delete", "group_class", class_id, before=before)


def archive_class(group_class: GroupClass, now: datetime) -> int:
    """Archive a class (kept with its attendance, off the lists); its sessions still to come (and not
    attended yet) are cancelled.

    Returns how many sessions were cancelled.
    """
    from roster.services.scheduling.sessions import cancel_session

    _lock_class(group_class.id)
    if group_class.archived_at is not None:
        return 0
    from roster.models import CheckIn, PatientPresence

    attended = {sid for model in (CheckIn, PatientPresence) for sid in db.session.scalars(
        sa.select(model.session_id).join(ClassSession, ClassSession.id == model.session_id)
        .where(ClassSession.class_id == group_class.id))}
    cancelled = 0
    for session in group_class.sessions:
        if session.status == SessionStatus.SCHEDULED and session.starts_at > now and session.id not in attended:
            cancel_session(session, "The class was archived.")
            cancelled += 1
    group_class.archived_at = now
    db.session.flush()
    audit.record("class.archive", "group_class", group_class.id, before={"archived": False},
                 after={"archived": True, "sessions_cancelled": cancelled})
    return cancelled
