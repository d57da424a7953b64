"""Front desk: the day's sessions, one-tap check-in that never records twice, walk-ins, present marks."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, timedelta

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, CheckIn, PatientPresence
from roster.services import frontdesk, scheduling

NOTICE = "is present: their caregivers' training today will not be billed for them (patient present)"


def checkin_url(scene) -> str:
    return f"/frontdesk/sessions/{scene.session_id}/checkins"


def post_check_in(client, scene, caregiver, patient):
    return client.post(checkin_url(scene), data={"caregiver_id": caregiver.id, "patient_id": patient.id})


def checkins(app, session_id: int) -> list[CheckIn]:
    with app.app_context():
        return list(db.session.scalars(sa.select(CheckIn).where(CheckIn.session_id == session_id)))


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def page(client, scene, **args) -> str:
    response = client.get(f"/frontdesk/sessions/{scene.session_id}", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------- today


def test_today_lists_the_days_sessions_with_counts_and_a_link_to_check_in(app, client, login, scene):
    desk = scene(sets=3)
    later = scene(sets=1, start="14:30")
    tomorrow = scene(sets=1, day=desk.day + timedelta(days=1))
    login("front_desk")
    before = client.get("/frontdesk/today").get_data(as_text=True)
    assert "0 of 3" in before and "0 of 1" in before
    post_check_in(client, desk, desk.caregivers[0], desk.patients[0])

    # each session's card is remembered by what it shows (templating.cached_macro): the changed count is
    # rendered anew, the unchanged card comes from memory, and a page asked again is the same page
    cards = app.extensions["roster.cached_macro:frontdesk/_day_card.html:day_card"].cache_info
    seen = cards()
    html = client.get("/frontdesk/today").get_data(as_text=True)
    assert "0 of 3" not in html and (cards().hits - seen.hits, cards().misses - seen.misses) == (1, 1)
    again = client.get("/frontdesk/today").get_data(as_text=True)  # (the check-in's message shown above is gone)
    assert again == client.get("/frontdesk/today").get_data(as_text=True) and "1 of 3" in again
    assert f"Today, {desk.day.strftime('%A, %B')} {desk.day.day}, {desk.day.year}" in html  # en_US, through Babel
    assert "9:00\u202fAM–10:00\u202fAM" in html and "2:30\u202fPM–3:30\u202fPM" in html
    assert html.index("9:00\u202fAM–10:00\u202fAM") < html.index("2:30\u202fPM–3:30\u202fPM")
    assert "Dana Reyes, PT" in html and desk.group_class.room in html
    assert "<dd>3</dd>" in html  # enrolled sets
    assert "1 of 3" in html and "0 of 1" in html
    assert f'href="/frontdesk/sessions/{desk.session_id}"' in html
    assert f'href="/frontdesk/sessions/{later.session_id}"' in html
    assert f"/frontdesk/sessions/{tomorrow.session_id}\"" not in html

    other = client.get("/frontdesk/today", query_string={"date": tomorrow.day.isoformat()}).get_data(as_text=True)
    assert f'href="/frontdesk/sessions/{tomorrow.session_id}"' in other
    assert f'href="/frontdesk/sessions/{desk.session_id}"' not in other


def test_today_with_a_bad_date_says_so_and_shows_today(client, login, scene):
    desk = scene(sets=1)
    login("front_desk")
    html = client.get("/frontdesk/today?date=2026-02-30").get_data(as_text=True)
    assert "must be a real date" in html and "Showing today instead" in html
    assert f'href="/frontdesk/sessions/{desk.session_id}"' in html


# --------------------------------------------------------------------------- check-in


def test_check_in_is_one_post_and_a_second_answers_calmly(app, client, login, scene):
    desk = scene(sets=3)
    login("front_desk", name="Jo")
    c, p = desk.caregivers[0], desk.patients[0]

    first = post_check_in(client, desk, c, p)
    assert first.status_code == 302
    assert first.location.endswith(f"after={c.id}-{p.id}#cg-{c.id}-{p.id}")
    html = client.get(first.location).get_data(as_text=True)
    assert f"{c.first_name} {c.last_name} for {p.first_name} {p.last_name}: checked in at" in html
    assert re.search(r"Checked in \d\d?:\d\d\u202f[AP]M by Jo", html)
    # focus moves on to the next caregiver still to come
    nxt = f"checkin-{desk.caregivers[1].id}-{desk.patients[1].id}"
    assert re.search(rf'id="{nxt}" autofocus', html)

    again = post_check_in(client, desk, c, p)  # double tap, retried POST
    assert again.status_code == 302
    html = client.get(again.location).get_data(as_text=True)
    assert f"{c.first_name} {c.last_name} for {p.first_name} {p.last_name}: already checked in at" in html

    rows = checkins(app, desk.session_id)
    assert len(rows) == 1 and rows[0].walk_in is False
    events = audit_events(app, "checkin.create")
    assert len(events) == 1 and events[0].after["caregiver_id"] == c.id


def test_after_the_last_check_in_focus_goes_to_the_walk_in_search(client, login, scene):
    desk = scene(sets=1)
    login("front_desk")
    response = post_check_in(client, desk, desk.caregivers[0], desk.patients[0])
    assert re.search(r'id="walkin-q"[^>]*autofocus', client.get(response.location).get_data(as_text=True))


def test_walk_in_found_by_part_of_the_phone_is_checked_in_as_a_walk_in(app, client, login, scene, build):
    desk = scene(sets=2)
    other = desk.patient(first_name="Walter", last_name="Walker")
    walker = build.caregiver([other], first_name="Wanda", last_name="Walker", phone="(555) 867-5309")
    login("front_desk")

    fragment = client.get(f"/frontdesk/sessions/{desk.session_id}/search", query_string={"q": "8675"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text
    assert "Wanda Walker" in text and "(555) 867-5309" in text
    assert "Check in for Walter Walker" in text and "walk-in" in text
    # without JavaScript the search form reloads the page with the same results
    assert "Check in for Walter Walker" in page(client, desk, q="867-53")
    # patient name and MRN find the caregiver too
    assert "Wanda Walker" in client.get(f"/frontdesk/sessions/{desk.session_id}/search?q={other.mrn}").get_data(as_text=True)
    assert "Wanda Walker" in client.get(f"/frontdesk/sessions/{desk.session_id}/search?q=walter walk").get_data(as_text=True)

    response = post_check_in(client, desk, walker, other)
    html = client.get(response.location).get_data(as_text=True)
    assert "walk-in, not enrolled in this class" in html
    assert f'id="cg-{walker.id}-{other.id}"' in html and "Not enrolled" in html
    [row] = checkins(app, desk.session_id)
    assert row.walk_in is True
    # the search now says they are in
    again = client.get(f"/frontdesk/sessions/{desk.session_id}/search?q=8675").get_data(as_text=True)
    assert "Checked in for Walter Walker at" in again and "Check in for Walter Walker" not in again


def test_remembered_walk_in_results_carry_each_requests_own_csrf_token(app, client, login, scene, build, monkeypatch):
    from tests.conftest import DEMO_PASSWORD

    desk = scene(sets=1)
    other = desk.patient(first_name="Walter", last_name="Walker")
    walker = build.caregiver([other], first_name="Wanda", last_name="Walker")
    login("front_desk")
    second = app.test_client()
    assert second.post("/login", data={"email": build.user(role="front_desk").email,
                                       "password": DEMO_PASSWORD}).status_code == 302
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    url = f"/frontdesk/sessions/{desk.session_id}/search?q=walker"
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    first = client.get(url).get_data(as_text=True)
    hits = app.extensions["roster.cached_macro:frontdesk/_search_hit.html:search_hit"].cache_info
    seen = hits()
    again = second.get(url).get_data(as_text=True)  # the other desk's results come from memory...
    assert (hits().hits - seen.hits, hits().misses - seen.misses) == (1, 0)
    # ... with its own token where the form's goes, never the first desk's
    assert "Check in for Walter Walker" in again and "csrf-token" not in again + first
    assert token.sub("", first) == token.sub("", again) and token.findall(first) != token.findall(again)
    assert second.post(checkin_url(desk), data={"caregiver_id": walker.id, "patient_id": other.id}).status_code == 400
    [mine] = token.findall(again)
    response = second.post(checkin_url(desk), data={"caregiver_id": walker.id, "patient_id": other.id, "csrf_token": mine})
    assert response.status_code == 302 and len(checkins(app, desk.session_id)) == 1


def test_search_needs_two_characters_and_says_when_nobody_matches(client, login, scene, build):
    desk = scene(sets=1)
    build.caregiver([], first_name="Lone", last_name="Quokka", phone="")
    login("front_desk")
    url = f"/frontdesk/sessions/{desk.session_id}/search"
    assert "at least 2 characters" in client.get(url, query_string={"q": "a"}).get_data(as_text=True)
    assert "No caregiver matches" in client.get(url, query_string={"q": "zzzz"}).get_data(as_text=True)
    # a caregiver with no phone and no patient yet is found and says so
    lone = client.get(url, query_string={"q": "quokka"}).get_data(as_text=True)
    assert "Lone Quokka</span> <span class=\"muted\">no phone</span>" in lone and "Not linked to any patient yet" in lone


def test_a_caregiver_of_two_patients_in_the_class_can_come_for_either_or_both(app, client, login, scene, build):
    desk = scene(sets=0)
    ann, bob = desk.patient(first_name="Ann", last_name="Alder"), desk.patient(first_name="Bob", last_name="Birch")
    shared = build.caregiver([ann, bob], first_name="Sam", last_name="Shared")
    build.enroll(desk.group_class, ann, [shared])
    build.enroll(desk.group_class, bob, [build.caregiver([bob])])
    login("front_desk")

    html = page(client, desk)
    assert f'id="checkin-{shared.id}-{ann.id}"' in html and "Came for Ann Alder" in html
    assert f'id="checkin-{shared.id}-{bob.id}"' in html and "Came for Bob Birch" in html

    post_check_in(client, desk, shared, ann)
    post_check_in(client, desk, shared, bob)
    rows = sorted(checkins(app, desk.session_id), key=lambda c: c.patient_id)
    assert [(r.caregiver_id, r.patient_id, r.walk_in) for r in rows] == [
        (shared.id, ann.id, False), (shared.id, bob.id, True),
    ]
    html = page(client, desk)
    assert f'id="undo-{shared.id}-{ann.id}"' in html and f'id="undo-{shared.id}-{bob.id}"' in html


def test_a_caregiver_enrolled_in_two_sets_is_asked_whom_they_came_for(client, login, scene, build):
    desk = scene(sets=0)
    ann, bob = desk.patient(first_name="Ann", last_name="Alder"), desk.patient(first_name="Bob", last_name="Birch")
    shared = build.caregiver([ann, bob], first_name="Sam", last_name="Shared")
    build.enroll(desk.group_class, ann, [shared])
    build.enroll(desk.group_class, bob, [shared])
    login("front_desk")
    html = page(client, desk)
    assert "Came for Ann Alder" in html and "Came for Bob Birch" in html
    assert ">Check in<" not in html


def test_a_caregiver_linked_to_two_patients_without_saying_which_gets_a_clear_refusal(app, client, login, scene, build):
    desk = scene(sets=1)
    stranger = desk.patient()
    login("front_desk")
    response = post_check_in(client, desk, desk.caregivers[0], stranger)
    assert response.status_code == 302
    assert "is not linked to that patient" in client.get(response.location).get_data(as_text=True)
    assert checkins(app, desk.session_id) == []


def test_undo_is_audited_with_the_state_before(app, client, login, scene):
    desk = scene(sets=2)
    login("front_desk")
    c, p = desk.caregivers[0], desk.patients[0]
    post_check_in(client, desk, c, p)

    response = client.post(f"/frontdesk/sessions/{desk.session_id}/checkins/undo",
                           data={"caregiver_id": c.id, "patient_id": p.id})
    assert response.status_code == 302
    assert response.location.endswith(f"focus=checkin-{c.id}-{p.id}#cg-{c.id}-{p.id}")
    html = client.get(response.location).get_data(as_text=True)
    assert "undone" in html and re.search(rf'id="checkin-{c.id}-{p.id}" autofocus', html)
    assert checkins(app, desk.session_id) == []
    [event] = audit_events(app, "checkin.undo")
    assert event.before["caregiver_id"] == c.id and event.before["patient_id"] == p.id
    assert event.before["checked_in_at"] and event.actor_id is not None

    twice = client.post(f"/frontdesk/sessions/{desk.session_id}/checkins/undo",
                        data={"caregiver_id": c.id, "patient_id": p.id})
    assert twice.status_code == 302
    assert "nothing to undo" in client.get(twice.location).get_data(as_text=True)


def test_undoing_a_walk_in_removes_the_row_and_focuses_the_search(client, login, scene, build):
    desk = scene(sets=1)
    other = desk.patient()
    walker = build.caregiver([other])
    login("front_desk")
    post_check_in(client, desk, walker, other)
    response = client.post(f"/frontdesk/sessions/{desk.session_id}/checkins/undo",
                           data={"caregiver_id": walker.id, "patient_id": other.id})
    html = client.get(response.location).get_data(as_text=True)
    assert f'id="cg-{walker.id}-{other.id}"' not in html
    assert re.search(r'id="walkin-q"[^>]*autofocus', html)


def test_patient_present_shows_a_clear_notice_and_is_audited(app, client, login, scene):
    desk = scene(sets=2)
    login("front_desk")
    p = desk.patients[1]
    url = f"/frontdesk/sessions/{desk.session_id}/present"

    response = client.post(url, data={"patient_id": p.id, "present": "yes"})
    assert response.location.endswith(f"focus=present-{p.id}#set-{p.id}")
    html = client.get(response.location).get_data(as_text=True)
    assert f"{p.first_name} {p.last_name} {NOTICE}" in html
    # a switch that says its state and its consequence (issue 13: not green like a success)
    assert re.search(rf'id="present-{p.id}" role="switch" aria-checked="true"\s+class="switch is-on"', html)
    assert "so this session is <strong>not billed</strong> for them" in html
    client.post(url, data={"patient_id": p.id, "present": "yes"})  # twice: still one mark
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PatientPresence.id))) == 1
    assert len(audit_events(app, "presence.mark")) == 1

    client.post(url, data={"patient_id": p.id, "present": "no"})
    assert NOTICE not in page(client, desk)
    assert len(audit_events(app, "presence.unmark")) == 1


def test_a_cancelled_session_refuses_check_ins_calmly(app, client, login, scene):
    desk = scene(sets=1)
    with app.app_context():
        scheduling.cancel_session(scheduling.get_session(desk.session_id), "Snow day")
        db.session.commit()
    login("front_desk")
    response = post_check_in(client, desk, desk.caregivers[0], desk.patients[0])
    assert response.status_code == 302
    html = client.get(response.location).get_data(as_text=True)
    assert "cancelled; nobody can be checked in" in html
    assert "Snow day" in html and 'id="checkin-' not in html and "Patient is here" not in html
    assert checkins(app, desk.session_id) == []


def test_the_check_in_page_runs_the_same_queries_for_3_sets_and_for_30(client, login, scene, count_queries):
    login("front_desk")

    def queries(sets: int) -> int:
        desk = scene(sets=sets)
        post_check_in(client, desk, desk.caregivers[0], desk.patients[0])
        client.post(f"/frontdesk/sessions/{desk.session_id}/present",
                    data={"patient_id": desk.patients[1].id, "present": "yes"})
        with count_queries() as counter:
            html = page(client, desk)
        assert html.count('class="set') == sets
        return counter.count

    small, large = queries(3), queries(30)
    assert small == large, f"3 sets: {small} queries, 30 sets: {large}"


@contextmanager
def transactions(app):
    """The engine's begin and commit events while it runs (each a round trip on PostgreSQL)."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine
    listeners = [(name, lambda conn, name=name: seen.append(name)) for name in ("begin", "commit")]
    for name, listener in listeners:
        sa.event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            sa.event.remove(engine, name, listener)


def test_an_api_check_in_its_double_tap_and_its_undo_run_few_statements_for_2_sets_or_8(
        app, api, scene, count_queries):
    """A check-in is one INSERT … ON CONFLICT DO NOTHING RETURNING (a double tap inserts nothing and
    finds the check-in that stands), an undo one DELETE … RETURNING (the patient's MRN, without regard to
    case, looked up inside it); neither grows with the session's other check-ins (issue 12: 13 and 7
    statements before, with a look-up first, a savepoint, a second read of the link and of the patient,
    and a read before the delete; then 6 and 5 with the patient read before the delete; then 4, 5 and 4 with
    the token, the session and the caregiver read apart)."""
    desk_api = api("front_desk")

    def statements(sets: int) -> tuple[int, int, int]:
        desk = scene(sets=sets)
        path = f"/sessions/{desk.session_id}/checkins"
        for c, p in list(zip(desk.caregivers, desk.patients))[1:]:
            assert desk_api.post(path, json={"caregiver_id": c.id, "patient_mrn": p.mrn}).status_code == 201
        c, p = desk.caregivers[0], desk.patients[0]
        with count_queries() as first, transactions(app) as begun:
            created = desk_api.post(path, json={"caregiver_id": c.id, "patient_mrn": p.mrn})
        assert begun == ["begin", "commit"]  # PostgreSQL: round trips = BEGIN, the statements, COMMIT
        with count_queries() as again:
            tapped = desk_api.post(path, json={"caregiver_id": c.id, "patient_mrn": p.mrn})
        assert (created.status_code, tapped.status_code) == (201, 200)
        assert tapped.get_json() == created.get_json() | {"created": False}
        assert created.get_json()["patient_mrn"] == p.mrn and created.get_json()["walk_in"] is False
        unknown = desk_api.delete(f"{path}/{c.id}?patient_mrn=NO-SUCH-MRN")
        assert unknown.status_code == 404 and unknown.get_json()["error"]["fields"] == {"patient_mrn": "Unknown MRN."}
        other = desk.patients[1]  # known, but this caregiver is not checked in for them
        assert desk_api.delete(f"{path}/{c.id}?patient_mrn={other.mrn}").get_json()["error"]["fields"] == {
            "caregiver_id": "Not checked in."}
        with count_queries() as undo:
            assert desk_api.delete(f"{path}/{c.id}?patient_mrn={p.mrn.lower()}").get_json() == {"removed": 1}
        assert sorted(ci.caregiver_id for ci in checkins(app, desk.session_id)) == sorted(
            x.id for x in desk.caregivers[1:])
        return first.count, again.count, undo.count

    few, many = statements(2), statements(8)
    assert few == many
    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    # token and user, session with class, caregiver with patients: one read in the token's statement (were
    # three); then the INSERT, which on PostgreSQL writes its audit record and answers a double tap with the
    # check-in that stood (were a statement each), as the undo's DELETE writes its audit records. SQLite:
    # the audit record, or the double tap's read of the check-in, is a statement of its own.
    assert few == ((2, 2, 2) if postgresql else (3, 3, 3)), few


def test_the_desks_requests_read_a_session_and_its_zone_as_the_orm_does_in_one_statement(app, scene, count_queries):
    """The walk-in search, the API check-in and its undo read a DeskSession (plain values, one statement);
    what reads a session's day and zone reads it as it reads the ORM's session."""
    import pytest

    from roster.models import ClassSession
    from roster.services import NotFound, attendance, billing

    desk = scene(sets=1)
    with app.app_context():
        with count_queries() as read:
            s = frontdesk.load_session_and_class(desk.session_id)
        orm = db.session.get(ClassSession, desk.session_id)
        assert len(read.statements) == 1
        assert (s.id, s.class_id, s.status, s.starts_at, s.actual_start, s.held_timezone, s.group_class.timezone) == (
            orm.id, orm.class_id, orm.status, orm.starts_at, orm.actual_start, orm.held_timezone,
            orm.group_class.timezone)
        assert (attendance.timing(s), billing.date_of_service(s)) == (attendance.TODAY, billing.date_of_service(orm))
        with pytest.raises(NotFound, match="No session 999999."):
            frontdesk.load_session_and_class(999999)


def test_the_today_page_runs_the_same_queries_whatever_the_number_of_sessions(client, login, scene, count_queries):
    login("front_desk")
    scene(sets=2)
    with count_queries() as one:
        client.get("/frontdesk/today")
    for hour in ("11:00", "13:00", "15:00"):
        scene(sets=3, start=hour)
    with count_queries() as four:
        client.get("/frontdesk/today")
    assert one.count == four.count


def test_the_days_list_links_each_session_as_url_for_does_also_under_a_prefix(app, client, login, scene):
    """Issue 12: the day's list builds each of its three addresses once and puts each session's id in it
    (~150 url_for a day before); the addresses are url_for's, also for an app served under a path."""
    from flask import url_for

    login("admin")
    ids = [scene(sets=1, start=hour).session_id for hour in ("09:00", "13:00")]
    for base in ("http://localhost", "http://localhost/clinic"):
        html = client.get("/frontdesk/today", base_url=base).get_data(as_text=True)
        with app.test_request_context(base_url=base):
            hrefs = [url_for(endpoint, session_id=sid) for sid in ids
                     for endpoint in ("frontdesk.session", "frontdesk.sign_in_sheet", "frontdesk.close_session")]
        assert all(f'href="{href}"' in html for href in hrefs) and html.count('href="/clinic/frontdesk/sessions/') == (
            6 if base.endswith("clinic") else 0), hrefs
    assert '<span class="badge">Scheduled</span>' in html


def test_the_sign_in_sheet_lists_the_caregivers_with_room_for_walk_ins(client, login, scene):
    desk = scene(sets=3)
    login("front_desk")
    html = client.get(f"/frontdesk/sessions/{desk.session_id}/sheet").get_data(as_text=True)
    for c, p in zip(desk.caregivers, desk.patients):
        assert f"<td>{c.first_name} {c.last_name}</td><td>{p.first_name} {p.last_name}</td>" in html
    assert html.count('<tr><td></td><td></td><td class="signature"></td></tr>') == 6
    assert "data-print" in html and "print-sheet.css" in html and 'media="print"' in html
    assert desk.group_class.room in html and "Dana Reyes, PT" in html


def test_front_desk_may_not_close_sessions(client, login, scene):
    desk = scene(sets=1)
    login("front_desk")
    assert client.get(f"/frontdesk/sessions/{desk.session_id}/close").status_code == 403
    assert client.get("/frontdesk/open-sessions").status_code == 403
    assert f"/frontdesk/sessions/{desk.session_id}/close" not in page(client, desk)


def test_an_unknown_session_is_a_plain_404(client, login):
    login("front_desk")
    assert client.get("/frontdesk/sessions/999999").status_code == 404
    assert client.post("/frontdesk/sessions/999999/checkins", data={"caregiver_id": 1, "patient_id": 1}).status_code == 404


def test_a_days_sessions_are_read_from_the_day_and_the_longest_session_before_it(app, build, count_queries):
    """Issue 12: the day's sessions are looked up by start between (day start - longest session) and the
    day's end, so the index on starts_at reads the day only; a session of the longest length running
    past midnight is still the next day's, one that ends at midnight is not."""
    from roster.domain.recurrence import MAX_DURATION

    assert MAX_DURATION == 600
    ended, crosses, late = (build.group_class(sessions=[{"starts_at": start, "duration_minutes": minutes}]).session_ids[0]
                            for start, minutes in (("2026-02-02T14:00", 600), ("2026-02-02T14:01", 600),
                                                   ("2026-02-03T23:59", 30)))
    with app.app_context(), count_queries() as day:
        found = [row.id for row in frontdesk.day_sessions(date(2026, 2, 3), "America/Chicago")]
    assert crosses in found and late in found and ended not in found
    assert len(day.statements) == 1  # sessions, class, facilitator and counts: the day's page in one query
    sql = day.statements[0].replace('"', "")
    assert "class_session.starts_at <" in sql and "class_session.starts_at >" in sql


def test_a_desk_mornings_statements_are_compiled_once(app, api, client, login, scene):
    """Issue 12: SQLAlchemy compiles a statement once and then serves it from its cache, unless the
    statement cannot be cached (its dialects' ON CONFLICT constructs have no cache key: a check-in
    compiled its INSERT on every request). After a first round, every statement of the desk's
    morning (today page, search, check-in, double tap, undo) is a cache hit."""
    from sqlalchemy.engine.interfaces import CacheStats

    desk_api = api("front_desk")
    login("front_desk")
    desk = scene(sets=3)
    path = f"/sessions/{desk.session_id}/checkins"

    def morning(c, p):
        assert client.get("/frontdesk/today").status_code == 200
        assert client.get(f"/frontdesk/sessions/{desk.session_id}/search", query_string={"q": c.last_name[:3]}).status_code == 200
        assert desk_api.post(path, json={"caregiver_id": c.id, "patient_mrn": p.mrn}).status_code == 201
        assert desk_api.post(path, json={"caregiver_id": c.id, "patient_mrn": p.mrn}).status_code == 200
        assert desk_api.delete(f"{path}/{c.id}").get_json() == {"removed": 1}

    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if context is not None and not statement.lstrip().upper().startswith(
                ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")):
            seen.append((context.cache_hit, " ".join(statement.split())[:120]))

    morning(desk.caregivers[0], desk.patients[0])
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        morning(desk.caregivers[1], desk.patients[1])
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    assert len(seen) >= 8  # 9 on PostgreSQL, 12 on SQLite (the API calls read with their tokens, the pages with their users)
    assert [s for hit, s in seen if hit is not CacheStats.CACHE_HIT] == []


def test_a_check_in_writes_no_index_entry_that_another_index_already_serves(app):
    """Issue 12: every index of check_in is one more entry per check-in. Look-ups by session (a session's
    check-ins, the cascade from its session) use the unique (session, caregiver, patient) index, whose first
    column is the session: an index of the session alone (migrations 0001 to 0022) served nothing else."""
    with app.app_context():
        inspector = sa.inspect(db.engine)
        indexes = [i["column_names"] for i in inspector.get_indexes("check_in") if not i["unique"]]
        unique = [u["column_names"] for u in inspector.get_unique_constraints("check_in")]
    assert ["session_id", "caregiver_id", "patient_id"] in unique
    assert sorted(indexes) == [["caregiver_id"], ["patient_id"]]
