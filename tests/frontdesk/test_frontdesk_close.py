"""Closing a session from the desk, re-opening it, and the end-of-day list of what is still open."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, BillingLine, ClassSession, PatientPresence
from roster.services import scheduling
from tests.frontdesk.desk import clinic_today


def close_url(scene) -> str:
    return f"/frontdesk/sessions/{scene.session_id}/close"


def check_in_all(client, scene):
    for c, p in zip(scene.caregivers, scene.patients):
        response = client.post(f"/frontdesk/sessions/{scene.session_id}/checkins",
                               data={"caregiver_id": c.id, "patient_id": p.id})
        assert response.status_code == 302


def close_data(scene, **over) -> dict:
    return {"facilitator_id": scene.facilitator.id, "started_at": "09:02", "ended_at": "10:00",
            "patients_present": []} | over


def session_row(app, session_id: int) -> ClassSession:
    with app.app_context():
        session = db.session.get(ClassSession, session_id)
        db.session.expunge(session)
        return session


def lines(app, session_id: int) -> list[BillingLine]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(BillingLine).where(BillingLine.session_id == session_id, BillingLine.status != "void")))


def count_events(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_the_close_form_defaults_to_the_plan_and_the_desks_present_marks(client, login, scene):
    desk = scene(sets=2)
    login("facilitator")
    client.post(f"/frontdesk/sessions/{desk.session_id}/present",
                data={"patient_id": desk.patients[0].id, "present": "yes"})
    html = client.get(close_url(desk)).get_data(as_text=True)
    assert f'<option selected value="{desk.facilitator.id}">' in html
    assert 'value="09:00"' in html and 'value="10:00"' in html
    present, absent = desk.patients
    assert f'checked id="patients_present-0" name="patients_present" type="checkbox" value="{present.mrn}"' in html
    assert f'id="patients_present-1" name="patients_present" type="checkbox" value="{absent.mrn}"' in html
    assert 'checked id="patients_present-1"' not in html


def test_end_before_start_is_refused_clearly_and_writes_nothing(app, client, login, scene):
    desk = scene(sets=2)
    login("facilitator")
    check_in_all(client, desk)
    response = client.post(close_url(desk), data=close_data(desk, started_at="10:00", ended_at="09:15"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The session must end after it starts." in html and 'aria-invalid="true"' in html
    assert session_row(app, desk.session_id).status == "scheduled"
    assert count_events(app, "session.close") == 0
    assert lines(app, desk.session_id) == []


def test_a_missing_time_is_refused_clearly(app, client, login, scene):
    desk = scene(sets=1)
    login("facilitator")
    response = client.post(close_url(desk), data=close_data(desk, ended_at=""))
    assert response.status_code == 422
    assert "Enter the time the session ended." in response.get_data(as_text=True)
    assert session_row(app, desk.session_id).status == "scheduled"


def test_closing_a_group_of_two_makes_two_97552_lines_and_shows_them_to_billing(app, client, login, scene):
    desk = scene(sets=2)
    login("admin")
    check_in_all(client, desk)
    response = client.post(close_url(desk), data=close_data(desk))
    assert response.status_code == 302 and response.location.endswith(close_url(desk))

    session = session_row(app, desk.session_id)
    assert session.status == "held" and session.actual_facilitator_id == desk.facilitator.id
    made = lines(app, desk.session_id)
    assert sorted((l.patient_id, l.cpt, l.units, l.status) for l in made) == sorted(
        (p.id, "97552", 1, "ready") for p in desk.patients)
    assert {l.rendering_npi for l in made} == {desk.facilitator.npi}
    assert count_events(app, "session.close") == 1

    html = client.get(response.location).get_data(as_text=True)
    assert "Session closed." in html and "Closed" in html
    assert html.count("<td>97552</td>") == 2
    assert "9:02\u202fAM–10:00\u202fAM" in html


def test_without_billing_rights_the_closer_sees_just_closed(client, login, scene):
    desk = scene(sets=2)
    login("facilitator")
    check_in_all(client, desk)
    response = client.post(close_url(desk), data=close_data(desk))
    html = client.get(response.location).get_data(as_text=True)
    assert "Closed" in html and "97552" not in html and "Billing" not in html


def test_unticking_a_present_patient_on_close_clears_the_mark(app, client, login, scene):
    desk = scene(sets=2)
    login("coordinator")
    client.post(f"/frontdesk/sessions/{desk.session_id}/present",
                data={"patient_id": desk.patients[0].id, "present": "yes"})
    check_in_all(client, desk)
    client.post(close_url(desk), data=close_data(desk, patients_present=[desk.patients[1].mrn]))
    with app.app_context():
        marks = db.session.scalars(sa.select(PatientPresence.patient_id)).all()
    assert marks == [desk.patients[1].id]


def test_closing_without_a_facilitator_is_possible_and_holds_billing(app, client, login, scene):
    desk = scene(sets=2)
    login("admin")
    check_in_all(client, desk)
    client.post(close_url(desk), data=close_data(desk, facilitator_id=""))
    assert session_row(app, desk.session_id).actual_facilitator_id is None
    assert {l.status for l in lines(app, desk.session_id)} == {"held"}
    assert "NO_FACILITATOR" in client.get(close_url(desk)).get_data(as_text=True)


def test_reopen_needs_a_reason(app, client, login, scene):
    desk = scene(sets=2)
    login("facilitator")
    check_in_all(client, desk)
    client.post(close_url(desk), data=close_data(desk))
    reopen = f"/frontdesk/sessions/{desk.session_id}/reopen"

    refused = client.post(reopen, data={"reason": "  "})
    assert refused.status_code == 422
    assert "Say why the session is re-opened." in refused.get_data(as_text=True)
    assert session_row(app, desk.session_id).status == "held"

    done = client.post(reopen, data={"reason": "Wrong caregiver checked in"})
    assert done.status_code == 302 and done.location.endswith(f"/frontdesk/sessions/{desk.session_id}")
    assert session_row(app, desk.session_id).status == "scheduled"
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.reopen"))
        assert event.after["reason"] == "Wrong caregiver checked in" and event.before["status"] == "held"
    assert lines(app, desk.session_id) == []


def test_a_cancelled_session_cannot_be_closed(app, client, login, scene):
    desk = scene(sets=1)
    with app.app_context():
        scheduling.cancel_session(scheduling.get_session(desk.session_id), "Room flooded")
        db.session.commit()
    login("facilitator")
    assert "there is nothing to close" in client.get(close_url(desk)).get_data(as_text=True)
    response = client.post(close_url(desk), data=close_data(desk))
    assert response.status_code == 422
    assert "A cancelled session cannot be closed." in response.get_data(as_text=True)
    assert session_row(app, desk.session_id).status == "cancelled"


def test_end_of_day_lists_sessions_left_open_and_held_ones_without_a_facilitator(app, client, login, scene):
    login("facilitator")
    today = clinic_today()
    yesterday = scene(sets=1, day=today - timedelta(days=1))
    last_week = scene(sets=1, day=today - timedelta(days=7))
    closed = scene(sets=2, day=today - timedelta(days=2))
    closed_anonymously = scene(sets=2, day=today - timedelta(days=3))
    future = scene(sets=1, day=today + timedelta(days=2))
    check_in_all(client, closed)
    check_in_all(client, closed_anonymously)
    client.post(close_url(closed), data=close_data(closed))
    client.post(close_url(closed_anonymously), data=close_data(closed_anonymously, facilitator_id=""))

    html = client.get("/frontdesk/open-sessions").get_data(as_text=True)
    for open_one in (yesterday, last_week, closed_anonymously):
        assert f'href="{close_url(open_one)}"' in html
    for done in (closed, future):
        assert f'href="{close_url(done)}"' not in html
    assert html.index(close_url(yesterday)) < html.index(close_url(last_week))  # most recent first
    assert "No facilitator recorded" in html and "Not closed" in html
