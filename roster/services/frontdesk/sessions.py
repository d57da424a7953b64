"""The front desk's sessions: loading one for its pages, a day's sessions with their counts, and the
end-of-day list of sessions still open.

Each loads everything its page shows in a fixed number of queries, so the templates never lazy-load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from roster.domain.statuses import EnrollmentStatus, SessionStatus
from roster.extensions import db
from roster.models import CheckIn, ClassSession, Enrollment, EnrollmentCaregiver, Facilitator, GroupClass
from roster.services import scheduling
from roster.services.rows import one

OPEN_SESSIONS_LIMIT = 200


def _session_options():
    return (
        selectinload(ClassSession.group_class).selectinload(GroupClass.facilitator),
        selectinload(ClassSession.planned_facilitator),
        selectinload(ClassSession.actual_facilitator),
    )


def load_session(session_id: int) -> ClassSession:
    return one(ClassSession, session_id, *_session_options())


def load_session_and_class(session_id: int) -> ClassSession:
    """The session and its class (status, time zone) in one query: all the walk-in search needs."""
    return one(ClassSession, session_id, joinedload(ClassSession.group_class))


def facilitator_of(session: ClassSession) -> Facilitator | None:
    """Who ran it (once held and recorded), else who is planned."""
    if session.status == SessionStatus.HELD and session.actual_facilitator is not None:
        return session.actual_facilitator
    return session.effective_facilitator


def arrivals(session_ids: list[int]) -> dict[int, int]:
    """Distinct caregivers checked in, per session."""
    if not session_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(CheckIn.session_id, sa.func.count(sa.distinct(CheckIn.caregiver_id)))
            .where(CheckIn.session_id.in_(session_ids))
            .group_by(CheckIn.session_id)
        ).all()
    )


# --------------------------------------------------------------------------- a day


@dataclass
class DayRow:
    session: ClassSession
    facilitator: Facilitator | None
    sets: int  # enrolled caregiver sets
    expected: int  # enrolled caregivers
    checked_in: int  # distinct caregivers checked in (walk-ins too)


def day_sessions(day: date, tz: str, facilitator_id: int | None = None) -> list[DayRow]:
    """The sessions of a local day in zone ``tz``, with enrolment and arrival counts.

    With ``facilitator_id``: only the sessions that facilitator runs (planned, or recorded once held).
    """
    start, end = scheduling.local_day_bounds(day, tz)
    sessions = scheduling.sessions_between(start, end)
    if facilitator_id is not None:
        sessions = [s for s in sessions if (f := facilitator_of(s)) is not None and f.id == facilitator_id]
    seats = _enrolled_counts({s.class_id for s in sessions})
    arrived = arrivals([s.id for s in sessions])
    return [
        DayRow(s, facilitator_of(s), *seats.get(s.class_id, (0, 0)), arrived.get(s.id, 0))
        for s in sessions
    ]


def _enrolled_counts(class_ids: set[int]) -> dict[int, tuple[int, int]]:
    if not class_ids:
        return {}
    rows = db.session.execute(
        sa.select(Enrollment.class_id, sa.func.count(sa.distinct(Enrollment.id)),
                  sa.func.count(EnrollmentCaregiver.id))
        .outerjoin(EnrollmentCaregiver, EnrollmentCaregiver.enrollment_id == Enrollment.id)
        .where(Enrollment.class_id.in_(class_ids), Enrollment.status == EnrollmentStatus.ENROLLED)
        .group_by(Enrollment.class_id)
    ).all()
    return {class_id: (sets, caregivers) for class_id, sets, caregivers in rows}


# --------------------------------------------------------------------------- end of day


@dataclass
class OpenRow:
    session: ClassSession
    facilitator: Facilitator | None
    checked_in: int
    problem: str


def open_sessions(now: datetime) -> tuple[list[OpenRow], bool]:
    """Sessions that started and were never closed, and held ones with no facilitator recorded.

    Most recent first; at most OPEN_SESSIONS_LIMIT (the flag says whether more were left out).
    """
    sessions = db.session.scalars(
        sa.select(ClassSession)
        .options(*_session_options())
        .where(sa.or_(
            sa.and_(ClassSession.status == SessionStatus.SCHEDULED, ClassSession.starts_at < now),
            sa.and_(ClassSession.status == SessionStatus.HELD, ClassSession.actual_facilitator_id.is_(None)),
        ))
        .order_by(ClassSession.starts_at.desc(), ClassSession.id.desc())
        .limit(OPEN_SESSIONS_LIMIT + 1)
    ).all()
    more = len(sessions) > OPEN_SESSIONS_LIMIT
    sessions = sessions[:OPEN_SESSIONS_LIMIT]
    arrived = arrivals([s.id for s in sessions])
    return [
        OpenRow(s, facilitator_of(s), arrived.get(s.id, 0),
                "Not closed" if s.status == SessionStatus.SCHEDULED else "No facilitator recorded")
        for s in sessions
    ], more
