"""Issue 13 for coordinators: seats added move waiting sets in, "Move into class" by hand, messages beside
the caregiver sets, needs shown when choosing a patient to enrol."""

from __future__ import annotations

import html

import sqlalchemy as sa

from roster.extensions import db
from roster.models import Enrollment
from tests.schedule.test_edit_class import edit_form


def _statuses(app, class_id: int) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(
            sa.select(Enrollment.patient_id, Enrollment.status).where(Enrollment.class_id == class_id)).tuples().all())


def _class_with_a_waitlist(build, capacity: int = 2):
    group_class = build.group_class(capacity=capacity, sessions=[{"starts_at": "2028-03-07T10:00", "duration_minutes": 60}])
    patients = [build.patient(first_name=name, last_name="Bell", needs=["stroke"]) for name in ("Ann", "June", "Hal")]
    for p in patients:
        build.enroll(group_class, p, [build.caregiver([p]), build.caregiver([p])] if p is patients[0] else [build.caregiver([p])])
    return group_class, patients  # Ann: 2 seats (enrolled), June and Hal: waiting


def test_raising_capacity_moves_waiting_sets_in_and_says_so_beside_the_sets(app, client, login, build):
    group_class, (ann, june, hal) = _class_with_a_waitlist(build)
    assert _statuses(app, group_class.id) == {ann.id: "enrolled", june.id: "waitlisted", hal.id: "waitlisted"}
    login("coordinator")
    response = client.post(f"/schedule/classes/{group_class.id}/edit", data=edit_form(app, group_class.id, capacity="4"))
    assert response.status_code == 302 and response.location.endswith("?at=sets#sets")
    assert _statuses(app, group_class.id) == {ann.id: "enrolled", june.id: "enrolled", hal.id: "enrolled"}
    page = html.unescape(client.get(response.location).get_data(as_text=True))
    sets = page[page.index('id="sets"'):]
    assert "June Bell's caregivers moved from the waitlist into the class (seats were added)." in sets
    assert "moved from the waitlist" not in page[:page.index('id="sets"')]  # not at the top, off-screen


def test_move_into_class_by_hand_when_seats_are_free_and_a_clear_refusal_when_not(app, client, login, build):
    group_class, (ann, june, hal) = _class_with_a_waitlist(build, capacity=3)
    # seat 3 is free: June (1 seat, first in line) was moved in at enrolment? no: Ann took 2, June took the 3rd
    statuses = _statuses(app, group_class.id)
    assert statuses[hal.id] == "waitlisted"
    login("coordinator")
    page = client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    assert "Move into class" in page
    with app.app_context():
        hal_enrolment = db.session.scalar(sa.select(Enrollment.id).where(Enrollment.patient_id == hal.id))
    response = client.post(f"/schedule/enrollments/{hal_enrolment}/move-in")
    text = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Hal Bell's set needs 1 seat and 0 are free: raise the class's capacity or withdraw a set first." in text
    assert _statuses(app, group_class.id)[hal.id] == "waitlisted"

    client.post(f"/schedule/classes/{group_class.id}/edit", data=edit_form(app, group_class.id, capacity="3"))
    with app.app_context():
        june_enrolment = db.session.scalar(sa.select(Enrollment).where(Enrollment.patient_id == june.id))
        june_enrolment.status, june_enrolment.position = "waitlisted", 1  # as if June had waited
        db.session.commit()
    response = client.post(f"/schedule/enrollments/{hal_enrolment}/move-in")  # ahead of June, by hand
    assert _statuses(app, group_class.id)[hal.id] == "enrolled"
    text = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Hal Bell's caregivers moved from the waitlist into the class." in text[text.index('id="sets"'):]


def test_enrol_messages_show_beside_the_sets(app, client, login, build):
    group_class = build.group_class(needs=["dementia"], sessions=[{"starts_at": "2028-03-07T10:00", "duration_minutes": 60}])
    p = build.patient(first_name="Ida", last_name="Moss", needs=["stroke"])
    carer = build.caregiver([p])
    login("coordinator")
    search = html.unescape(client.get(f"/schedule/classes/{group_class.id}?q=Moss").get_data(as_text=True))
    assert "Needs: stroke" in search  # shown while choosing
    response = client.post(f"/schedule/classes/{group_class.id}/enrollments",
                           data={"patient_id": p.id, "caregiver_ids": [carer.id]})
    page = html.unescape(client.get(response.location).get_data(as_text=True))
    sets = page[page.index('id="sets"'):]
    assert "enrolled for Ida Moss." in sets and "Billing will flag NEEDS_MISMATCH" in sets


# --------------------------------------------------------------------------- a class made by mistake


def test_sessions_in_the_past_need_a_tick_first(app, client, login):
    from tests.schedule.test_schedule_pages import class_count, class_form

    login("coordinator")
    response = client.post("/schedule/classes/new", data=class_form(first_date="2020-02-04"))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and class_count(app) == 0
    assert "Tue, Feb 4, 2020 at 10:00\u202fAM is in the past" in page and "tick this box" in page
    response = client.post("/schedule/classes/new", data=class_form(first_date="2020-02-04", confirm_past="y"))
    assert response.status_code == 302 and class_count(app) == 1


def test_adding_a_past_session_needs_a_tick_too(app, client, login, build):
    group_class = build.group_class(sessions=[{"starts_at": "2028-03-07T10:00", "duration_minutes": 60}])
    login("coordinator")
    data = {"add-date": "2020-07-07", "add-start_time": "10:00", "add-duration_minutes": "60"}
    response = client.post(f"/schedule/classes/{group_class.id}/sessions", data=data)
    assert response.status_code == 422 and "is in the past" in html.unescape(response.get_data(as_text=True))
    assert client.post(f"/schedule/classes/{group_class.id}/sessions",
                       data=data | {"add-confirm_past": "y"}).status_code == 302


def test_a_class_without_attendance_is_deleted(app, client, login, build):
    from roster.models import AuditEvent, ClassSession, GroupClass

    group_class = build.group_class(sessions=[{"starts_at": "2028-03-07T10:00", "duration_minutes": 60}])
    p = build.patient()
    build.enroll(group_class, p, [build.caregiver([p])])
    login("coordinator")
    page = client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    assert "Delete class" in page and "Archive class" not in page
    response = client.post(f"/schedule/classes/{group_class.id}/delete")
    assert response.status_code == 302 and response.location.endswith("/schedule/classes")
    with app.app_context():
        assert db.session.get(GroupClass, group_class.id) is None
        assert db.session.scalar(sa.select(sa.func.count(ClassSession.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 0
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "class.delete"))


def test_a_class_with_attendance_is_archived_not_deleted(app, client, login, build):
    from tests.frontdesk.desk import make_scene

    desk = make_scene(build, sets=1)
    later = desk.group_class
    login("coordinator")
    client.post(f"/frontdesk/sessions/{desk.session_id}/checkins",
                data={"caregiver_id": desk.caregivers[0].id, "patient_id": desk.patients[0].id})
    page = client.get(f"/schedule/classes/{later.id}").get_data(as_text=True)
    assert "Archive class" in page and "Delete class" not in page
    refused = client.post(f"/schedule/classes/{later.id}/delete")
    assert "has attendance, so it cannot be deleted; archive it instead" in html.unescape(
        client.get(refused.location).get_data(as_text=True))
    done = client.post(f"/schedule/classes/{later.id}/archive")
    assert "is archived: it keeps its attendance" in html.unescape(client.get(done.location).get_data(as_text=True))
    assert later.title not in client.get("/schedule/classes").get_data(as_text=True)
    archived = html.unescape(client.get("/schedule/classes?archived=1").get_data(as_text=True))
    assert later.title in archived
    assert "Archived" in client.get(f"/schedule/classes/{later.id}").get_data(as_text=True)
