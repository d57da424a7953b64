"""Time sense: no closing before the end, no check-in on a later day, back-entry marked as such.
The clock is the test's (`clock` fixture); the pure core never reads it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, CheckIn, ClassSession
from tests.builders import PASSWORD
from tests.frontdesk.desk import CLINIC_TZ, clinic_today, make_scene


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(CLINIC_TZ))


def _close(client, session_id, day, start="09:00", end="10:00"):
    return client.post(f"/sessions/{session_id}/close", json={
        "facilitator_id": None, "started_at": f"{day}T{start}", "ended_at": f"{day}T{end}",
        "patients_present": []})


def test_closing_refuses_an_end_later_than_now(app, build, api, clock):
    today = clinic_today()
    desk = make_scene(build, sets=1, day=today)
    clock.set(_at(today, 9, 59))
    client = api("facilitator")
    answer = _close(client, desk.session_id, today)
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert list(error["fields"]) == ["ended_at"]
    assert "later than now" in error["fields"]["ended_at"]
    with app.app_context():
        assert db.session.get(ClassSession, desk.session_id).status == "scheduled"
    clock.set(_at(today, 10, 0))
    assert _close(client, desk.session_id, today).status_code == 200


def test_check_in_on_a_later_day_is_refused_with_409_and_writes_nothing(app, build, api, clock):
    today = clinic_today()
    clock.set(_at(today, 23, 59))
    desk = make_scene(build, sets=1, day=today + timedelta(days=1), start="00:30")
    patient, caregiver = desk.patients[0], desk.caregivers[0]
    client = api("front_desk")
    answer = client.post(f"/sessions/{desk.session_id}/checkins", json={"caregiver_id": caregiver.id})
    assert answer.status_code == 409
    assert "later day" in answer.get_json()["error"]["message"]
    # The form says so too, and nothing is written either way.
    form = app.test_client()
    user = build.user("front_desk")
    form.post("/login", data={"email": user.email, "password": PASSWORD})
    response = form.post(f"/frontdesk/sessions/{desk.session_id}/checkins",
                         data={"caregiver_id": caregiver.id, "patient_id": patient.id}, follow_redirects=True)
    assert "a later day: caregivers are checked in on the day they come" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 0
    # Once that day has come (in the class's zone), the same check-in is taken.
    clock.set(_at(today + timedelta(days=1), 0, 1))
    assert client.post(f"/sessions/{desk.session_id}/checkins",
                       json={"caregiver_id": caregiver.id}).status_code == 201


def test_back_entry_for_a_past_session_is_allowed_and_audited_as_after_the_fact(app, build, api, clock):
    today = clinic_today()
    clock.set(_at(today, 12))
    past = make_scene(build, sets=1, day=today - timedelta(days=7))
    current = make_scene(build, sets=1, day=today, start="08:00")
    client = api("front_desk")
    for desk in (past, current):
        answer = client.post(f"/sessions/{desk.session_id}/checkins", json={"caregiver_id": desk.caregivers[0].id})
        assert answer.status_code == 201
    with app.app_context():
        events = {e.session_id: e.after for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "checkin.create"))}
    assert events[past.session_id]["after_the_fact"] is True
    assert "after_the_fact" not in events[current.session_id]
    page = app.test_client()
    user = build.user("front_desk")
    page.post("/login", data={"email": user.email, "password": PASSWORD})
    day = today - timedelta(days=7)
    text = page.get(f"/frontdesk/sessions/{past.session_id}").get_data(as_text=True)
    assert f"You are recording attendance for {day:%a}, {day:%b} {day.day} after the fact." in text
    assert "after the fact" not in page.get(f"/frontdesk/sessions/{current.session_id}").get_data(as_text=True)
