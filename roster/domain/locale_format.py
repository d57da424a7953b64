"""Dates, times and time zones as the clinic's locale writes them, through Babel.

Plain functions: the caller passes the locale (e.g. ``en_US``) and the zone.
A US clinic reads "Fri, Nov 27, 2026", "3:00 PM" and "Central Time". Babel
follows CLDR, which puts a narrow no-break space between the time and "PM"
(so a time never wraps).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, get_timezone_name

DEFAULT_LOCALE = "en_US"


def valid_locale(name: str) -> bool:
    try:
        Locale.parse(name)
    except (ValueError, UnknownLocaleError):
        return False
    return True


def to_local(value: datetime, tz: str) -> datetime:
    """An aware UTC moment in the zone ``tz``."""
    return value.astimezone(ZoneInfo(tz))


def _day(value: date | datetime, tz: str | None) -> date:
    if isinstance(value, datetime):
        return to_local(value, tz).date() if tz and value.tzinfo else value.date()
    return value


def day(value: date | datetime, locale: str, tz: str | None = None) -> str:
    """Weekday, month, day and year: "Fri, Nov 27, 2026"."""
    return format_skeleton("yMMMEd", _day(value, tz), locale=locale)


def long_day(value: date | datetime, locale: str, tz: str | None = None) -> str:
    """The day in full, for headings: "Friday, November 27, 2026"."""
    return format_date(_day(value, tz), "full", locale=locale)


def short_day(value: date | datetime, locale: str, tz: str | None = None) -> str:
    """Weekday, month and day, no year: "Fri, Nov 27"."""
    return format_skeleton("MMMEd", _day(value, tz), locale=locale)


def medium_date(value: date | datetime, locale: str, tz: str | None = None) -> str:
    """Month, day and year: "Nov 27, 2026" (dates of birth, consent, plans of care)."""
    return format_date(_day(value, tz), "medium", locale=locale)


def clock(value: datetime | time, locale: str, tz: str | None = None) -> str:
    """The time of day: "3:00 PM"."""
    if isinstance(value, datetime) and tz and value.tzinfo:
        value = to_local(value, tz)
    return format_time(value, "short", locale=locale)


def day_and_clock(value: datetime, locale: str, tz: str) -> str:
    """ "Fri, Nov 27, 2026, 3:00 PM" """
    local = to_local(value, tz)
    return f"{day(local, locale)}, {clock(local, locale)}"


def zone_name(tz: str, locale: str) -> str:
    """The zone as people say it: "Central Time"; the IANA name when CLDR has no city for it."""
    if tz in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
        return "UTC"
    name = get_timezone_name(ZoneInfo(tz), width="long", locale=locale)
    return tz if "Unknown" in name else name


def date_pattern_hint(locale: str) -> str:
    """How a date is typed in this locale, e.g. "MM/DD/YYYY" for en_US (date fields show it)."""
    sample = date(2033, 11, 22)  # distinct day, month and year digits
    text = format_date(sample, "short", locale=locale)
    text = text.replace("2033", "YYYY").replace("33", "YYYY").replace("11", "MM").replace("22", "DD")
    return text
