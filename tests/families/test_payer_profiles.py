"""Payer profiles (rule book R17-R21): the payer list says, per payer, whether telehealth is covered and
from when, whether verbal consent counts, and which families it covers; a payer not on the list is
Medicare. Changing a profile re-evaluates the unexported lines it touches."""

from __future__ import annotations

import re

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, Payer

PSY = {"name": "Dr. Mara Ng, PsyD", "npi": "1234567893", "discipline": "PSY"}
ACME = {"name": "Acme Health", "payer_id": "ACME1", "claim_filing_indicator": "CI"}


def patient(mrn: str, payer: str, consent_kind: str = "written") -> dict:
    return {"mrn": mrn, "first_name": "Walter", "last_name": f"Ames{mrn}", "dob": "1950-04-02", "payer": payer,
            "member_id": "1EG4TE5MK73", "needs": ["dementia"], "diagnosis_codes": ["G30.9"],
            "consent": {"date": "2026-01-05", "kind": consent_kind},
            "plan_of_care": {"discipline": "PT", "start": "2026-01-02", "end": "2026-12-31"}}


def behavior_group(client, payers: dict[str, str], modality="in_person", day="2026-03-03") -> int:
    """A held behavior group of these patients (mrn -> payer); returns the session id."""
    fid = client.post("/facilitators", json=PSY).get_json()["id"]
    cids = []
    for mrn, payer in payers.items():
        assert client.post("/patients", json=patient(mrn, payer)).status_code == 201
        cids.append(client.post("/caregivers", json={
            "first_name": "Rita", "last_name": mrn, "phone": "5550101",
            "links": [{"patient_mrn": mrn, "relationship": "spouse"}]}).get_json()["id"])
    answer = client.post("/classes", json={
        "title": "Behavior", "needs": ["dementia"], "capacity": 9, "room": "R", "facilitator_id": fid,
        "timezone": "America/Chicago", "modality": modality, "place_of_service": "", "training": "behavior",
        "sessions": [{"starts_at": f"{day}T10:00", "duration_minutes": 60}]}).get_json()
    sid = answer["session_ids"][0]
    for cid in cids:
        client.post(f"/sessions/{sid}/checkins", json={"caregiver_id": cid})
    assert client.post(f"/sessions/{sid}/close", json={"facilitator_id": fid, "started_at": f"{day}T10:00",
                                                       "ended_at": f"{day}T11:00", "patients_present": []}).status_code == 200
    return sid


def lines(client, sid: int) -> dict[str, tuple[str, set[str]]]:
    got = client.get(f"/sessions/{sid}/billing").get_json()["lines"]
    return {l["patient_mrn"]: (l["status"], {f["code"] for f in l["findings"]}) for l in got}


def test_a_new_payer_starts_with_medicares_answers_and_reads_back_its_profile(api):
    client = api("admin")
    created = client.post("/billing/payers", json=ACME)
    assert created.status_code == 201
    assert {k: created.get_json()[k] for k in ("telehealth_from", "verbal_consent_from", "families")} == {
        "telehealth_from": "2025-01-01", "verbal_consent_from": "2025-01-01",
        "families": ["functional", "direct_care", "behavior"]}
    pid = created.get_json()["id"]
    changed = client.patch(f"/billing/payers/{pid}", json={"telehealth_from": None, "families": ["behavior", "functional"]})
    assert changed.status_code == 200
    assert changed.get_json()["telehealth_from"] is None and changed.get_json()["families"] == ["functional", "behavior"]
    assert changed.get_json()["verbal_consent_from"] == "2025-01-01"


def test_bad_profile_fields_are_422_and_write_nothing(app, api):
    client = api("admin")
    bad = client.post("/billing/payers", json=ACME | {"telehealth_from": "soon", "verbal_consent_from": 2025,
                                                      "families": ["yoga"]})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {
        "telehealth_from": "Telehealth covered from is a date written YYYY-MM-DD, or empty for never.",
        "verbal_consent_from": "Verbal consent counts from is a date written YYYY-MM-DD, or empty for never.",
        "families": "Training covered is a list of functional, direct_care, behavior (or empty for none)."}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payer)) == 0
    pid = client.post("/billing/payers", json=ACME).get_json()["id"]
    for body in ({"families": "behavior"}, {"telehealth_from": "2026-02-30"}, {"verbal_consent_from": "2026-1-1"}):
        assert client.patch(f"/billing/payers/{pid}", json=body).status_code == 422, body
    got = client.get("/billing/payers").get_json()["payers"][0]
    assert (got["telehealth_from"], got["verbal_consent_from"], got["families"]) == (
        "2025-01-01", "2025-01-01", ["functional", "direct_care", "behavior"])


def test_who_may_change_a_payers_profile(api, client):
    pid = api("admin").post("/billing/payers", json=ACME).get_json()["id"]
    assert api("biller").patch(f"/billing/payers/{pid}", json={"families": []}).status_code == 403
    assert api("biller").get("/billing/payers").get_json()["payers"][0]["families"] == [
        "functional", "direct_care", "behavior"]
    assert client.patch(f"/api/v1/billing/payers/{pid}", json={"families": []}).status_code == 401
    assert api("admin").patch("/billing/payers/987654", json={"families": []}).status_code == 404


def test_a_payer_that_does_not_cover_the_family_holds_its_patients_lines_until_it_does(app, api):
    client = api("admin")
    sid = behavior_group(client, {"A1": "Acme Health", "A2": "Medicare", "A3": "Nobody Insurance"})
    assert lines(client, sid) == {m: ("ready", set()) for m in ("A1", "A2", "A3")}  # Acme not listed yet: Medicare
    pid = client.post("/billing/payers", json=ACME | {"families": ["functional", "direct_care"]}).get_json()["id"]
    got = lines(client, sid)
    assert got["A1"] == ("held", {"NOT_COVERED_BY_PAYER"}) and got["A2"] == got["A3"] == ("ready", set())
    message = client.get(f"/sessions/{sid}/billing").get_json()["lines"][0]["findings"][0]["message"]
    assert "Acme Health does not cover behavior management" in message
    client.patch(f"/billing/payers/{pid}", json={"families": ["functional", "direct_care", "behavior"]})
    assert lines(client, sid)["A1"] == ("ready", set())
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "payer")
                                    .order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["payer.create", "payer.update"]
        assert events[0].after["families"] == ["functional", "direct_care"]
        assert (events[1].before["families"], events[1].after["families"]) == (
            ["functional", "direct_care"], ["functional", "direct_care", "behavior"])


def test_telehealth_and_verbal_consent_follow_the_payers_dates(api):
    client = api("admin")
    client.post("/billing/payers", json=ACME | {"telehealth_from": "2026-06-01", "verbal_consent_from": None})
    client.post("/patients", json=patient("V1", "acme health", consent_kind="verbal"))
    sid = behavior_group(client, {"A1": "ACME  Health", "A2": "Medicare"}, modality="telehealth")
    got = lines(client, sid)
    assert got["A1"] == ("held", {"TELEHEALTH_NOT_COVERED"}) and got["A2"] == ("ready", set())
    later = behavior_group(client, {"B1": "Acme Health", "B2": "Medicare"}, modality="telehealth", day="2026-06-02")
    assert lines(client, later)["B1"] == ("ready", set())
    client.patch("/patients/B1", json={"consent": {"date": "2026-01-05", "kind": "verbal"}})
    client.patch("/patients/B2", json={"consent": {"date": "2026-01-05", "kind": "verbal"}})
    got = lines(client, later)
    assert got["B1"] == ("ready", {"CONSENT_VERBAL_PRE_2025"}) and got["B2"] == ("ready", set())


def test_exported_lines_are_not_touched_by_a_profile_change(api):
    client = api("admin")
    sid = behavior_group(client, {"A1": "Acme Health", "A2": "Medicare"})
    assert client.post("/billing/exports", json={"from": "2026-03-01", "to": "2026-03-31"}).get_json()["rows"] == 2
    client.post("/billing/payers", json=ACME | {"families": ["functional"]})
    assert {m: s for m, (s, _) in lines(client, sid).items()} == {"A1": "exported", "A2": "exported"}


def test_the_settings_page_adds_and_edits_a_payers_profile(app, client, login):
    login("admin")
    page = client.get("/billing/settings").get_data(as_text=True)
    assert 'name="telehealth_from"' in page and 'value="2025-01-01"' in page
    assert "Behavior management (G0539, G0540, 96202, 96203)" in page
    response = client.post("/billing/payers", data=ACME | {"telehealth_from": "", "verbal_consent_from": "2025-01-01",
                                                           "families": ["functional", "direct_care"]})
    assert response.status_code == 302
    page = client.get("/billing/settings").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td><a [^>]*>Acme Health</a>.*?</tr>", page, re.S).group(0)
    assert "Never" in row and "from Jan 1, 2025" in row and "Functional performance, Direct care" in row
    with app.app_context():
        payer = db.session.scalars(sa.select(Payer)).one()
    form = client.get(f"/billing/payers/{payer.id}").get_data(as_text=True)
    boxes = {value: bool(checked) for checked, value in re.findall(
        r'<input (checked )?id="families-\d" name="families" type="checkbox" value="(\w+)"', form)}
    assert boxes == {"functional": True, "direct_care": True, "behavior": False}
    assert 'name="telehealth_from" type="date" value=""' in form
    bad = client.post(f"/billing/payers/{payer.id}", data=ACME | {"telehealth_from": "31/12/2026",
                                                                   "families": ["functional"]})
    assert bad.status_code == 422 and "Telehealth covered from is a date" in bad.get_data(as_text=True)
    ok = client.post(f"/billing/payers/{payer.id}", data=ACME | {"telehealth_from": "2026-01-01",
                                                                  "verbal_consent_from": "",
                                                                  "families": ["behavior"]})
    assert ok.status_code == 302
    with app.app_context():
        payer = db.session.get(Payer, payer.id)
        assert (payer.telehealth_from.isoformat(), payer.verbal_consent_from, payer.families) == (
            "2026-01-01", None, ["behavior"])
