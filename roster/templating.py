"""Template globals and filters: navigation by role, local times, permission checks."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from roster.permissions import ROLE_LABELS, can

# (label, endpoint, permission) in the order they appear
NAVIGATION = (
    ("Today", "frontdesk.today", "frontdesk.checkin"),
    ("Classes", "schedule.classes", "schedule.view"),
    ("Patients", "people.patients", "people.view"),
    ("Caregivers", "people.caregivers", "people.view"),
    ("Facilitators", "people.facilitators", "people.view"),
    ("Open sessions", "frontdesk.end_of_day", "session.close"),
    ("Billing", "billing.review", "billing.view"),
    ("Exports", "billing.exports", "billing.view"),
    ("Audit", "billing.audit", "audit.view"),
    ("Staff", "auth.users", "users.manage"),
    ("Billing settings", "billing.settings", "clinic.settings"),
)


def navigation_for_user() -> list[tuple[str, str]]:
    endpoints = current_app.view_functions
    return [(label, ep) for label, ep, perm in NAVIGATION if ep in endpoints and can(perm)]


def local_time(value: datetime | None, tz: str | None = None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    if value is None:
        return ""
    zone = ZoneInfo(tz or current_app.config["CLINIC_TIMEZONE"])
    return value.astimezone(zone).strftime(fmt)


def init_templating(app: Flask) -> None:
    app.jinja_env.globals.update(
        can=can,
        navigation_for_user=navigation_for_user,
        role_label=lambda role: ROLE_LABELS.get(role, role),
    )
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["hm"] = lambda v, tz=None: local_time(v, tz, "%H:%M")
    app.jinja_env.filters["day"] = lambda v, tz=None: local_time(v, tz, "%a %d %b %Y")
    app.jinja_env.filters["isodate"] = lambda d: d.isoformat() if d else ""
