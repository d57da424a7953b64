"""Dates, times and zones as a US clinic reads them (en_US through Babel)."""

from datetime import date, datetime, time, timezone

import pytest

from roster.domain import locale_format as lf

NNBSP = "\u202f"  # CLDR's narrow no-break space before AM/PM: a time never wraps
AFTERNOON = datetime(2026, 11, 27, 21, 0, tzinfo=timezone.utc)  # 3:00 PM in Chicago


def test_a_day_reads_weekday_month_day_year():
    assert lf.day(date(2026, 11, 27), "en_US") == "Fri, Nov 27, 2026"
    assert lf.day(date(2027, 3, 2), "en_US") == "Tue, Mar 2, 2027"  # no leading zero


def test_a_moment_is_written_in_the_zone_it_is_shown_in():
    assert lf.clock(AFTERNOON, "en_US", "America/Chicago") == f"3:00{NNBSP}PM"
    assert lf.clock(AFTERNOON, "en_US", "America/New_York") == f"4:00{NNBSP}PM"
    # 03:00 UTC on Nov 28 is still Nov 27 in Chicago
    late = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
    assert lf.day(late, "en_US", "America/Chicago") == "Fri, Nov 27, 2026"
    assert lf.day_and_clock(late, "en_US", "America/Chicago") == f"Fri, Nov 27, 2026, 9:00{NNBSP}PM"


def test_times_of_day_use_twelve_hours_with_am_and_pm():
    assert lf.clock(time(9, 5), "en_US") == f"9:05{NNBSP}AM"
    assert lf.clock(time(12, 0), "en_US") == f"12:00{NNBSP}PM"
    assert lf.clock(time(0, 30), "en_US") == f"12:30{NNBSP}AM"


def test_headings_short_and_medium_forms():
    assert lf.long_day(date(2026, 11, 27), "en_US") == "Friday, November 27, 2026"
    assert lf.short_day(date(2026, 11, 27), "en_US") == "Fri, Nov 27"
    assert lf.medium_date(date(1950, 1, 5), "en_US") == "Jan 5, 1950"


@pytest.mark.parametrize("zone, name", [
    ("America/Chicago", "Central Time"), ("America/New_York", "Eastern Time"),
    ("America/Denver", "Mountain Time"), ("America/Los_Angeles", "Pacific Time"),
    ("America/Anchorage", "Alaska Time"), ("UTC", "UTC"),
])
def test_time_zones_read_as_people_say_them(zone, name):
    assert lf.zone_name(zone, "en_US") == name


def test_the_date_hint_matches_how_a_us_date_is_typed():
    assert lf.date_pattern_hint("en_US") == "MM/DD/YYYY"


def test_another_locale_writes_its_own_way():
    assert lf.clock(time(15, 0), "de_DE") == "15:00"
    assert lf.valid_locale("en_US") and not lf.valid_locale("xx_NOPE")
