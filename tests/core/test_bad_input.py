"""Every bad input of issue 8 answers 4xx with a sentence, and writes nothing (roster/edge.py,
roster/services/validation.py). Pages and the API alike, signed in or not."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, ClassSession, Patient
from tests.conftest import DEMO_PASSWORD
from tests.frontdesk.desk import make_scene

BIG = 2**31  # one above PostgreSQL's largest integer
THIS_YEAR = date.today().year


@pytest.fixture
def world(app, build, client):
    """A signed-in admin (pages), an admin API client and a class with one session and one set."""
    scene = make_scene(build, sets=1)
    user = build.user("admin")
    assert client.post("/login", data={"email": user.email, "password": DEMO_PASSWORD}).status_code == 302
    with app.app_context():
        secret = db.session.get(type(user), user.id).calendar_secret
    return {"scene": scene, "api": build.api_client("admin"), "page": client, "secret": secret,
            "anon": app.test_client()}


def _patient(**over):
    return {"mrn": "BAD-1", "first_name": "Ada", "last_name": "Input", "dob": "1950-04-02"} | over


def _class(starts_at: str) -> dict:
    return {"title": "Late class", "capacity": 4, "room": "Gym Z", "timezone": "America/Chicago",
            "modality": "in_person", "place_of_service": "11",
            "sessions": [{"starts_at": starts_at, "duration_minutes": 60}]}


def _nested(depth: int):
    return "[" * depth + "]" * depth


# (name, how to send it, expected status, a words of the expected message)
CASES = {
    # NUL bytes in any text, search or path, also signed out in a calendar URL
    "nul in a JSON name": (lambda w: w["api"].post("/patients", json=_patient(first_name="A\x00da")), 400,
                           "control character"),
    "nul in a form field": (lambda w: w["page"].post("/people/patients/new", data={
        "mrn": "BAD-2", "first_name": "A\x00da", "last_name": "Input", "consent_kind": "none",
        "poc_discipline": ""}), 400, "control character"),
    "nul in a search": (lambda w: w["page"].get("/people/patients?q=%00"), 400, "control character"),
    "nul in a walk-in search": (lambda w: w["page"].get(
        f"/frontdesk/sessions/{w['scene'].session_id}/search?q=a%00b"), 400, "control character"),
    "nul in a path": (lambda w: w["api"].get("/patients/MRN%00X"), 400, "control character"),
    "nul in a calendar url, signed out": (lambda w: w["anon"].get(f"/calendar/{w['secret']}%00/clinic.ics"), 400,
                                          "control character"),
    "nul in a room feed, signed out": (lambda w: w["anon"].get(f"/calendar/{w['secret']}/rooms/Gym%00.ics"), 400,
                                       "control character"),
    # a lone UTF-16 surrogate in a name
    "lone surrogate in a name": (lambda w: w["api"].post(
        "/patients", data='{"mrn": "BAD-3", "first_name": "\\ud800", "last_name": "X"}',
        content_type="application/json"), 400, "surrogate"),
    "lone surrogate in a field name": (lambda w: w["api"].patch(
        "/patients/BAD-3", data='{"\\udfff": 1}', content_type="application/json"), 400, "surrogate"),
    # ids above 2,147,483,647
    "big id in an API path": (lambda w: w["api"].get(f"/sessions/{BIG}"), 404, "nothing here"),
    "big id in a page path": (lambda w: w["page"].get(f"/schedule/classes/{BIG}"), 404, "nothing here"),
    "big id in a delete": (lambda w: w["api"].delete(f"/sessions/{w['scene'].session_id}/checkins/{BIG}"), 404,
                           "nothing here"),
    "big id in a JSON body": (lambda w: w["api"].post(f"/sessions/{w['scene'].session_id}/checkins", json={
        "caregiver_id": BIG, "patient_mrn": w["scene"].patients[0].mrn}), 400, "whole number"),
    "big ids in a JSON list": (lambda w: w["api"].post(f"/classes/{w['scene'].group_class.id}/enrollments", json={
        "patient_mrn": w["scene"].patients[0].mrn, "caregiver_ids": [BIG * 10]}), 400, "whole number"),
    "big id in a query": (lambda w: w["page"].get(
        f"/schedule/classes/{w['scene'].group_class.id}?patient_id={BIG}"), 400, "whole number"),
    "big id in a form": (lambda w: w["page"].post(f"/frontdesk/sessions/{w['scene'].session_id}/checkins", data={
        "caregiver_id": str(BIG), "patient_id": "1"}), 400, "whole number"),
    "big session number in the audit filter": (lambda w: w["page"].get(f"/billing/audit?session_id={BIG}"), 400,
                                               "whole number"),
    # page numbers
    "huge page": (lambda w: w["page"].get("/people/patients?page=99999999999999999999"), 400, "whole number"),
    "huge negative page": (lambda w: w["page"].get("/people/caregivers?page=-99999999999999999999"), 400,
                           "whole number"),
    "page of exports": (lambda w: w["page"].get("/billing/exports?page=99999999999999999999"), 400,
                        "whole number"),
    # dates out of any plausible window
    "day view in year 1": (lambda w: w["page"].get("/frontdesk/today?date=0001-01-01"), 400, "must be between"),
    "day view in year 9999": (lambda w: w["page"].get("/frontdesk/today?date=9999-12-31"), 400,
                              "must be between"),
    "closing at 9999-12-31T23:59": (lambda w: w["api"].post(f"/sessions/{w['scene'].session_id}/close", json={
        "started_at": "9999-12-31T22:59", "ended_at": "9999-12-31T23:59", "patients_present": []}), 422,
        "must be between"),
    "a session in year 9999": (lambda w: w["api"].post("/classes", json=_class("9999-12-31T23:00")), 422,
                               "must be between"),
    "a session far back": (lambda w: w["api"].post("/classes", json=_class(f"{THIS_YEAR - 11}-06-01T10:00")), 422,
                           "must be between"),
    "a weekly rule ending in 9999": (lambda w: w["api"].post("/classes", json=_class("") | {
        "sessions": [], "recurrence": {"weekdays": [0], "start_time": "10:00", "duration_minutes": 60,
                                       "first_date": f"{THIS_YEAR}-01-05", "until": "9999-12-31"}}), 422,
        "must be between"),
    "a session added in year 9999 by form": (lambda w: w["page"].post(
        f"/schedule/classes/{w['scene'].group_class.id}/sessions",
        data={"add-date": "9999-12-31", "add-start_time": "23:00", "add-duration_minutes": "60"}), 422,
        "must be between"),
    "birth before 1900": (lambda w: w["api"].post("/patients", json=_patient(dob="1899-12-31")), 422,
                          "1900 or later"),
    "birth in the future": (lambda w: w["api"].post("/patients", json=_patient(dob=f"{THIS_YEAR + 1}-01-01")),
                            422, "cannot be in the future"),
    "birth in the future by form": (lambda w: w["page"].post("/people/patients/new", data={
        "mrn": "BAD-4", "first_name": "Ada", "last_name": "Input", "dob": f"{THIS_YEAR + 1}-01-01",
        "consent_kind": "none", "poc_discipline": ""}), 422,
        "cannot be in the future"),
    # JSON nested 1,000 levels deep
    "json nested 1000 deep": (lambda w: w["api"].post("/patients", data=_nested(1000),
                                                      content_type="application/json"), 400, "nested too deeply"),
    "json nested 100 deep in a field": (lambda w: w["api"].post(
        "/patients", data='{"needs": ' + _nested(100) + "}", content_type="application/json"), 400,
        "nested too deeply"),
    # CR/LF in `next` after a good sign-in
    "cr lf in next": (lambda w: w["anon"].post("/login?next=/schedule/classes%0d%0aSet-Cookie:%20x=1", data={
        "email": "x@clinic.test", "password": "y"}), 400, "control character"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_bad_input_answers_4xx_with_a_sentence_and_writes_nothing(app, world, name):
    send, status, words = CASES[name]
    with app.app_context():
        before = (db.session.scalar(sa.select(sa.func.count(Patient.id))),
                  db.session.scalar(sa.select(sa.func.count(ClassSession.id))),
                  db.session.scalar(sa.select(sa.func.count(AuditEvent.id))))
    response = send(world)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    text = response.get_data(as_text=True)
    assert words.lower() in text.lower(), text[:3000]
    if response.is_json:
        assert response.get_json()["error"]["message"]
    with app.app_context():
        after = (db.session.scalar(sa.select(sa.func.count(Patient.id))),
                 db.session.scalar(sa.select(sa.func.count(ClassSession.id))),
                 db.session.scalar(sa.select(sa.func.count(AuditEvent.id))))
    assert after == before


def test_a_good_sign_in_with_a_foreign_next_goes_home(app, build):
    user = build.user("coordinator")
    response = app.test_client().post("/login?next=//evil.test/x", data={"email": user.email,
                                                                        "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/schedule/classes"


def test_a_session_stored_in_year_9999_never_breaks_a_feed(app, world):
    """Stored before the window existed: every feed that includes it still answers, also after a cancel."""
    scene = world["scene"]
    with app.app_context():
        odd = ClassSession(class_id=scene.group_class.id,
                           starts_at=datetime(9999, 12, 31, 22, 0, tzinfo=timezone.utc),
                           ends_at=datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc))
        db.session.add(odd)
        db.session.commit()
        odd_id = odd.id
    base = f"/calendar/{world['secret']}"
    feeds = [f"{base}/clinic.ics", f"{base}/classes/{scene.group_class.id}.ics",
             f"{base}/facilitators/{scene.facilitator.id}.ics"]
    for url in feeds:
        response = world["anon"].get(url)
        assert response.status_code == 200, url
        assert f"session-{odd_id}@roster" in response.get_data(as_text=True)
    with app.app_context():
        cancelled = db.session.get(ClassSession, odd_id)
        cancelled.status, cancelled.cancel_reason = "cancelled", "Entered by mistake"
        db.session.commit()
    for url in feeds:
        assert world["anon"].get(url).status_code == 200, url
