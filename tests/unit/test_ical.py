from dataclasses import replace
from datetime import datetime, timedelta, timezone

import icalendar
import pytest

from roster.domain.ical import PRODID, FeedEvent, build_calendar

UTC = timezone.utc
STAMP = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def event(n, starts_at, **kw):
    base = dict(
        uid=f"session-{n}@roster",
        summary="Stroke caregiver skills",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        tzid="America/Chicago",
        location="Gym A",
        status="scheduled",
        sequence=0,
    )
    base.update(kw)
    return FeedEvent(**base)


def parse(data: bytes) -> icalendar.Calendar:
    assert isinstance(data, bytes)
    return icalendar.Calendar.from_ical(data)


def by_uid(cal):
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def events():
    return [
        event(1, datetime(2026, 3, 3, 16, tzinfo=UTC)),  # 10:00 CST
        event(2, datetime(2026, 3, 10, 15, tzinfo=UTC), sequence=3, status="held",
              description="Dana Reyes, PT - in person",
              last_modified=datetime(2026, 3, 10, 17, tzinfo=UTC)),  # 10:00 CDT
        event(3, datetime(2026, 3, 17, 15, tzinfo=UTC), sequence=1, status="cancelled",
              location=None),
    ]


def test_calendar_properties(events):
    cal = parse(build_calendar("Gym A classes", events, STAMP))
    assert str(cal["PRODID"]) == PRODID == "-//Roster//Caregiver classes//EN"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "Gym A classes"


def test_one_event_per_input_with_uid_and_dtstamp(events):
    cal = parse(build_calendar("Feed", events, STAMP))
    vevents = by_uid(cal)
    assert sorted(vevents) == ["session-1@roster", "session-2@roster", "session-3@roster"]
    for vevent in vevents.values():
        assert vevent.decoded("DTSTAMP") == STAMP


def test_start_and_end_in_local_time_with_tzid(events):
    raw = build_calendar("Feed", events, STAMP)
    assert b"DTSTART;TZID=America/Chicago:20260303T100000" in raw
    assert b"DTSTART;TZID=America/Chicago:20260310T100000" in raw
    vevents = by_uid(parse(raw))
    for n, e in enumerate(events, start=1):
        vevent = vevents[f"session-{n}@roster"]
        for prop, expected in (("DTSTART", e.starts_at), ("DTEND", e.ends_at)):
            assert vevent[prop].params["TZID"] == "America/Chicago"
            value = vevent.decoded(prop)
            assert value == expected  # same instant
            assert value.replace(tzinfo=None).hour == 11 if prop == "DTEND" else 10


def test_vtimezone_per_zone_covers_the_events(events):
    more = events + [
        event(4, datetime(2027, 1, 5, 14, tzinfo=UTC), tzid="America/New_York")
    ]
    cal = parse(build_calendar("Feed", more, STAMP))
    timezones = cal.walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["America/Chicago", "America/New_York"]
    chicago = timezones[0]
    assert [str(c["TZNAME"]) for c in chicago.walk("DAYLIGHT")] == ["CDT"]
    assert {str(c["TZNAME"]) for c in chicago.walk("STANDARD")} == {"CST"}
    assert cal.get_missing_tzids() == set()
    # A zone built from the VTIMEZONE's own rules (not a tz database lookup) puts the
    # local wall-clock times at the right instants on both sides of the March change.
    rules = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in timezones}
    for vevent in cal.walk("VEVENT"):
        start = vevent.decoded("DTSTART")
        local = start.replace(tzinfo=None)
        own = local.replace(tzinfo=rules[vevent["DTSTART"].params["TZID"]])
        assert own.astimezone(UTC) == start.astimezone(UTC)


def test_utc_events_need_no_vtimezone():
    cal = parse(build_calendar("Feed", [event(1, STAMP, tzid="UTC")], STAMP))
    assert cal.walk("VTIMEZONE") == []
    assert cal.walk("VEVENT")[0].decoded("DTSTART") == STAMP


def test_sequence_status_location_description(events):
    vevents = by_uid(parse(build_calendar("Feed", events, STAMP)))
    one, two, three = (vevents[f"session-{n}@roster"] for n in (1, 2, 3))
    assert [int(v["SEQUENCE"]) for v in (one, two, three)] == [0, 3, 1]
    assert [str(v["STATUS"]) for v in (one, two, three)] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert str(one["LOCATION"]) == "Gym A"
    assert "LOCATION" not in three
    assert str(two["DESCRIPTION"]) == "Dana Reyes, PT - in person"
    assert "DESCRIPTION" not in one
    assert two.decoded("LAST-MODIFIED") == datetime(2026, 3, 10, 17, tzinfo=UTC)
    assert str(one["SUMMARY"]) == "Stroke caregiver skills"


def test_text_is_escaped_and_round_trips():
    title = "Dementia: safety, falls; & more\nline two"
    cal = parse(build_calendar("A; b, c", [event(1, STAMP, summary=title)], STAMP))
    assert str(cal.walk("VEVENT")[0]["SUMMARY"]) == title
    assert str(cal["X-WR-CALNAME"]) == "A; b, c"


def test_unicode_summary():
    raw = build_calendar("Feed", [event(1, STAMP, summary="Cuidado después del ictus")], STAMP)
    assert "Cuidado después del ictus".encode() in raw


def test_deterministic_and_order_independent(events):
    first = build_calendar("Feed", events, STAMP)
    assert build_calendar("Feed", events, STAMP) == first
    assert build_calendar("Feed", list(reversed(events)), STAMP) == first
    uids = [str(v["UID"]) for v in parse(first).walk("VEVENT")]
    assert uids == ["session-1@roster", "session-2@roster", "session-3@roster"]


def test_empty_feed_is_valid():
    cal = parse(build_calendar("Nothing yet", [], STAMP))
    assert cal.walk("VEVENT") == [] and cal.walk("VTIMEZONE") == []


def test_no_text_other_than_given(events):
    forbidden = ["Walter", "Ames", "A1001", "Rita", "1EG4TE5MK73", "I69.351", "spouse",
                 "Medicare", "555-0101"]
    raw = build_calendar("Gym A classes", events, STAMP).decode()
    for word in forbidden:
        assert word.lower() not in raw.lower()
    # Every text value in the events is something the caller supplied.
    supplied = {"Stroke caregiver skills", "Gym A", "Dana Reyes, PT - in person"}
    for vevent in parse(raw.encode()).walk("VEVENT"):
        for prop in ("SUMMARY", "LOCATION", "DESCRIPTION"):
            if prop in vevent:
                assert str(vevent[prop]) in supplied


def test_builder_takes_no_people_fields():
    fields = set(FeedEvent.__dataclass_fields__)
    assert fields == {"uid", "summary", "starts_at", "ends_at", "tzid", "location", "status",
                      "sequence", "description", "last_modified"}


def test_rejects_unknown_status_and_naive_times():
    with pytest.raises(ValueError):
        build_calendar("Feed", [event(1, STAMP, status="postponed")], STAMP)
    with pytest.raises(ValueError):
        build_calendar("Feed", [event(1, STAMP)], STAMP.replace(tzinfo=None))
    with pytest.raises(ValueError):
        build_calendar("Feed", [event(1, datetime(2026, 3, 3, 10))], STAMP)


@pytest.mark.parametrize("tzid", ["America/Chicago", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize("starts_at", [
    datetime(9999, 12, 31, 22, 0, tzinfo=UTC),  # ends past the last representable instant in UTC+14
    datetime(1, 1, 1, 3, 0, tzinfo=UTC),  # before year 1 in zones west of UTC
    datetime(1899, 12, 31, 23, 0, tzinfo=UTC),
])
def test_any_stored_date_still_builds_the_feed(events, tzid, starts_at):
    """A session stored at an odd date (year 1, year 9999) is written in UTC; the rest of the feed is unchanged."""
    odd = event(99, starts_at, ends_at=min(starts_at + timedelta(hours=1),
                                           datetime(9999, 12, 31, 23, 59, tzinfo=UTC)), tzid=tzid)
    cal = parse(build_calendar("Clinic", events + [odd], STAMP))
    found = by_uid(cal)
    assert found["session-99@roster"].decoded("DTSTART") == starts_at
    assert "TZID" not in found["session-99@roster"]["DTSTART"].params
    assert found["session-1@roster"]["DTSTART"].params["TZID"] == "America/Chicago"
    assert len(found) == len(events) + 1


def _written_whole(name, events, dtstamp):
    """The feed written entirely by icalendar, event by event (what build_calendar assembles from kept blocks)."""
    from roster.domain import ical

    vevents = [ical._vevent(e, dtstamp) for e in sorted(events, key=lambda e: (e.starts_at, e.uid))]
    calendar = icalendar.Calendar()
    for prop, value in (("PRODID", PRODID), ("VERSION", "2.0"), ("METHOD", "PUBLISH"), ("CALSCALE", "GREGORIAN"),
                        ("X-WR-CALNAME", name)):
        calendar.add(prop, value)
    for tzid in sorted({v["DTSTART"].params.get("TZID") for v in vevents} - {None}):
        calendar.add_component(ical._vtimezone(tzid, events))
    for vevent in vevents:
        calendar.add_component(vevent)
    return calendar.to_ical()


def test_kept_event_blocks_give_the_bytes_icalendar_writes(events):
    """Each event's VEVENT is written once and kept; a feed built from kept blocks, with its own DTSTAMP, is
    byte for byte the calendar icalendar writes whole (zones, UTC, odd dates, escaping, folded lines)."""
    from roster.domain import ical

    more = events + [
        event(4, datetime(2027, 1, 5, 14, tzinfo=UTC), tzid="America/New_York", summary="Ñ; a, b\nc " * 12),
        event(5, STAMP, tzid="UTC", description="Lee Park, OT - telehealth"),
        event(6, datetime(9999, 12, 31, 22, 0, tzinfo=UTC), ends_at=datetime(9999, 12, 31, 23, tzinfo=UTC),
              tzid="Pacific/Kiritimati"),
    ]
    first = build_calendar("Clinic; all", more, STAMP)
    assert first == _written_whole("Clinic; all", more, STAMP)
    later = STAMP + timedelta(days=3, microseconds=5)
    hits = ical._vevent_block.cache_info().hits
    assert build_calendar("Clinic; all", more, later) == _written_whole("Clinic; all", more, later) != first
    assert ical._vevent_block.cache_info().hits >= hits + len(more)  # every block came from memory
    changed = more[:1] + [replace(more[1], sequence=4)] + more[2:]  # a changed event is a new one
    assert build_calendar("Clinic; all", changed, later) == _written_whole("Clinic; all", changed, later)
