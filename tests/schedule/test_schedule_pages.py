"""Schedule pages: the class list, creating a class, the class page, changing and cancelling sessions."""

from datetime import date, datetime, time, timezone

import sqlalchemy as sa

from roster.domain.recurrence import utc_to_local
from roster.extensions import db
from roster.models import AuditEvent, ClassSession, GroupClass

CHI = "America/Chicago"


def class_form(**over) -> dict:
    """The new-class form as a browser posts it: six Tuesdays at 10:00, across the March DST change."""
    return {
        "title": "Stroke caregiver skills", "needs": "stroke, aphasia", "room": "Gym A", "capacity": "4",
        "facilitator_id": "", "timezone": CHI, "modality": "in_person", "place_of_service": "",
        "weekdays": ["1"], "start_time": "10:00", "duration_minutes": "60", "first_date": "2027-02-23",
        "count": "6", "until": "",
    } | over


def sessions_of(app, class_id: int) -> list[ClassSession]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(ClassSession).where(ClassSession.class_id == class_id).order_by(ClassSession.starts_at)
        ).all()
        db.session.expunge_all()
        return list(rows)


def class_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(GroupClass.id)))


def session_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(ClassSession.id)))


# --------------------------------------------------------------------------- class list

LATER = date(date.today().year + 2, 3, 3)  # to come, within the window of plausible session dates (issue 8)


def test_class_list_shows_each_class_with_seats_waiting_and_next_session(client, login, build):
    login("coordinator")
    dana = build.facilitator(name="Dana Reyes, PT")
    full = build.group_class(facilitator=dana, title="Dementia at home", needs=["dementia"], capacity=2,
                             sessions=[{"starts_at": f"{LATER.isoformat()}T10:00", "duration_minutes": 60}])
    for _ in range(2):
        patient = build.patient()
        build.enroll(full, patient, [build.caregiver(patients=[patient])])
    waiting = build.patient()
    build.enroll(full, waiting, [build.caregiver(patients=[waiting])])
    build.group_class(title="Aphasia basics", modality="telehealth", room="")

    page = client.get("/schedule/classes").get_data(as_text=True)
    assert "New class" in page
    assert page.index("Dementia at home") < page.index("Aphasia basics")  # the one with a session to come first
    row = page[page.index("Dementia at home"):page.index("Aphasia basics")]
    assert "Dana Reyes, PT" in row and "dementia" in row and "In person" in row
    assert f"{LATER:%a, %b} {LATER.day}, {LATER.year}, 10:00\u202fAM" in row
    assert '<td class="num">2 / 2</td>' in row and '<td class="num">1</td>' in row
    assert "Telehealth" in page and "None to come" in page


def test_class_list_hides_new_class_from_front_desk(client, login, build):
    login("front_desk")
    build.group_class()
    page = client.get("/schedule/classes").get_data(as_text=True)
    assert "Stroke caregiver skills" in page and "New class" not in page
    assert client.get("/schedule/classes/new").status_code == 403
    assert client.post("/schedule/classes/new", data=class_form()).status_code == 403


def test_class_list_runs_a_bounded_number_of_queries(client, login, build, count_queries):
    login("coordinator")

    def add_classes(n):
        for _ in range(n):
            group_class = build.group_class(facilitator=build.facilitator())
            patient = build.patient()
            build.enroll(group_class, patient, [build.caregiver(patients=[patient])])

    def queries():
        with count_queries() as counter:
            assert client.get("/schedule/classes").status_code == 200
        return counter.count

    add_classes(2)
    few = queries()
    add_classes(10)
    assert queries() == few


# --------------------------------------------------------------------------- new class


def test_new_class_form_offers_us_zones_and_defaults_to_the_clinic_zone(client, login):
    login("coordinator")
    page = client.get("/schedule/classes/new").get_data(as_text=True)
    assert '<option selected value="America/Chicago">' in page
    for zone in ("America/New_York", "America/Denver", "America/Phoenix", "America/Los_Angeles",
                 "America/Anchorage", "Pacific/Honolulu"):
        assert f'value="{zone}"' in page
    for day in ("Monday", "Sunday"):
        assert f">{day}</label>" in page


def test_new_class_form_creates_the_weekly_series_at_the_same_local_time(app, client, login, build):
    login("coordinator")
    dana = build.facilitator()
    response = client.post("/schedule/classes/new", data=class_form(facilitator_id=str(dana.id)))
    assert response.status_code == 302
    with app.app_context():
        group_class = db.session.scalars(sa.select(GroupClass)).one()
        assert (group_class.title, group_class.needs, group_class.room, group_class.capacity) == (
            "Stroke caregiver skills", ["stroke", "aphasia"], "Gym A", 4)
        assert (group_class.facilitator_id, group_class.place_of_service) == (dana.id, "11")
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "class.create")) is not None
    assert response.headers["Location"].endswith(f"/schedule/classes/{group_class.id}")
    sessions = sessions_of(app, group_class.id)
    assert len(sessions) == 6
    assert {utc_to_local(s.starts_at, CHI).time() for s in sessions} == {time(10, 0)}
    assert [s.starts_at.hour for s in sessions] == [16, 16, 16, 15, 15, 15]  # DST began 14 March 2027
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is scheduled with 6 sessions" in page
    assert "Tue, Mar 16, 2027" in page and page.count("10:00\u202fAM–11:00\u202fAM") == 6


def test_new_telehealth_class_takes_place_of_service_02_and_an_end_date(app, client, login):
    login("coordinator")
    response = client.post("/schedule/classes/new", data=class_form(
        modality="telehealth", weekdays=["0", "2"], count="", until="2027-03-10", first_date="2027-03-01"))
    assert response.status_code == 302
    with app.app_context():
        group_class = db.session.scalars(sa.select(GroupClass)).one()
        assert (group_class.modality, group_class.place_of_service) == ("telehealth", "02")
    assert [s.starts_at.date().isoformat() for s in sessions_of(app, group_class.id)] == [
        "2027-03-01", "2027-03-03", "2027-03-08", "2027-03-10"]


def test_new_class_form_shows_every_missing_field_and_writes_nothing(app, client, login):
    login("coordinator")
    response = client.post("/schedule/classes/new", data=class_form(
        title="", capacity="", weekdays=[], start_time="", first_date=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in ("Give the class a title.", "Say how many caregivers it seats.",
                    "Choose at least one weekday.", "Give the start time.", "Give the first date."):
        assert message in page
    assert 'id="title-err"' in page and 'id="weekdays-err"' in page
    assert class_count(app) == 0


def test_new_class_form_puts_the_services_errors_on_their_fields(app, client, login):
    login("coordinator")
    response = client.post("/schedule/classes/new", data=class_form(count="6", until="2027-04-01"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="count-err">Give a number of sessions or an end date, not both.' in page
    response = client.post("/schedule/classes/new", data=class_form(capacity="0", duration_minutes="2"))
    page = response.get_data(as_text=True)
    assert 'id="capacity-err">Capacity must be between 1 and 500.' in page  # class and series errors together
    assert 'id="duration_minutes-err">Duration must be between 5 and 600 minutes.' in page
    assert class_count(app) == 0


def test_room_double_booking_is_refused_naming_the_other_session(app, client, login, build):
    login("coordinator")
    build.group_class(title="Dementia at home", room="Gym A",
                      sessions=[{"starts_at": "2027-03-02T10:30", "duration_minutes": 60}])
    before = (class_count(app), session_count(app))
    response = client.post("/schedule/classes/new", data=class_form(room="gym a"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "gym a is already booked by “Dementia at home” on Tue 02 Mar 2027 10:30–11:30." in page
    assert (class_count(app), session_count(app)) == before


def test_facilitator_double_booking_is_refused_naming_the_other_session(app, client, login, build):
    login("coordinator")
    dana = build.facilitator(name="Dana Reyes, PT")
    build.group_class(title="Dementia at home", facilitator=dana,
                      sessions=[{"starts_at": "2027-03-16T09:30", "duration_minutes": 60}])
    before = (class_count(app), session_count(app))
    response = client.post("/schedule/classes/new", data=class_form(facilitator_id=str(dana.id)))
    assert response.status_code == 422
    assert ("Dana Reyes, PT is already facilitating “Dementia at home” on Tue 16 Mar 2027 09:30–10:30."
            in response.get_data(as_text=True))
    assert (class_count(app), session_count(app)) == before


# --------------------------------------------------------------------------- class page


def test_class_page_lists_sessions_in_the_class_zone_and_the_caregiver_sets(app, client, login, build):
    login("coordinator")
    group_class = build.group_class(timezone="America/New_York", capacity=2, sessions=[
        {"starts_at": "2027-02-02T18:00", "duration_minutes": 45}])
    walter = build.patient(first_name="Walter", last_name="Ames", mrn="A1001")
    rita = build.caregiver(patients=[walter], first_name="Rita", last_name="Ames")
    tom = build.caregiver(patients=[walter], first_name="Tom", last_name="Ames", relationship="son")
    build.enroll(group_class, walter, [rita, tom])
    june = build.patient(first_name="June", last_name="Bell", mrn="B2002")
    build.enroll(group_class, june, [build.caregiver(patients=[june], first_name="Hal", last_name="Bell")])

    page = client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    assert "Tue, Feb 2, 2027" in page and "6:00\u202fPM–6:45\u202fPM" in page and "Eastern Time" in page
    enrolled = page[page.index("Enrolled (1)"):page.index("Waitlist (1)")]
    assert "Walter Ames" in enrolled and "A1001" in enrolled and "Rita Ames, Tom Ames" in enrolled
    waitlist = page[page.index("Waitlist (1)"):]
    assert "June Bell" in waitlist and "B2002" in waitlist and "Hal Bell" in waitlist
    assert page.count(">Withdraw</button>") == 2
    session_id = group_class.session_ids[0]
    assert f"/schedule/sessions/{session_id}/edit" in page
    assert f"/schedule/sessions/{session_id}.ics" in page
    checkin = f'href="/frontdesk/sessions/{session_id}"'
    if "frontdesk.session" in app.view_functions:
        with app.test_request_context():
            from flask import url_for

            checkin = f'href="{url_for("frontdesk.session", session_id=session_id)}"'
        assert checkin in page
    else:
        assert "Check-in" not in page


def test_class_page_hides_changes_from_roles_that_may_not_make_them(client, login, build):
    login("biller")
    group_class = build.group_class()
    page = client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    for hidden in ("/edit", "/cancel", "Add a session", "Enrol a caregiver set"):
        assert hidden not in page
    assert client.get("/schedule/classes/999").status_code == 404


def test_class_page_runs_a_bounded_number_of_queries(client, login, build, count_queries):
    login("coordinator")
    dana = build.facilitator()
    group_class = build.group_class(facilitator=dana, capacity=200, sessions=[
        {"starts_at": f"2027-02-{day:02d}T10:00", "duration_minutes": 60} for day in (2, 9, 16)])

    def add_sets(n):
        for _ in range(n):
            patient = build.patient()
            build.enroll(group_class, patient,
                         [build.caregiver(patients=[patient]), build.caregiver(patients=[patient])])

    def queries():
        with count_queries() as counter:
            assert client.get(f"/schedule/classes/{group_class.id}").status_code == 200
        return counter.count

    add_sets(3)
    few = queries()
    add_sets(27)
    assert queries() == few


def test_add_session_on_the_class_page(app, client, login, build):
    login("coordinator")
    group_class = build.group_class(timezone=CHI)
    page = client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    assert 'name="add-start_time" required type="time" value="10:00"' in page  # the last session's time
    response = client.post(f"/schedule/classes/{group_class.id}/sessions", data={
        "add-date": "2027-07-06", "add-start_time": "10:00", "add-duration_minutes": "60"})
    assert response.status_code == 302
    added = sessions_of(app, group_class.id)[-1]
    assert added.starts_at == datetime(2027, 7, 6, 15, tzinfo=timezone.utc)
    response = client.post(f"/schedule/classes/{group_class.id}/sessions", data={
        "add-date": "2027-07-06", "add-start_time": "10:30", "add-duration_minutes": "60"})
    assert response.status_code == 422
    assert "is already booked by “Stroke caregiver skills” on Tue 06 Jul 2027 10:00–11:00" in response.get_data(
        as_text=True)
    assert len(sessions_of(app, group_class.id)) == 2


# --------------------------------------------------------------------------- one session


def weekly_class(build, **over):
    return build.group_class(sessions=[
        {"starts_at": f"2027-02-{day:02d}T10:00", "duration_minutes": 60} for day in (2, 9, 16, 23)], **over)


def test_edit_this_and_following_moves_later_sessions_and_raises_sequence(app, client, login, build):
    login("coordinator")
    group_class = weekly_class(build, room="Gym A")
    first, second, third, fourth = group_class.session_ids
    form = client.get(f"/schedule/sessions/{second}/edit").get_data(as_text=True)
    assert 'value="2027-02-09"' in form and 'value="10:00"' in form and 'value="Gym A"' in form
    response = client.post(f"/schedule/sessions/{second}/edit", data={
        "date": "2027-02-10", "start_time": "14:00", "duration_minutes": "90", "room": "Studio B",
        "facilitator_id": "", "scope": "following"})
    assert response.status_code == 302
    sessions = {s.id: s for s in sessions_of(app, group_class.id)}
    assert sessions[first].sequence == 0 and utc_to_local(sessions[first].starts_at, CHI) == datetime(2027, 2, 2, 10)
    for session_id, day in ((second, 10), (third, 17), (fourth, 24)):
        moved = sessions[session_id]
        assert utc_to_local(moved.starts_at, CHI) == datetime(2027, 2, day, 14)
        assert (moved.ends_at - moved.starts_at).total_seconds() == 90 * 60
        assert moved.room == "Studio B" and moved.sequence == 1
    page = client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    assert "3 sessions changed." in page


def test_edit_this_session_only_and_refuse_a_double_booking(app, client, login, build):
    login("coordinator")
    build.group_class(title="Dementia at home", room="Studio B",
                      sessions=[{"starts_at": "2027-02-09T14:00", "duration_minutes": 60}])
    group_class = weekly_class(build, room="Gym A")
    _, second, third, _ = group_class.session_ids
    response = client.post(f"/schedule/sessions/{second}/edit", data={
        "date": "2027-02-09", "start_time": "14:30", "duration_minutes": "60", "room": "Studio B",
        "facilitator_id": "", "scope": "this"})
    assert response.status_code == 422
    assert "Studio B is already booked by “Dementia at home” on Tue 09 Feb 2027 14:00–15:00." in (
        response.get_data(as_text=True))
    assert all(s.sequence == 0 and s.room is None for s in sessions_of(app, group_class.id))
    response = client.post(f"/schedule/sessions/{second}/edit", data={
        "date": "2027-02-09", "start_time": "11:00", "duration_minutes": "60", "room": "",
        "facilitator_id": "", "scope": "this"})
    assert response.status_code == 302
    sessions = {s.id: s for s in sessions_of(app, group_class.id)}
    assert utc_to_local(sessions[second].starts_at, CHI) == datetime(2027, 2, 9, 11)
    assert sessions[second].sequence == 1
    assert utc_to_local(sessions[third].starts_at, CHI) == datetime(2027, 2, 16, 10)


def test_cancel_needs_a_reason_then_keeps_the_session_visible_struck(app, client, login, build):
    login("coordinator")
    group_class = weekly_class(build)
    session_id = group_class.session_ids[1]
    assert client.get(f"/schedule/sessions/{session_id}/cancel").status_code == 200
    response = client.post(f"/schedule/sessions/{session_id}/cancel", data={"reason": "  "})
    assert response.status_code == 422
    assert 'id="reason-err">A reason is required.' in response.get_data(as_text=True)
    assert sessions_of(app, group_class.id)[1].status == "scheduled"

    response = client.post(f"/schedule/sessions/{session_id}/cancel", data={"reason": "Facilitator ill"})
    assert response.status_code == 302
    cancelled = sessions_of(app, group_class.id)[1]
    assert (cancelled.status, cancelled.cancel_reason, cancelled.sequence) == ("cancelled", "Facilitator ill", 1)
    page = client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    assert "is cancelled" in page
    row = page[page.index(f'id="session-{session_id}"'):]
    row = row[:row.index("</tr>")]
    assert 'class="session-cancelled"' in row and "Reason: Facilitator ill" in row
    assert "/edit" not in row and "/cancel" not in row
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.cancel")) is not None


def test_session_calendar_file_for_a_caregiver(client, login, build):
    login("front_desk")
    group_class = build.group_class(title="Stroke caregiver skills", room="Gym A")
    patient = build.patient(first_name="Zebulon", last_name="Quillfeather")
    build.enroll(group_class, patient, [build.caregiver(patients=[patient])])
    session_id = group_class.session_ids[0]
    response = client.get(f"/schedule/sessions/{session_id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="session-{session_id}.ics"'
    body = response.get_data()
    assert f"UID:session-{session_id}@roster".encode() in body
    assert b"SUMMARY:Stroke caregiver skills" in body and b"LOCATION:Gym A" in body
    assert b"Zebulon" not in body and b"Quillfeather" not in body
    assert client.get("/schedule/sessions/999.ics").status_code == 404
