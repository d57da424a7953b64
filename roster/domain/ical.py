"""iCalendar (RFC 5545) feeds of class sessions.

The builder takes no people fields at all: a feed holds exactly the text its
events carry (title, room, optional description), so callers decide what is
safe to publish. Output is deterministic: events are written in
(starts_at, uid) order, time zones in TZID order, properties sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import icalendar

from roster.domain.statuses import SessionStatus

PRODID = "-//Roster//Caregiver classes//EN"
# Moments whose local year falls outside these are written in UTC (and need no
# VTIMEZONE): a stored date, however odd, never stops a feed.
LOCAL_YEARS = (1900, 2200)
STATUS = {SessionStatus.SCHEDULED: "CONFIRMED", SessionStatus.HELD: "CONFIRMED", SessionStatus.CANCELLED: "CANCELLED"}


@dataclass(frozen=True)
class FeedEvent:
    uid: str  # stable, e.g. "session-42@roster"
    summary: str  # class title only
    starts_at: datetime  # aware UTC
    ends_at: datetime  # aware UTC
    tzid: str  # IANA, the class's zone
    location: str | None  # room
    status: str  # a SessionStatus
    sequence: int
    description: str | None = None  # e.g. facilitator name and modality only
    last_modified: datetime | None = None  # aware UTC


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("feed datetimes must be timezone-aware")
    return moment.astimezone(timezone.utc)


def _local(moment: datetime, tzid: str) -> datetime | None:
    """``moment`` in zone ``tzid``, or None when its year is outside LOCAL_YEARS (or cannot be written)."""
    utc = _utc(moment)
    if not LOCAL_YEARS[0] <= utc.year <= LOCAL_YEARS[1]:
        return None
    try:
        local = utc.astimezone(ZoneInfo(tzid))
    except (OverflowError, ValueError):
        return None
    return local if LOCAL_YEARS[0] <= local.year <= LOCAL_YEARS[1] else None


def _vevent(event: FeedEvent, dtstamp: datetime) -> icalendar.Event:
    if event.status not in STATUS:
        raise ValueError(f"unknown session status {event.status!r}")
    start, end = _local(event.starts_at, event.tzid), _local(event.ends_at, event.tzid)
    if start is None or end is None:
        start, end = _utc(event.starts_at), _utc(event.ends_at)
    vevent = icalendar.Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", dtstamp)
    vevent.add("DTSTART", start)
    vevent.add("DTEND", end)
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("STATUS", STATUS[event.status])
    vevent.add("SUMMARY", event.summary)
    if event.location:
        vevent.add("LOCATION", event.location)
    if event.description:
        vevent.add("DESCRIPTION", event.description)
    if event.last_modified is not None:
        vevent.add("LAST-MODIFIED", _utc(event.last_modified))
    return vevent


def _vtimezone(tzid: str, events: list[FeedEvent]) -> icalendar.Timezone:
    """VTIMEZONE for ``tzid`` covering whole calendar years around its events,
    so every transition the events can meet is described."""
    years = [
        local.year
        for e in events
        if e.tzid == tzid
        for local in (_local(e.starts_at, tzid), _local(e.ends_at, tzid))
        if local is not None
    ]
    return icalendar.Timezone.from_tzid(
        tzid, first_date=date(min(years), 1, 1), last_date=date(max(years) + 1, 1, 1)
    )


def build_calendar(name: str, events: list[FeedEvent], dtstamp: datetime) -> bytes:
    """The feed as iCalendar bytes (CRLF lines, UTF-8)."""
    dtstamp = _utc(dtstamp)
    events = sorted(events, key=lambda e: (_utc(e.starts_at), e.uid))
    vevents = [_vevent(e, dtstamp) for e in events]

    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("X-WR-CALNAME", name)
    # UTC (and aliases) are written with the "Z" suffix and need no VTIMEZONE.
    used = {v["DTSTART"].params.get("TZID") for v in vevents} - {None}
    for tzid in sorted(used):
        calendar.add_component(_vtimezone(tzid, events))
    for vevent in vevents:
        calendar.add_component(vevent)
    return calendar.to_ical()
