"""The clock the services read: real time, unless the app's ``CLOCK`` config names another.

``CLOCK`` is a callable returning an aware UTC ``datetime``; tests set it to fix
"now". The pure core never reads a clock: services pass the moment in.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from flask import current_app, has_app_context

from roster.domain.recurrence import utc_to_local


def now() -> datetime:
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    return clock() if clock is not None else datetime.now(timezone.utc)


def today_in(tz: str) -> date:
    """Today's date in a time zone (a class's, for its sessions)."""
    return utc_to_local(now(), tz).date()


def day_label(day: date) -> str:
    """'Tue, Feb 3': how staff name a day in messages."""
    return f"{day:%a}, {day:%b} {day.day}"
