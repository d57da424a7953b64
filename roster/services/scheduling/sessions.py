"""Sessions of a class: add, move or re-staff, cancel, and look them up."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from roster.domain.recurrence import MAX_DURATION, MIN_DURATION, local_to_utc, utc_to_local
from roster.domain.statuses import SessionStatus
from roster.domain.validators import session_window
from roster.extensions import db
from roster.models import ClassSession, Facilitator, GroupClass
from roster.services import ServiceError, audit, billing
from roster.services.rows import one
from roster.services.scheduling.conflicts import check_conflicts
from roster.services.validation import within

SESSION_AUDIT_FIELDS = ("starts_at", "ends_at", "room", "facilitator_id", "status", "cancel_reason")


def add_session(group_class: GroupClass, local_start: datetime, duration_minutes: int) -> ClassSession:
    errors: dict[str, str] = {}
    if not MIN_DURATION <= (duration_minutes or 0) <= MAX_DURATION:
        errors["duration_minutes"] = f"Duration must be between {MIN_DURATION} and {MAX_DURATION} minutes."
    within(local_start.date(), session_window, "date", errors, "The date")
    if errors:
        raise ServiceError("The session is not valid.", errors)
    start = local_to_utc(local_start, group_class.timezone)
    end = start + timedelta(minutes=duration_minutes)
    check_conflicts([(start, end, group_class.room, group_class.facilitator_id)])
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
    if session.status != SessionStatus.SCHEDULED:
        raise ServiceError("Only a scheduled session can be changed; re-open it first.",
                           {"session": "Not scheduled."})
    if scope not in ("this", "following"):
        raise ServiceError("Choose this session or this and following.", {"scope": "Unknown scope."})
    if not MIN_DURATION <= (duration_minutes or 0) <= MAX_DURATION:
        raise ServiceError("The session is not valid.",
                           {"duration_minutes": f"Between {MIN_DURATION} and {MAX_DURATION} minutes."})
    if facilitator_id is not None and db.session.get(Facilitator, facilitator_id) is None:
        raise ServiceError("The session is not valid.", {"facilitator_id": "No such facilitator."})
    errors: dict[str, str] = {}
    if not within(local_start.date(), session_window, "date", errors, "The date"):
        raise ServiceError("The session is not valid.", errors)
    cls = session.group_class
    tz = cls.timezone
    old_local = utc_to_local(session.starts_at, tz)
    day_shift = local_start.date() - old_local.date()
    targets = [session]
    if scope == "following":
        targets = [s for s in cls.sessions if s.status == SessionStatus.SCHEDULED and s.starts_at >= session.starts_at]
    plans = []
    for target in targets:
        base = utc_to_local(target.starts_at, tz)
        new_local = datetime.combine(base.date() + day_shift, local_start.time())
        start = local_to_utc(new_local, tz)
        end = start + timedelta(minutes=duration_minutes)
        eff_room = room if room is not None else cls.room
        eff_fid = facilitator_id if facilitator_id is not None else cls.facilitator_id
        plans.append((target, start, end, eff_room, eff_fid))
    check_conflicts([(s, e, r, f) for _, s, e, r, f in plans], ignore_ids=[t.id for t in targets])
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
    billing.lock_before_change([session.id])  # read again under the lock: another desk may have just changed it
    if session.status == SessionStatus.CANCELLED:
        return session
    was_held = session.status == SessionStatus.HELD
    before = audit.snapshot(session, SESSION_AUDIT_FIELDS)
    session.status = SessionStatus.CANCELLED
    session.cancel_reason = reason
    session.sequence += 1
    db.session.flush()
    audit.record("session.cancel", "class_session", session.id, session_id=session.id,
                 before=before, after=audit.snapshot(session, SESSION_AUDIT_FIELDS))
    if was_held:
        # Recorded as held by mistake: its lines go (R13); exported ones are voided (R16);
        # a later session of that day loses a duplicate warning it owed to this one (S3).
        billing.forget_class_facts(session)
        billing.facts_changed(session_ids=[session.id])
    return session


def get_session(session_id: int) -> ClassSession:
    return one(ClassSession, session_id)

def overlapping(start: datetime, end: datetime) -> list[sa.ColumnElement[bool]]:
    """Where a session overlaps [start, end). A session lasts at most MAX_DURATION minutes (every writer
    checks it), so one overlapping ``start`` began less than that before it: the lower bound lets the
    index on ``starts_at`` read the day's sessions only, not every session before ``end`` (a year: 13,000)."""
    bounds = overlap_params(start, end)
    return _overlap(bounds["start"], bounds["end"], bounds["earliest"])


def overlapping_bound() -> list[sa.ColumnElement[bool]]:
    """``overlapping`` with the bounds left as bound values (``:start``, ``:end``, ``:earliest``), for a
    statement built once and run with ``overlap_params(start, end)``."""
    return _overlap(sa.bindparam("start"), sa.bindparam("end"), sa.bindparam("earliest"))


def overlap_params(start: datetime, end: datetime) -> dict[str, datetime]:
    return {"start": start, "end": end, "earliest": start - timedelta(minutes=MAX_DURATION)}


def _overlap(start, end, earliest) -> list[sa.ColumnElement[bool]]:
    return [ClassSession.starts_at < end, ClassSession.ends_at > start, ClassSession.starts_at > earliest]


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    start = local_to_utc(datetime.combine(day, time(0, 0)), tz)
    end = local_to_utc(datetime.combine(day + timedelta(days=1), time(0, 0)), tz)
    return start, end
