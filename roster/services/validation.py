"""Checking input fields, shared by every service that takes a plain dict.

Each helper cleans one value and, when it is bad, writes a message for the
person into ``errors`` under ``key`` and returns ``None`` (or an empty value),
so a validator can report every bad field at once. No database access here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app

from roster.domain.recurrence import utc_to_local
from roster.domain.validators import date_problem, parse_tags, session_window, text_problem
from roster.models import utcnow
from roster.services import ServiceError


def clinic_today() -> date:
    """Today's date in the clinic's zone (the windows of plausible dates start from it)."""
    return utc_to_local(utcnow(), current_app.config["CLINIC_TIMEZONE"]).date()


def require_object(data: Any) -> None:
    """Refuse a body that is not a JSON object before looking at its fields."""
    if not isinstance(data, dict):
        raise ServiceError("Send a JSON object.", {"body": "Expected an object."})


def text(data: dict, key: str, errors: dict, *, required: bool, max_len: int, label: str) -> str | None:
    """Trimmed text; blank is ``""`` when optional, an error when required."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = f"{label} is required."
        return "" if not required else None
    if not isinstance(value, str):
        errors[key] = f"{label} must be text."
        return None
    value = value.strip()
    problem = text_problem(value)
    if problem:
        errors[key] = f"{label} {problem}"
        return None
    if len(value) > max_len:
        errors[key] = f"{label} must be at most {max_len} characters."
        return None
    return value


def parse_date(value: Any, key: str, errors: dict, label: str,
               window: Callable[[date], tuple[date, date]] | None = None) -> date | None:
    """A `YYYY-MM-DD` date; blank is ``None``. ``window(today)`` bounds it (roster.domain.validators)."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        day = value
    elif not isinstance(value, str):
        errors[key] = f"{label} must be a date (YYYY-MM-DD)."
        return None
    else:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            errors[key] = f"{label} must be a real date written YYYY-MM-DD."
            return None
    if window is not None and not within(day, window, key, errors, label):
        return None
    return day


def within(day: date, window: Callable[[date], tuple[date, date]], key: str, errors: dict, label: str) -> bool:
    """Whether ``day`` lies in ``window(clinic_today())``; if not, the reason goes into ``errors``."""
    problem = date_problem(day, window(clinic_today()))
    if problem:
        errors[key] = f"{label} {problem}"
        return False
    return True


def parse_local(value: Any, key: str, errors: dict, label: str) -> datetime | None:
    """A wall-clock `YYYY-MM-DDTHH:MM` (no offset) of a session, within the session window."""
    if not isinstance(value, str) or not value.strip():
        errors[key] = f"{label} is required (YYYY-MM-DDTHH:MM)."
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        errors[key] = f"{label} must be a local time written YYYY-MM-DDTHH:MM."
        return None
    if moment.tzinfo is not None:
        errors[key] = f"{label} is a wall-clock time in the class's time zone; leave out the offset."
        return None
    if not within(moment.date(), session_window, key, errors, label):
        return None
    return moment


def tags(value: Any, key: str, errors: dict, label: str) -> list[str]:
    """Tags from a comma-separated string or a list of strings."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return parse_tags(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return parse_tags(",".join(value))
    errors[key] = f"{label} must be a list of words."
    return []


def whole_number(value: Any, key: str, errors: dict, label: str, lo: int, hi: int) -> int | None:
    """An int (or digits) between ``lo`` and ``hi`` inclusive."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        errors[key] = f"{label} must be a whole number."
        return None
    if not lo <= value <= hi:
        errors[key] = f"{label} must be between {lo} and {hi}."
        return None
    return value


def reject_unknown(data: dict, allowed: set[str], errors: dict) -> None:
    """Name every field the caller sent that this record does not have."""
    for key in sorted(set(data) - allowed):
        errors[key] = "Unknown field."


_ZONES: set[str] | None = None


def valid_timezone(name: Any) -> bool:
    """An IANA zone name such as America/Chicago."""
    global _ZONES
    if not isinstance(name, str) or "/" not in name:
        return False
    try:
        ZoneInfo(name)
    except Exception:
        return False
    if _ZONES is None:
        _ZONES = available_timezones()
    return name in _ZONES
