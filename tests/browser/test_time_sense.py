"""Time sense in the browser: a session that has not ended cannot be closed (and the facilitator is
told why); next week's session refuses check-in; last week's attendance from the paper sheet can be
entered, with an after-the-fact notice. The clock is the test's (the `clock` fixture)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from playwright.sync_api import expect

from roster.extensions import db
from roster.models import AuditEvent, ClassSession
from tests.frontdesk.desk import CLINIC_TZ, clinic_today, make_scene


def _at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(CLINIC_TZ))


def _day_label(day) -> str:
    return f"{day:%a}, {day:%b} {day.day}"


def test_a_session_that_has_not_ended_cannot_be_closed(ui, build, app, clock):
    today = clinic_today()
    desk = make_scene(build, sets=1, day=today, start="09:00", minutes=60)
    clock.set(_at(today, 9, 40))  # the session runs until 10:00
    runner = build.user("facilitator", name="Dana Reyes")
    page = ui.page

    ui.login(runner.email)
    ui.goto(f"/frontdesk/sessions/{desk.session_id}/close")
    ui.click(page.get_by_role("button", name="Close session"))
    error = page.locator("#ended_at-err")
    expect(error).to_contain_text("is later than now: a session is closed once it has ended.")
    expect(page.get_by_label("Actual end")).to_have_attribute("aria-invalid", "true")
    with app.app_context():
        assert db.session.get(ClassSession, desk.session_id).status == "scheduled"

    # Once it has ended, the same form closes it.
    clock.set(_at(today, 10, 5))
    ui.click(page.get_by_role("button", name="Close session"))
    expect(page.get_by_role("status").first).to_contain_text("Session closed.")


def test_next_weeks_session_refuses_check_in_and_last_weeks_says_after_the_fact(ui, build, app, clock):
    today = clinic_today()
    clock.set(_at(today, 12, 0))
    next_week = make_scene(build, sets=1, day=today + timedelta(days=7))
    last_week = make_scene(build, sets=1, day=today - timedelta(days=7))
    clerk = build.user("front_desk", name="Jo Desk")
    page = ui.page
    ui.login(clerk.email)

    ui.goto(f"/frontdesk/sessions/{next_week.session_id}")
    day = _day_label(today + timedelta(days=7))
    expect(page.locator("#later-day-notice")).to_have_text(
        f"This session is on {day}, a later day: check-in opens on that day. Nobody can be checked in before.")
    expect(page.get_by_role("button", name=re.compile("^Check in"))).to_have_count(0)
    expect(page.get_by_label("Find a caregiver")).to_have_count(0)

    ui.goto(f"/frontdesk/sessions/{last_week.session_id}")
    day = _day_label(today - timedelta(days=7))
    expect(page.locator("#after-the-fact-notice")).to_contain_text(
        f"You are recording attendance for {day} after the fact.")
    patient, caregiver = last_week.patients[0], last_week.caregivers[0]
    ui.click(page.locator(f"#checkin-{caregiver.id}-{patient.id}"))
    expect(page.locator(f"#cg-{caregiver.id}-{patient.id}")).to_contain_text("Checked in")
    expect(page.locator("#after-the-fact-notice")).to_be_visible()
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "checkin.create"))
        assert event.after["after_the_fact"] is True
