"""Calendar feeds: class sessions as iCalendar events.

A feed carries the class title, the room, the planned facilitator's name and
the modality of each session, and nothing else: never a patient or a
caregiver. Feeds reach back FEED_HISTORY_DAYS and forward without limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, selectinload

from roster.domain.ical import FeedEvent, build_calendar
from roster.extensions import db
from roster.models import ClassSession, Facilitator, GroupClass
from roster.services import NotFound
from roster.services.rows import one

FEED_HISTORY_DAYS = 365
MODALITY_WORDS = {"in_person": "in person", "telehealth": "telehealth"}


def session_event(session: ClassSession) -> FeedEvent:
    """The feed event of a session (class and facilitators loaded)."""
    group_class = session.group_class
    facilitator = session.effective_facilitator
    modality = MODALITY_WORDS[group_class.modality]
    return FeedEvent(
        uid=f"session-{session.id}@roster",
        summary=group_class.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        tzid=group_class.timezone,
        location=session.effective_room or None,
        status=session.status,
        sequence=session.sequence,
        description=f"{facilitator.name} - {modality}" if facilitator else modality.capitalize(),
        last_modified=session.updated_at,
    )


def _sessions(*conditions) -> list[ClassSession]:
    return list(db.session.scalars(
        sa.select(ClassSession)
        .join(ClassSession.group_class)
        .options(
            contains_eager(ClassSession.group_class).selectinload(GroupClass.facilitator),
            selectinload(ClassSession.planned_facilitator),
        )
        .where(*conditions)
    ))


def _feed(name: str, now: datetime, *conditions) -> bytes:
    recent = ClassSession.ends_at > now - timedelta(days=FEED_HISTORY_DAYS)
    return build_calendar(name, [session_event(s) for s in _sessions(recent, *conditions)], now)


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
    found = _sessions(ClassSession.id == session_id)
    if not found:
        raise NotFound(f"No session {session_id}.")
    return build_calendar(found[0].group_class.title, [session_event(found[0])], now)


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

