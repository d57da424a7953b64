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
    group_class = build.group_class(capacity=capacity, sessions=[{"starts_at": "2099-03-03T10:00", "duration_minutes": 60}])
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
    group_class = build.group_class(needs=["dementia"], sessions=[{"starts_at": "2099-03-03T10:00", "duration_minutes": 60}])
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
