"""Double bookings: a room or a facilitator in two overlapping sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.recurrence import overlaps, utc_to_local
from roster.domain.statuses import SessionStatus
from roster.extensions import db
from roster.models import ClassSession, GroupClass
from roster.services import Conflict


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
            ClassSession.status != SessionStatus.CANCELLED,
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
            name = other.effective_facilitator.name
            return f"{name} is already facilitating {when}."
    return None


def _describe(session: ClassSession) -> str:
    cls = session.group_class
    local = utc_to_local(session.starts_at, cls.timezone)
    end = utc_to_local(session.ends_at, cls.timezone)
    return f"“{cls.title}” on {local:%a %d %b %Y} {local:%H:%M}–{end:%H:%M}"


def check_conflicts(planned: list[tuple[datetime, datetime, str, int | None]], ignore_ids=()) -> None:
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
