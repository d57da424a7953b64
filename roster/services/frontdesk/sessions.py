"""The front desk's sessions: loading one for its pages, a day's sessions with their counts, and the
end-of-day list of sessions still open.

Each loads everything its page shows in a fixed number of queries, so the templates never lazy-load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from roster.domain.statuses import EnrollmentStatus, SessionStatus
from roster.extensions import db
from roster.models import CheckIn, ClassSession, Enrollment, EnrollmentCaregiver, Facilitator, GroupClass
from roster.services import NotFound, scheduling
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


@dataclass(frozen=True)
class DeskClass:
    """What the desk's requests read of a session's class."""
    id: int
    timezone: str


@dataclass(frozen=True)
class DeskSession:
    """A session as the desk's busiest requests read it (walk-in search, API check-in and undo): only the
    columns they use, as plain values (no ORM identity work), named as on ``ClassSession`` so that what
    reads a session's status, day and zone (``attendance.timing``, ``billing.date_of_service``) reads
    this too. Not for writing: it is not in the ORM session."""
    id: int
    class_id: int
    status: str
    starts_at: datetime
    actual_start: datetime | None
    held_timezone: str | None
    group_class: DeskClass


# the walk-in statement's generic plan (search.plan_once's SET LOCAL), asked for inside the session's read
GENERIC_PLANS = sa.func.set_config("plan_cache_mode", "force_generic_plan", sa.true())


# a DeskSession's columns (``desk_session`` makes one of them) and where they are read from
_s, _c = ClassSession.__table__.c, GroupClass.__table__.c
DESK_SESSION_COLUMNS = (_s.id, _s.class_id, _s.status, _s.starts_at, _s.actual_start, _s.held_timezone, _c.timezone)
DESK_SESSION_FROM = ClassSession.__table__.join(GroupClass.__table__, _c.id == _s.class_id)


def desk_session(values) -> DeskSession | None:
    """The DeskSession of ``DESK_SESSION_COLUMNS``' values (None: no session, as an outer join reads it)."""
    if values[0] is None:
        return None
    *columns, timezone = values
    return DeskSession(*columns, DeskClass(columns[1], timezone))


@lru_cache(maxsize=2)
def _desk_session_statement(generic_plans: bool) -> sa.Select:
    """Built once (building and keying a statement cost more than running it); run as Core."""
    stmt = sa.select(*DESK_SESSION_COLUMNS).select_from(DESK_SESSION_FROM).where(_s.id == sa.bindparam("session_id"))
    return stmt.add_columns(GENERIC_PLANS) if generic_plans else stmt


def load_session_and_class(session_id: int, *, generic_plans: bool = False) -> DeskSession:
    """The session and its class's zone in one statement: all the walk-in search, the API check-in and
    its undo need. ``NotFound`` as ``one`` says it. ``generic_plans`` (PostgreSQL): the read also sets
    ``plan_cache_mode`` for the rest of the transaction, as ``search.plan_once`` would in a round trip of its
    own (the walk-in search fragment, which reads its session first)."""
    row = db.session.connection().execute(_desk_session_statement(generic_plans), {"session_id": session_id}).first()
    return found_desk_session(session_id, None if row is None else desk_session(row[:len(DESK_SESSION_COLUMNS)]))


def found_desk_session(session_id: int, session: DeskSession | None) -> DeskSession:
    """``NotFound`` as ``one`` says it when there is no such session."""
    if session is None:
        raise NotFound(f"No session {session_id}.")
    return session


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


class DayRow(NamedTuple):
    """One session of a day as the day's page shows it. A value (a tuple: made, hashed and compared without a
    Python call): the day's cards are remembered by it (``templating.cached_macro``)."""
    id: int
    title: str
    tz: str  # the class's zone
    starts_at: datetime
    ends_at: datetime
    room: str
    status: str
    cancel_reason: str | None
    facilitator: str | None  # who ran it (held and recorded), else who is planned
    sets: int  # enrolled caregiver sets
    expected: int  # enrolled caregivers
    checked_in: int  # distinct caregivers checked in (walk-ins too)


def day_sessions(day: date, tz: str, facilitator_id: int | None = None, read: list | None = None) -> list[DayRow]:
    """The sessions of a local day in zone ``tz``, with enrolment and arrival counts, in one query.

    With ``facilitator_id``: only the sessions that facilitator runs (planned, or recorded once held).
    ``read``: the day's rows as the signed-in user's statement read them (``with_user.today``; the whole clinic's
    day), used when they are the ones asked for.
    """
    if read is not None and facilitator_id is None:
        return read
    # Core: plain rows, fetched at once (iterating the result fetched them one by one)
    rows = db.session.connection().execute(day_statement(facilitator_id is not None),
                                           day_params(day, tz, facilitator_id)).all()
    return list(map(DayRow._make, rows))


def day_params(day: date, tz: str, facilitator_id: int | None = None) -> dict:
    """The day statement's bound values: the local day's bounds (and whose sessions)."""
    params = scheduling.overlap_params(*scheduling.local_day_bounds(day, tz))
    if facilitator_id is not None:
        params["facilitator_id"] = facilitator_id
    return params


@lru_cache(maxsize=2)
def day_statement(of_facilitator: bool) -> sa.Select:
    """Built once (with and without the facilitator's filter): building it cost more than running it.
    The day's bounds are bound values (``scheduling.overlapping_bound``), run with ``overlap_params``."""
    s, c, who = ClassSession, GroupClass, aliased(Facilitator)
    recorded = sa.and_(s.status == SessionStatus.HELD, s.actual_facilitator_id.is_not(None))
    # who ran it (held and recorded), else who is planned: the session's, else its class's. One join on that
    # id (a facilitator's name is never empty; ids name existing rows), where three joins, one per role, cost
    # the day's statement a walk of the facilitators for every session.
    runs = sa.case((recorded, s.actual_facilitator_id), else_=sa.func.coalesce(s.facilitator_id, c.facilitator_id))
    enrolled = (Enrollment.class_id == s.class_id, Enrollment.status == EnrollmentStatus.ENROLLED)
    sets = sa.select(sa.func.count(Enrollment.id)).where(*enrolled).scalar_subquery()
    expected = (sa.select(sa.func.count(EnrollmentCaregiver.id))
                .join(Enrollment, Enrollment.id == EnrollmentCaregiver.enrollment_id).where(*enrolled)
                .scalar_subquery())
    arrived = (sa.select(sa.func.count(sa.distinct(CheckIn.caregiver_id))).where(CheckIn.session_id == s.id)
               .scalar_subquery())
    stmt = (
        sa.select(s.id, c.title, c.timezone, s.starts_at, s.ends_at, sa.func.coalesce(s.room, c.room), s.status,
                  s.cancel_reason, who.name, sets, expected, arrived)
        .join(c, c.id == s.class_id)
        .outerjoin(who, who.id == runs)
        .where(*scheduling.overlapping_bound())
        .order_by(s.starts_at, s.id)
    )
    if of_facilitator:
        stmt = stmt.where(runs == sa.bindparam("facilitator_id"))
    return stmt


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
