"""Classes, sessions and enrolment (capacity in caregiver seats, waitlist)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.recurrence import (
    InvalidRule,
    WeeklyRule,
    expand_weekly,
    local_to_utc,
    overlaps,
    utc_to_local,
)
from roster.extensions import db
from roster.models import (
    MODALITIES,
    Caregiver,
    CaregiverLink,
    ClassSession,
    Enrollment,
    EnrollmentCaregiver,
    Facilitator,
    GroupClass,
    Patient,
)
from roster.services import Conflict, NotFound, ServiceError, audit
from roster.services.people import _tags, _text, parse_date, reject_unknown

CLASS_AUDIT_FIELDS = (
    "title", "needs", "room", "capacity", "facilitator_id", "timezone", "modality", "place_of_service",
)
SESSION_AUDIT_FIELDS = ("starts_at", "ends_at", "room", "facilitator_id", "status", "cancel_reason")
MAX_SESSIONS = 200


@dataclass(frozen=True)
class PlannedSession:
    starts_at: datetime  # aware UTC
    ends_at: datetime


# --------------------------------------------------------------------------- parsing


def parse_local(value: Any, key: str, errors: dict, label: str) -> datetime | None:
    """A wall-clock `YYYY-MM-DDTHH:MM` (no offset)."""
    if not isinstance(value, str) or not value.strip():
        errors[key] = f"{label} is required (YYYY-MM-DDTHH:MM)."
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        errors[key] = f"{label} must be a local time written YYYY-MM-DDTHH:MM."
        return None
    if moment.tzinfo is not None:
        errors[key] = f"{label} is a wall-clock time in the class's time zone; leave out the offset."
        return None
    return moment


def valid_timezone(name: Any) -> bool:
    if not isinstance(name, str) or "/" not in name:
        return False
    try:
        ZoneInfo(name)
    except Exception:
        return False
    return name in _zones()


_ZONES: set[str] | None = None


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


def _int(value: Any, key: str, errors: dict, label: str, lo: int, hi: int) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        errors[key] = f"{label} must be a whole number."
        return None
    if not lo <= value <= hi:
        errors[key] = f"{label} must be between {lo} and {hi}."
        return None
    return value


def validate_class(data: dict, *, partial: bool = False) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ServiceError("Send a JSON object.", {"body": "Expected an object."})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def wants(key):
        return not partial or key in data

    if wants("title"):
        out["title"] = _text(data, "title", errors, required=True, max_len=160, label="Title")
    if wants("needs"):
        out["needs"] = _tags(data.get("needs"), "needs", errors, "Focus needs")
    if wants("capacity"):
        out["capacity"] = _int(data.get("capacity"), "capacity", errors, "Capacity", 1, 500)
    if wants("room"):
        out["room"] = _text(data, "room", errors, required=False, max_len=80, label="Room") or ""
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
    reject_unknown(data, {"title", "needs", "capacity", "room", "facilitator_id", "timezone", "modality",
                          "place_of_service", "sessions", "recurrence"}, errors)
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
        minutes = _int(item.get("duration_minutes"), f"sessions[{i}].duration_minutes", errors,
                       "Duration", 5, 600)
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
    first = parse_date(rule.get("first_date"), "recurrence.first_date", errors, "First date")
    until = parse_date(rule.get("until"), "recurrence.until", errors, "End date")
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


# --------------------------------------------------------------------------- conflicts


def find_conflict(
    starts_at: datetime,
    ends_at: datetime,
    room: str,
    facilitator_id: int | None,
    ignore_ids: Iterable[int] = (),
) -> str | None:
    """A message naming the other session when the room or facilitator is already booked."""
    ignore = set(ignore_ids)
    candidates = db.session.scalars(
        sa.select(ClassSession)
        .join(ClassSession.group_class)
        .options(selectinload(ClassSession.group_class).selectinload(GroupClass.facilitator),
                 selectinload(ClassSession.planned_facilitator))
        .where(
            ClassSession.status != "cancelled",
            ClassSession.starts_at < ends_at,
            ClassSession.ends_at > starts_at,
        )
        .order_by(ClassSession.starts_at)
    )
    room_key = (room or "").strip().lower()
    for other in candidates:
        if other.id in ignore or not overlaps(starts_at, ends_at, other.starts_at, other.ends_at):
            continue
        when = _describe(other)
        if room_key and other.effective_room.strip().lower() == room_key:
            return f"{room} is already booked by {when}."
        if facilitator_id is not None and other.effective_facilitator_id == facilitator_id:
            name = (other.planned_facilitator or other.group_class.facilitator).name
            return f"{name} is already facilitating {when}."
    return None


def _describe(session: ClassSession) -> str:
    cls = session.group_class
    local = utc_to_local(session.starts_at, cls.timezone)
    end = utc_to_local(session.ends_at, cls.timezone)
    return f"“{cls.title}” on {local:%a %d %b %Y} {local:%H:%M}–{end:%H:%M}"


def _check_conflicts(planned: list[tuple[datetime, datetime, str, int | None]], ignore_ids=()) -> None:
    problems = []
    for i, (start, end, room, fid) in enumerate(planned):
        message = find_conflict(start, end, room, fid, ignore_ids)
        if message is None:
            for j, (s2, e2, r2, f2) in enumerate(planned[:i]):
                if overlaps(start, end, s2, e2) and (
                    (room and r2 and room.lower() == r2.lower()) or (fid is not None and fid == f2)
                ):
                    message = "Two of the new sessions overlap each other."
                    break
        if message:
            problems.append(message)
    if problems:
        raise Conflict(problems[0], {"sessions": " ".join(dict.fromkeys(problems))})


# --------------------------------------------------------------------------- classes and sessions


def _validate_new_class(data: dict) -> tuple[dict[str, Any], list[PlannedSession]]:
    """The class's fields and its planned sessions; the errors of both are reported together."""
    if not isinstance(data, dict):
        raise ServiceError("Send a JSON object.", {"body": "Expected an object."})
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


def create_class(data: dict) -> GroupClass:
    clean, planned = _validate_new_class(data)
    _check_conflicts([(p.starts_at, p.ends_at, clean["room"], clean["facilitator_id"]) for p in planned])
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
    group_class.created_session_ids = [s.id for s in session_rows]  # in the order given
    return group_class


def update_class(group_class: GroupClass, data: dict) -> GroupClass:
    clean = validate_class(data, partial=True)
    if "capacity" in clean and clean["capacity"] is not None:
        used = seats_taken(group_class.id)
        if clean["capacity"] < used:
            raise ServiceError(
                f"{used} seats are already taken; withdraw sets before lowering capacity below that.",
                {"capacity": f"At least {used}: {used} seats are taken; withdraw sets to go lower."},
            )
    if {"room", "facilitator_id"} & set(clean):
        future = [s for s in group_class.sessions if s.status == "scheduled"]
        room = clean.get("room", group_class.room)
        fid = clean.get("facilitator_id", group_class.facilitator_id)
        _check_conflicts(
            [(s.starts_at, s.ends_at, s.room if s.room is not None else room,
              s.facilitator_id if s.facilitator_id is not None else fid) for s in future],
            ignore_ids=[s.id for s in group_class.sessions],
        )
    if audit.apply_changes(group_class, clean, CLASS_AUDIT_FIELDS, "class.update", "group_class"):
        for s in group_class.sessions:
            s.sequence += 1
        from roster.services import billing

        billing.reevaluate_sessions([s.id for s in group_class.sessions if s.status == "held"])
    return group_class


def add_session(group_class: GroupClass, local_start: datetime, duration_minutes: int) -> ClassSession:
    errors: dict[str, str] = {}
    if not 5 <= (duration_minutes or 0) <= 600:
        errors["duration_minutes"] = "Duration must be between 5 and 600 minutes."
    if errors:
        raise ServiceError("The session is not valid.", errors)
    start = local_to_utc(local_start, group_class.timezone)
    end = start + timedelta(minutes=duration_minutes)
    _check_conflicts([(start, end, group_class.room, group_class.facilitator_id)])
    session = ClassSession(class_id=group_class.id, starts_at=start, ends_at=end)
    db.session.add(session)
    db.session.flush()
    audit.record("session.create", "class_session", session.id, session_id=session.id,
                 after=audit.snapshot(session, SESSION_AUDIT_FIELDS))
    return session


def edit_session(
    session: ClassSession,
    *,
    local_start: datetime,
    duration_minutes: int,
    room: str | None,
    facilitator_id: int | None,
    scope: str = "this",
) -> list[ClassSession]:
    """Move or re-staff one session, or this one and the following scheduled ones of its class.

    With ``following``, later sessions keep their own dates and take the same
    shift in start time and the same duration, room and facilitator.
    """
    if session.status != "scheduled":
        raise ServiceError("Only a scheduled session can be changed; re-open it first.",
                           {"session": "Not scheduled."})
    if scope not in ("this", "following"):
        raise ServiceError("Choose this session or this and following.", {"scope": "Unknown scope."})
    if not 5 <= (duration_minutes or 0) <= 600:
        raise ServiceError("The session is not valid.", {"duration_minutes": "Between 5 and 600 minutes."})
    if facilitator_id is not None and db.session.get(Facilitator, facilitator_id) is None:
        raise ServiceError("The session is not valid.", {"facilitator_id": "No such facilitator."})
    cls = session.group_class
    tz = cls.timezone
    old_local = utc_to_local(session.starts_at, tz)
    day_shift = local_start.date() - old_local.date()
    targets = [session]
    if scope == "following":
        targets = [s for s in cls.sessions if s.status == "scheduled" and s.starts_at >= session.starts_at]
    plans = []
    for target in targets:
        base = utc_to_local(target.starts_at, tz)
        new_local = datetime.combine(base.date() + day_shift, local_start.time())
        start = local_to_utc(new_local, tz)
        end = start + timedelta(minutes=duration_minutes)
        eff_room = room if room is not None else cls.room
        eff_fid = facilitator_id if facilitator_id is not None else cls.facilitator_id
        plans.append((target, start, end, eff_room, eff_fid))
    _check_conflicts([(s, e, r, f) for _, s, e, r, f in plans], ignore_ids=[t.id for t in targets])
    for target, start, end, _, _ in plans:
        before = audit.snapshot(target, SESSION_AUDIT_FIELDS)
        target.starts_at, target.ends_at = start, end
        target.room = room if room and room != cls.room else None
        target.facilitator_id = facilitator_id if facilitator_id != cls.facilitator_id else None
        after = audit.snapshot(target, SESSION_AUDIT_FIELDS)
        if before != after:
            target.sequence += 1
            audit.record("session.update", "class_session", target.id, session_id=target.id,
                         before=before, after=after)
    db.session.flush()
    return targets


def cancel_session(session: ClassSession, reason: str) -> ClassSession:
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ServiceError("Say why the session is cancelled.", {"reason": "A reason is required."})
    if len(reason) > 300:
        raise ServiceError("The reason is too long.", {"reason": "At most 300 characters."})
    if session.status == "cancelled":
        return session
    was_held = session.status == "held"
    before = audit.snapshot(session, SESSION_AUDIT_FIELDS)
    session.status = "cancelled"
    session.cancel_reason = reason
    session.sequence += 1
    db.session.flush()
    audit.record("session.cancel", "class_session", session.id, session_id=session.id,
                 before=before, after=audit.snapshot(session, SESSION_AUDIT_FIELDS))
    if was_held:
        # Recorded as held by mistake: its lines go (R13); exported ones are voided (R16).
        from roster.services import billing

        billing.reevaluate_sessions([session.id])
    return session


def get_session(session_id: int) -> ClassSession:
    session = db.session.get(ClassSession, session_id)
    if session is None:
        raise NotFound(f"No session {session_id}.")
    return session


# --------------------------------------------------------------------------- enrolment


def seats_taken(class_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(EnrollmentCaregiver.id))
        .join(Enrollment, Enrollment.id == EnrollmentCaregiver.enrollment_id)
        .where(Enrollment.class_id == class_id, Enrollment.status == "enrolled")
    ) or 0


def _lock_class(class_id: int) -> GroupClass:
    """Serialise enrolment changes of one class (PostgreSQL row lock; SQLite locks the file)."""
    stmt = sa.select(GroupClass).where(GroupClass.id == class_id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    group_class = db.session.scalars(stmt).first()
    if group_class is None:
        raise NotFound(f"No class {class_id}.")
    return group_class


@dataclass
class EnrollResult:
    enrollment: Enrollment
    status: str
    warnings: list[str]


def enroll(class_id: int, patient: Patient, caregiver_ids: list[int]) -> EnrollResult:
    group_class = _lock_class(class_id)
    errors = {}
    if not isinstance(caregiver_ids, list) or not caregiver_ids or not all(
        isinstance(c, int) and not isinstance(c, bool) for c in caregiver_ids
    ):
        errors["caregiver_ids"] = "Choose at least one caregiver."
        raise ServiceError("The caregiver set is not valid.", errors)
    ids = list(dict.fromkeys(caregiver_ids))
    if len(ids) > group_class.capacity:
        raise ServiceError(
            f"The set has {len(ids)} caregivers; the class seats {group_class.capacity}.",
            {"caregiver_ids": "More caregivers than the class has seats."},
        )
    linked = set(
        db.session.scalars(
            sa.select(CaregiverLink.caregiver_id).where(
                CaregiverLink.patient_id == patient.id, CaregiverLink.caregiver_id.in_(ids)
            )
        )
    )
    missing = [c for c in ids if c not in linked]
    if missing:
        known = set(db.session.scalars(sa.select(Caregiver.id).where(Caregiver.id.in_(missing))))
        unknown = [c for c in missing if c not in known]
        why = (f"No caregiver with id {', '.join(map(str, unknown))}." if unknown else
               f"Caregiver {', '.join(map(str, missing))} is not linked to {patient.full_name}.")
        raise ServiceError("The caregiver set is not valid.", {"caregiver_ids": why})
    existing = db.session.scalar(
        sa.select(Enrollment).where(Enrollment.class_id == class_id, Enrollment.patient_id == patient.id)
    )
    if existing is not None and existing.status != "withdrawn":
        raise Conflict(
            f"{patient.full_name} is already {existing.status} in this class; a patient is in a class once.",
            {"patient_mrn": "Already in this class."},
        )
    free = group_class.capacity - seats_taken(class_id)
    status = "enrolled" if len(ids) <= free else "waitlisted"
    position = 0
    if status == "waitlisted":
        position = (db.session.scalar(
            sa.select(sa.func.max(Enrollment.position)).where(
                Enrollment.class_id == class_id, Enrollment.status == "waitlisted")
        ) or 0) + 1
    if existing is None:
        enrollment = Enrollment(class_id=class_id, patient_id=patient.id, status=status, position=position)
        db.session.add(enrollment)
    else:
        enrollment = existing
        enrollment.status, enrollment.position, enrollment.withdrawn_at = status, position, None
        enrollment.members.clear()
        db.session.flush()
    for cid in ids:
        enrollment.members.append(EnrollmentCaregiver(caregiver_id=cid))
    db.session.flush()
    warnings = []
    class_needs = set(group_class.needs or [])
    if class_needs and not class_needs & set(patient.needs or []):
        warnings.append(
            f"{patient.full_name}'s needs ({', '.join(patient.needs) or 'none recorded'}) share nothing "
            f"with this class's focus ({', '.join(group_class.needs)}). Billing will flag NEEDS_MISMATCH."
        )
    audit.record(
        "enrollment.create", "enrollment", enrollment.id,
        after={"class_id": class_id, "patient_id": patient.id, "caregiver_ids": ids, "status": status,
               "position": position},
    )
    return EnrollResult(enrollment, status, warnings)


def withdraw(enrollment: Enrollment, now: datetime) -> list[Enrollment]:
    """Withdraw a set; promote the first waiting sets that now fit. Returns the promoted."""
    group_class = _lock_class(enrollment.class_id)
    if enrollment.status == "withdrawn":
        return []
    before = {"status": enrollment.status, "position": enrollment.position}
    enrollment.status, enrollment.withdrawn_at, enrollment.position = "withdrawn", now, 0
    db.session.flush()
    audit.record("enrollment.withdraw", "enrollment", enrollment.id, before=before,
                 after={"status": "withdrawn"})
    return promote_waiting(group_class)


def promote_waiting(group_class: GroupClass) -> list[Enrollment]:
    free = group_class.capacity - seats_taken(group_class.id)
    waiting = db.session.scalars(
        sa.select(Enrollment)
        .options(selectinload(Enrollment.members))
        .where(Enrollment.class_id == group_class.id, Enrollment.status == "waitlisted")
        .order_by(Enrollment.position, Enrollment.id)
    ).all()
    promoted = []
    for candidate in waiting:
        if candidate.seats <= free:
            free -= candidate.seats
            candidate.status, candidate.position = "enrolled", 0
            promoted.append(candidate)
            audit.record("enrollment.promote", "enrollment", candidate.id,
                         before={"status": "waitlisted"}, after={"status": "enrolled"})
    db.session.flush()
    return promoted


def class_roster(class_id: int) -> list[Enrollment]:
    """Enrolments of a class with patient and caregivers loaded, in a fixed number of queries."""
    return list(
        db.session.scalars(
            sa.select(Enrollment)
            .options(
                selectinload(Enrollment.patient),
                selectinload(Enrollment.members).selectinload(EnrollmentCaregiver.caregiver),
            )
            .where(Enrollment.class_id == class_id)
            .order_by(Enrollment.status, Enrollment.position, Enrollment.id)
        )
    )


def sessions_between(start: datetime, end: datetime) -> list[ClassSession]:
    return list(
        db.session.scalars(
            sa.select(ClassSession)
            .options(
                selectinload(ClassSession.group_class).selectinload(GroupClass.facilitator),
                selectinload(ClassSession.planned_facilitator),
                selectinload(ClassSession.actual_facilitator),
            )
            .where(ClassSession.starts_at < end, ClassSession.ends_at > start)
            .order_by(ClassSession.starts_at, ClassSession.id)
        )
    )


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    start = local_to_utc(datetime.combine(day, time(0, 0)), tz)
    end = local_to_utc(datetime.combine(day + timedelta(days=1), time(0, 0)), tz)
    return start, end


# --------------------------------------------------------------------------- pages (read-only, bounded queries)


@dataclass(frozen=True)
class ClassSummary:
    group_class: GroupClass  # facilitator loaded
    next_start: datetime | None  # the next scheduled session not yet over
    seats_taken: int
    waiting: int  # waitlisted sets


def class_summaries(now: datetime) -> list[ClassSummary]:
    """Every class with its next session, seats taken and waitlist, in five queries.

    Classes with a session to come are listed first, soonest first; the others by title.
    """
    classes = db.session.scalars(
        sa.select(GroupClass).options(selectinload(GroupClass.facilitator)).order_by(GroupClass.title)
    ).all()
    next_start = dict(db.session.execute(
        sa.select(ClassSession.class_id, sa.func.min(ClassSession.starts_at))
        .where(ClassSession.status == "scheduled", ClassSession.ends_at > now)
        .group_by(ClassSession.class_id)
    ).all())
    seats = dict(db.session.execute(
        sa.select(Enrollment.class_id, sa.func.count(EnrollmentCaregiver.id))
        .join(EnrollmentCaregiver, EnrollmentCaregiver.enrollment_id == Enrollment.id)
        .where(Enrollment.status == "enrolled")
        .group_by(Enrollment.class_id)
    ).all())
    waiting = dict(db.session.execute(
        sa.select(Enrollment.class_id, sa.func.count(Enrollment.id))
        .where(Enrollment.status == "waitlisted")
        .group_by(Enrollment.class_id)
    ).all())
    summaries = [
        ClassSummary(c, next_start.get(c.id), seats.get(c.id, 0), waiting.get(c.id, 0)) for c in classes
    ]
    return sorted(summaries, key=lambda s: (s.next_start is None, s.next_start or now))


@dataclass(frozen=True)
class ClassPage:
    group_class: GroupClass  # facilitator and sessions (with their planned facilitator) loaded
    enrolled: list[Enrollment]  # patient and caregivers loaded
    waitlisted: list[Enrollment]  # in waitlist order

    @property
    def seats_taken(self) -> int:
        return sum(e.seats for e in self.enrolled)

    @property
    def seats_left(self) -> int:
        return max(0, self.group_class.capacity - self.seats_taken)

    def status_of(self, patient_id: int) -> str | None:
        """'enrolled' or 'waitlisted' when the patient is in the class."""
        for enrollment in (*self.enrolled, *self.waitlisted):
            if enrollment.patient_id == patient_id:
                return enrollment.status
        return None


def class_page(class_id: int) -> ClassPage:
    """A class, its sessions and its caregiver sets, in a fixed number of queries."""
    group_class = db.session.scalar(
        sa.select(GroupClass)
        .options(
            selectinload(GroupClass.facilitator),
            selectinload(GroupClass.sessions).selectinload(ClassSession.planned_facilitator),
        )
        .where(GroupClass.id == class_id)
    )
    if group_class is None:
        raise NotFound(f"No class {class_id}.")
    roster = class_roster(class_id)
    return ClassPage(
        group_class,
        enrolled=[e for e in roster if e.status == "enrolled"],
        waitlisted=sorted((e for e in roster if e.status == "waitlisted"), key=lambda e: (e.position, e.id)),
    )


def patient_for_enrolment(patient_id: int) -> Patient:
    """A patient with their caregiver links and caregivers loaded."""
    patient = db.session.scalar(
        sa.select(Patient)
        .options(selectinload(Patient.links).selectinload(CaregiverLink.caregiver))
        .where(Patient.id == patient_id)
    )
    if patient is None:
        raise NotFound(f"No patient {patient_id}.", {"patient_id": "Unknown patient."})
    return patient
