"""Changing a class itself: its details, refused when they clash or no longer fit, audited, billing re-checked."""

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, ClassSession, GroupClass
from tests.billing.clinic import Clinic


def class_of(app, class_id: int) -> GroupClass:
    with app.app_context():
        group_class = db.session.get(GroupClass, class_id)
        db.session.expunge(group_class)
        return group_class


def edit_form(app, class_id: int, **over) -> dict:
    """The edit form as the browser posts it: the class's current details, some of them changed."""
    c = class_of(app, class_id)
    return {
        "title": c.title, "needs": ", ".join(c.needs), "room": c.room, "capacity": str(c.capacity),
        "facilitator_id": str(c.facilitator_id or ""), "timezone": c.timezone, "modality": c.modality,
        "place_of_service": c.place_of_service,
    } | over


def class_updates(app) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "class.update")))


def sequences(app, class_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(ClassSession.sequence).where(ClassSession.class_id == class_id).order_by(ClassSession.id)))


def test_edit_form_is_filled_in_with_the_class(client, login, build):
    login("coordinator")
    dana = build.facilitator(name="Dana Reyes, PT")
    old_hand = build.facilitator(name="Old Hand, PT", active=False)
    group_class = build.group_class(facilitator=dana, title="Dementia at home", needs=["dementia", "falls"],
                                    room="Gym A", capacity=6, timezone="America/Denver",
                                    modality="telehealth", place_of_service="10")
    page = client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    assert f'href="/schedule/classes/{group_class.id}/edit">Edit class</a>' in page
    response = client.get(f"/schedule/classes/{group_class.id}/edit")
    assert response.status_code == 200
    form = response.get_data(as_text=True)
    for value in ('value="Dementia at home"', 'value="dementia, falls"', 'value="Gym A"', 'value="6"',
                  f'<option selected value="{dana.id}">Dana Reyes, PT</option>',
                  '<option selected value="America/Denver">', '<option selected value="telehealth">',
                  '<option selected value="10">'):
        assert value in form
    assert "Old Hand" not in form  # inactive facilitators are not offered...
    kept = build.group_class(facilitator=old_hand, room="Gym C")
    form = client.get(f"/schedule/classes/{kept.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{old_hand.id}">Old Hand, PT (inactive)</option>' in form  # ...but kept
    assert 'name="weekdays"' not in form and 'name="first_date"' not in form
    assert client.get("/schedule/classes/999/edit").status_code == 404


def test_edit_title_needs_capacity_and_room_is_saved_and_audited(app, client, login, build):
    login("coordinator")
    group_class = build.group_class(title="Stroke basics", needs=["stroke"], capacity=4, room="Gym A", sessions=[
        {"starts_at": f"2027-02-{day:02d}T10:00", "duration_minutes": 60} for day in (2, 9)])
    response = client.post(f"/schedule/classes/{group_class.id}/edit", data=edit_form(
        app, group_class.id, title="Stroke caregiver skills", needs="stroke, aphasia", capacity="8", room="Studio B"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/schedule/classes/{group_class.id}")
    changed = class_of(app, group_class.id)
    assert (changed.title, changed.needs, changed.capacity, changed.room) == (
        "Stroke caregiver skills", ["stroke", "aphasia"], 8, "Studio B")
    (event,) = class_updates(app)
    assert event.entity_id == group_class.id and event.actor_label.startswith("coordinator")
    assert (event.before["title"], event.after["title"]) == ("Stroke basics", "Stroke caregiver skills")
    assert (event.before["capacity"], event.after["capacity"]) == (4, 8)
    assert (event.before["room"], event.after["room"]) == ("Gym A", "Studio B")
    assert sequences(app, group_class.id) == [1, 1]  # calendar feeds update the events
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "“Stroke caregiver skills” is saved." in page and "stroke, aphasia" in page


def test_capacity_below_seats_taken_is_refused_on_its_field_and_nothing_is_written(app, client, login, build):
    login("coordinator")
    group_class = build.group_class(title="Stroke basics", capacity=4)
    patient = build.patient()
    build.enroll(group_class, patient, [build.caregiver(patients=[patient]), build.caregiver(patients=[patient])])
    response = client.post(f"/schedule/classes/{group_class.id}/edit",
                           data=edit_form(app, group_class.id, title="Renamed", capacity="1"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="capacity-err">At least 2: 2 seats are taken; withdraw sets to go lower.' in page
    assert 'value="Renamed"' in page  # what was typed stays in the form
    unchanged = class_of(app, group_class.id)
    assert (unchanged.title, unchanged.capacity) == ("Stroke basics", 4)
    assert class_updates(app) == [] and sequences(app, group_class.id) == [0]


def test_form_and_service_errors_are_shown_on_their_fields(app, client, login, build):
    login("coordinator")
    group_class = build.group_class()
    url = f"/schedule/classes/{group_class.id}/edit"
    response = client.post(url, data=edit_form(app, group_class.id, title=""))
    assert response.status_code == 422
    assert 'id="title-err">Give the class a title.' in response.get_data(as_text=True)
    response = client.post(url, data=edit_form(app, group_class.id, capacity="0"))
    assert response.status_code == 422
    assert 'id="capacity-err">Capacity must be between 1 and 500.' in response.get_data(as_text=True)
    assert class_updates(app) == []


def test_room_clash_with_another_class_is_refused_naming_its_session(app, client, login, build):
    login("coordinator")
    build.group_class(title="Dementia at home", room="Studio B",
                      sessions=[{"starts_at": "2027-02-09T10:30", "duration_minutes": 60}])
    group_class = build.group_class(room="Gym A", sessions=[
        {"starts_at": f"2027-02-{day:02d}T10:00", "duration_minutes": 60} for day in (2, 9)])
    response = client.post(f"/schedule/classes/{group_class.id}/edit",
                           data=edit_form(app, group_class.id, room="studio b", title="Renamed"))
    assert response.status_code == 422
    assert ("studio b is already booked by “Dementia at home” on Tue 09 Feb 2027 10:30–11:30."
            in response.get_data(as_text=True))
    unchanged = class_of(app, group_class.id)
    assert (unchanged.room, unchanged.title) == ("Gym A", "Stroke caregiver skills")
    assert class_updates(app) == [] and sequences(app, group_class.id) == [0, 0]


def test_changing_needs_applies_to_sessions_not_yet_held(app, client, login, api):
    """S8 (changes what this test pinned before: a needs edit used to re-bill held sessions)."""
    clinic = Clinic(api("admin"))
    stroke, aphasia = clinic.patient(needs=["stroke"]), clinic.patient(needs=["aphasia", "stroke"])
    session_id = clinic.group_session([stroke, aphasia], clinic.facilitator(), needs=["stroke"])
    class_id = clinic.last_class_id
    assert clinic.billing(session_id)["findings"] == []
    login("coordinator")

    response = client.post(f"/schedule/classes/{class_id}/edit", data=edit_form(app, class_id, needs="dementia"))
    assert response.status_code == 302
    assert clinic.billing(session_id)["findings"] == []  # held with focus "stroke": kept

    # Re-opened and held again, the session is held with the class as it is now.
    clinic.call("post", f"/sessions/{session_id}/reopen", {"reason": "late sign-in sheet"})
    clinic.close(session_id, "2026-02-03T10:00", clinic.facilitator())
    assert {(f["patient_mrn"], f["code"]) for f in clinic.billing(session_id)["findings"]} == {
        (stroke, "NEEDS_MISMATCH"), (aphasia, "NEEDS_MISMATCH")}


def test_front_desk_may_not_edit_a_class(app, client, login, build):
    login("front_desk")
    group_class = build.group_class()
    assert "Edit class" not in client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    assert client.get(f"/schedule/classes/{group_class.id}/edit").status_code == 403
    response = client.post(f"/schedule/classes/{group_class.id}/edit", data=edit_form(app, group_class.id, title="X"))
    assert response.status_code == 403
    assert class_of(app, group_class.id).title == "Stroke caregiver skills"


# --------------------------------------------------------------------------- a session's facilitator


def test_a_sessions_blank_facilitator_names_the_class_facilitator_it_stands_for(client, login, build):
    login("coordinator")
    dana = build.facilitator(name="Dana Reyes, PT")
    staffed = build.group_class(facilitator=dana)
    form = client.get(f"/schedule/sessions/{staffed.session_ids[0]}/edit").get_data(as_text=True)
    assert '<option selected value="">The class&#39;s facilitator (Dana Reyes, PT)</option>' in form
    unstaffed = build.group_class(sessions=[{"starts_at": "2027-03-02T10:00", "duration_minutes": 60}])
    form = client.get(f"/schedule/sessions/{unstaffed.session_ids[0]}/edit").get_data(as_text=True)
    assert '<option selected value="">None: the class has no planned facilitator</option>' in form
