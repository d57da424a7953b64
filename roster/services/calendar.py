"""Calendar feeds: class sessions as iCalendar events.

A feed carries the class title, the room, the planned facilitator's name and
the modality of each session, and nothing else: never a patient or a
caregiver. Feeds reach back FEED_HISTORY_DAYS and forward without limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from roster.domain.ical import FeedEvent, build_calendar
from roster.extensions import db
from roster.models import ClassSession, Facilitator, GroupClass
from roster.services import NotFound
from roster.services.rows import one

FEED_HISTORY_DAYS = 365
MODALITY_WORDS = {"in_person": "in person", "telehealth": "telehealth"}


def _event(session_id: int, title: str, starts_at: datetime, ends_at: datetime, tzid: str, room: str | None,
           status: str, sequence: int, modality: str, facilitator: str | None, updated_at: datetime) -> FeedEvent:
    """The feed event of a session, from the columns ``_EVENT_COLUMNS`` reads."""
    words = MODALITY_WORDS[modality]
    return FeedEvent(
        uid=f"session-{session_id}@roster",
        summary=title,
        starts_at=starts_at,
        ends_at=ends_at,
        tzid=tzid,
        location=room or None,
        status=status,
        sequence=sequence,
        description=f"{facilitator} - {words}" if facilitator else words.capitalize(),
        last_modified=updated_at,
    )


_planned, _of_class = aliased(Facilitator), aliased(Facilitator)
# A session's event: its class's title, zone and modality; the session's room, else the class's; the
# facilitator planned for it, else the class's (never who ran it: feeds plan, they do not record)
_EVENT_COLUMNS = (
    ClassSession.id, GroupClass.title, ClassSession.starts_at, ClassSession.ends_at, GroupClass.timezone,
    sa.func.coalesce(ClassSession.room, GroupClass.room), ClassSession.status, ClassSession.sequence,
    GroupClass.modality, sa.func.coalesce(_planned.name, _of_class.name), ClassSession.updated_at,
)


def _events(*conditions) -> list[FeedEvent]:
    """Plain rows, one statement: a clinic's year is 13,000 sessions (as ORM objects they took a second)."""
    rows = db.session.execute(
        sa.select(*_EVENT_COLUMNS)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .outerjoin(_planned, _planned.id == ClassSession.facilitator_id)
        .outerjoin(_of_class, _of_class.id == GroupClass.facilitator_id)
        .where(*conditions)
    ).all()
    return [_event(*row) for row in rows]


def _feed(name: str, now: datetime, *conditions) -> bytes:
    recent = ClassSession.ends_at > now - timedelta(days=FEED_HISTORY_DAYS)
    return build_calendar(name, _events(recent, *conditions), now)


def clinic_calendar(clinic_name: str, now: datetime) -> bytes:
    return _feed(f"{clinic_name} classes", now)


def class_calendar(class_id: int, now: datetime) -> bytes:
    group_class = one(GroupClass, class_id)
    return _feed(group_class.title, now, ClassSession.class_id == class_id)


def facilitator_calendar(facilitator_id: int, now: datetime) -> bytes:
    facilitator = one(Facilitator, facilitator_id)
    planned = sa.func.coalesce(ClassSession.facilitator_id, GroupClass.facilitator_id)
    return _feed(f"{facilitator.name}: classes", now, planned == facilitator_id)


def room_calendar(room: str, now: datetime) -> bytes:
    """Sessions in a room, whatever the case of its spelling; an unknown room is not found."""
    name = next((r for r in rooms() if r.lower() == room.strip().lower()), None)
    if name is None:
        raise NotFound(f"No room {room}.")
    room_in_use = sa.func.lower(sa.func.coalesce(ClassSession.room, GroupClass.room))
    return _feed(name, now, room_in_use == name.lower())


def session_calendar(session_id: int, now: datetime) -> bytes:
    """One session, to send to someone who does not subscribe to a feed."""
    found = _events(ClassSession.id == session_id)
    if not found:
        raise NotFound(f"No session {session_id}.")
    return build_calendar(found[0].summary, found, now)


def rooms() -> list[str]:
    """Every room a class or a session uses, one spelling each, in alphabetical order."""
    names = db.session.scalars(
        sa.union(
            sa.select(GroupClass.room.label("room")),
            sa.select(ClassSession.room.label("room")).where(ClassSession.room.is_not(None)),
        )
    ).all()
    unique: dict[str, str] = {}
    for name in sorted(n.strip() for n in names if n and n.strip()):
        unique.setdefault(name.lower(), name)
    return sorted(unique.values(), key=str.lower)


CLASSES_LISTED = 50  # the account page lists at most this many classes' feeds (a filter finds the others)


@dataclass(frozen=True)
class FeedSubjects:
    """What a staff member may subscribe to, besides the whole clinic."""

    classes: list[tuple[int, str]]  # (id, title): at most CLASSES_LISTED, those matching the filter if any
    facilitators: list[tuple[int, str]]  # (id, name)
    rooms: list[str]
    classes_total: int = 0  # the classes the filter matches (all of them without one)


def feed_subjects(class_filter: str = "") -> FeedSubjects:
    """Classes (the first CLASSES_LISTED by title, those whose title contains ``class_filter`` when
    given), active facilitators and rooms. A health system runs over a thousand classes: listing every
    one's feed made the account page a megabyte."""
    matching = [GroupClass.title.icontains(class_filter, autoescape=True)] if class_filter else []
    classes = db.session.execute(
        sa.select(GroupClass.id, GroupClass.title).where(*matching)
        .order_by(GroupClass.title, GroupClass.id).limit(CLASSES_LISTED + 1)
    ).all()
    total = len(classes) if len(classes) <= CLASSES_LISTED else db.session.scalar(
        sa.select(sa.func.count(GroupClass.id)).where(*matching))
    facilitators = db.session.execute(
        sa.select(Facilitator.id, Facilitator.name)
        .where(Facilitator.active.is_(True))
        .order_by(Facilitator.name, Facilitator.id)
    ).all()
    return FeedSubjects([tuple(c) for c in classes[:CLASSES_LISTED]], [tuple(f) for f in facilitators], rooms(),
                        total)

