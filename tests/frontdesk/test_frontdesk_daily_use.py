"""Issue 13 at the front desk: walk-ins on their own on the sign-in sheet; a facilitator's own Today."""

from __future__ import annotations

import sqlalchemy as sa

from roster.extensions import db
from roster.models import User
from tests.frontdesk.desk import make_scene


def _link(app, user, facilitator) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user.id).values(facilitator_id=facilitator.id))
        db.session.commit()


def test_the_sign_in_sheet_lists_walk_ins_in_their_own_section(client, login, scene, build):
    desk = scene(sets=2)
    other = desk.patient(first_name="Walter", last_name="Walker")
    walker = build.caregiver([other], first_name="Wanda", last_name="Walker")
    login("front_desk")
    client.post(f"/frontdesk/sessions/{desk.session_id}/checkins", data={"caregiver_id": walker.id, "patient_id": other.id})
    html = client.get(f"/frontdesk/sessions/{desk.session_id}/sheet").get_data(as_text=True)
    enrolled, rest = html.split('<table class="sign-sheet">', 1)[1].split("Walk-ins already checked in", 1)
    assert "Enrolled caregivers" in enrolled and "Wanda Walker" not in enrolled
    assert "<td>Wanda Walker</td><td>Walter Walker</td>" in rest.split("Not on the list?")[0]
    for c, p in zip(desk.caregivers, desk.patients):
        assert f"<td>{c.first_name} {c.last_name}</td>" in enrolled


def test_a_sheet_without_walk_ins_has_no_walk_in_section(client, login, scene):
    desk = scene(sets=1)
    login("front_desk")
    html = client.get(f"/frontdesk/sessions/{desk.session_id}/sheet").get_data(as_text=True)
    assert "Walk-ins already checked in" not in html and "Not on the list?" in html


def test_a_facilitator_sees_their_own_sessions_first_and_can_switch_to_all(app, client, login, build):
    mine = make_scene(build, sets=1, start="09:00")
    theirs = make_scene(build, sets=1, start="13:00")  # another facilitator record
    other_fac = build.facilitator(name="Sam Ortiz, OTR/L", discipline="OT", npi="1987654328")
    _assign = build.group_class(facilitator=other_fac, title="Transfers at home",
                                sessions=[{"starts_at": f"{mine.day.isoformat()}T15:00", "duration_minutes": 60}])
    user = login("facilitator")
    _link(app, user, mine.facilitator)

    html = client.get("/frontdesk/today").get_data(as_text=True)
    assert "Showing <strong>your sessions</strong>" in html
    assert "9:00\u202fAM" in html and "Transfers at home" not in html and "1:00\u202fPM" not in html
    assert 'href="/frontdesk/today?show=all"' in html

    everything = client.get("/frontdesk/today?show=all").get_data(as_text=True)
    assert "every session in the clinic" in everything and "Transfers at home" in everything
    assert "1:00\u202fPM" in everything
    # the day links keep the choice
    assert "show=all" in everything.split("Next day")[0].rsplit("<a", 1)[1]
    assert theirs.session_id != mine.session_id


def test_an_unlinked_facilitator_and_the_front_desk_see_the_whole_clinic(client, login, build):
    make_scene(build, sets=1, start="09:00")
    make_scene(build, sets=1, start="13:00")
    login("facilitator")
    html = client.get("/frontdesk/today").get_data(as_text=True)
    assert "not linked to a facilitator" in html and "9:00\u202fAM" in html and "1:00\u202fPM" in html
    client.post("/logout")
    login("front_desk")
    html = client.get("/frontdesk/today").get_data(as_text=True)
    assert "Showing <strong>your sessions</strong>" not in html and "1:00\u202fPM" in html
