"""Coordinators pick a class's training family on the class forms; the list and page show it."""

from __future__ import annotations

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, GroupClass


def class_form(**over) -> dict:
    return {
        "title": "Managing agitation", "needs": "dementia", "room": "Room 2", "capacity": "8",
        "facilitator_id": "", "timezone": "America/Chicago", "modality": "in_person", "place_of_service": "",
        "training": "behavior", "weekdays": ["1"], "start_time": "10:00", "duration_minutes": "75",
        "first_date": "2027-02-23", "count": "2", "until": "",
    } | over


def trainings(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(GroupClass.training).order_by(GroupClass.id)))


def test_new_class_form_offers_the_three_families_and_saves_the_choice(app, client, login):
    login("coordinator")
    page = client.get("/schedule/classes/new").get_data(as_text=True)
    assert 'name="training"' in page
    for label in ("Functional performance: 97550/97551 individual, 97552 group",
                  "Direct care: G0541/G0542 individual, G0543 group",
                  "Behavior management: G0539/G0540 individual, 96202/96203 group"):
        assert label in page
    response = client.post("/schedule/classes/new", data=class_form())
    assert response.status_code == 302
    assert trainings(app) == ["behavior"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<dt>Training family</dt><dd>Behavior management" in page
    assert "G0539, G0540, 96202, 96203" in page
    listing = client.get("/schedule/classes").get_data(as_text=True)
    assert "<td>Behavior management</td>" in listing


def test_an_unknown_family_is_refused_on_its_field_and_nothing_is_written(app, client, login):
    login("coordinator")
    response = client.post("/schedule/classes/new", data=class_form(training="yoga"))
    assert response.status_code == 422
    assert 'id="training-err"' in response.get_data(as_text=True)
    assert trainings(app) == []


def test_edit_class_changes_the_family_and_audits_it(app, client, login, build):
    login("coordinator")
    group_class = build.group_class()
    form = client.get(f"/schedule/classes/{group_class.id}/edit").get_data(as_text=True)
    assert '<option selected value="functional">' in form
    response = client.post(f"/schedule/classes/{group_class.id}/edit", data={
        "title": group_class.title, "needs": "stroke", "room": group_class.room, "capacity": "12",
        "facilitator_id": "", "timezone": "America/Chicago", "modality": "in_person",
        "place_of_service": "11", "training": "direct_care"})
    assert response.status_code == 302
    assert trainings(app) == ["direct_care"]
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "class.update")).one()
        assert (event.before["training"], event.after["training"]) == ("functional", "direct_care")


def test_the_enrolment_warning_names_the_family(client, login, build):
    login("coordinator")
    group_class = build.group_class(needs=["dementia"], training="behavior")
    patient = build.patient(needs=["stroke"])
    caregiver = build.caregiver(patients=[patient])
    response = client.post(f"/schedule/classes/{group_class.id}/enrollments",
                           data={"patient_id": patient.id, "caregiver_ids": [caregiver.id]},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "behavior management class" in page and "G0539, G0540, 96202, 96203" in page


def test_the_class_page_says_which_family_a_held_session_is_billed_as_after_the_class_changed(client, login, api):
    admin = api("admin")
    fid = admin.post("/facilitators", json={"name": "Dr. Kim Lee, MD", "npi": "1234567893",
                                            "discipline": "MD"}).get_json()["id"]
    admin.post("/patients", json={"mrn": "A1", "first_name": "Walter", "last_name": "Ames", "dob": "1950-04-02",
                                  "payer": "Medicare", "member_id": "1EG4TE5MK73", "needs": ["dementia"],
                                  "diagnosis_codes": ["G30.9"], "consent": {"date": "2026-01-05", "kind": "written"}})
    cid = admin.post("/caregivers", json={"first_name": "Rita", "last_name": "Ames",
                                          "links": [{"patient_mrn": "A1"}]}).get_json()["id"]
    created = admin.post("/classes", json={
        "title": "Managing agitation", "needs": ["dementia"], "capacity": 5, "room": "R", "facilitator_id": fid,
        "timezone": "America/Chicago", "modality": "in_person", "place_of_service": "11", "training": "behavior",
        "sessions": [{"starts_at": "2026-03-03T10:00", "duration_minutes": 60},
                     {"starts_at": "2026-03-10T10:00", "duration_minutes": 60}]}).get_json()
    held = created["session_ids"][0]
    assert admin.post(f"/sessions/{held}/checkins", json={"caregiver_id": cid}).status_code == 201
    assert admin.post(f"/sessions/{held}/close", json={"facilitator_id": fid, "started_at": "2026-03-03T10:00",
                                                       "ended_at": "2026-03-03T11:00"}).status_code == 200
    login("coordinator")
    page = client.get(f"/schedule/classes/{created['id']}").get_data(as_text=True)
    assert "Billed as" not in page  # the class still has the family its session was held with
    assert admin.patch(f"/classes/{created['id']}", json={"training": "functional"}).status_code == 200
    page = client.get(f"/schedule/classes/{created['id']}").get_data(as_text=True)
    assert page.count("Billed as behavior management training, the class's family when it was held") == 1
    assert f'id="session-{held}"' in page.split("Billed as")[0].rsplit("<tr", 1)[1]
