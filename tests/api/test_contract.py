"""The JSON API v1 contract: shapes, errors, atomic writes."""

from __future__ import annotations

import re

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, Caregiver, ClassSession, GroupClass, Patient

PATIENT = {
    "mrn": "A1001", "first_name": "Walter", "last_name": "Ames", "dob": "1950-04-02",
    "payer": "Medicare", "member_id": "1EG4TE5MK73", "needs": ["stroke"], "diagnosis_codes": ["I69.351"],
    "consent": {"date": "2026-01-05", "kind": "written"},
    "plan_of_care": {"discipline": "PT", "start": "2026-01-02", "end": "2026-04-01"},
}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_and_read_patient(app, api):
    client = api("coordinator")
    response = client.post("/patients", json=PATIENT)
    assert response.status_code == 201
    assert isinstance(response.get_json()["id"], int)
    got = client.get("/patients/A1001").get_json()
    assert got["consent"] == {"date": "2026-01-05", "kind": "written"}
    assert got["plan_of_care"]["discipline"] == "PT"
    assert got["diagnosis_codes"] == ["I69.351"]


def test_duplicate_mrn_is_409_and_writes_nothing(app, api):
    client = api("coordinator")
    client.post("/patients", json=PATIENT)
    response = client.post("/patients", json=PATIENT | {"first_name": "Other"})
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"mrn": "Already in use."}
    assert count(app, Patient) == 1


def test_422_lists_every_bad_field_and_writes_nothing(app, api):
    client = api("coordinator")
    before_audit = count(app, AuditEvent)
    bad = PATIENT | {
        "mrn": "", "first_name": 7, "dob": "1950-02-30", "diagnosis_codes": ["I69.351", "banana"],
        "consent": {"date": "2026-01-05", "kind": "telepathic"},
        "plan_of_care": {"discipline": "XX", "start": "2026-05-01", "end": "2026-04-01"},
        "favourite_colour": "blue",
    }
    response = client.post("/patients", json=bad)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {
        "mrn", "first_name", "dob", "diagnosis_codes", "consent.kind", "plan_of_care.discipline",
        "plan_of_care.end", "favourite_colour",
    }
    assert "banana" in error["fields"]["diagnosis_codes"]
    assert count(app, Patient) == 0
    assert count(app, AuditEvent) == before_audit


def test_malformed_json_is_400(api):
    client = api("coordinator")
    response = client.client.post("/api/v1/patients", data="{not json", headers=client.headers | {
        "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
    assert client.post("/patients", json=[1, 2]).status_code == 400


def test_patch_patient_takes_any_field(app, api):
    client = api("coordinator")
    client.post("/patients", json=PATIENT)
    response = client.patch("/patients/A1001", json={"consent": None, "needs": ["Stroke", "falls"]})
    assert response.status_code == 200
    got = client.get("/patients/A1001").get_json()
    assert got["consent"] is None and got["needs"] == ["stroke", "falls"]
    assert client.patch("/patients/NOPE", json={}).status_code == 404
    bad = client.patch("/patients/A1001", json={"dob": "yesterday"})
    assert bad.status_code == 422 and "dob" in bad.get_json()["error"]["fields"]


def test_facilitator_npi_must_be_ten_digits_but_bad_check_digit_is_accepted(api):
    client = api("coordinator")
    assert client.post("/facilitators", json={"name": "A", "npi": "12345", "discipline": "PT"}).status_code == 422
    response = client.post("/facilitators", json={"name": "A", "npi": "1234567890", "discipline": "PT"})
    assert response.status_code == 201
    assert "check digit" in response.get_json()["warning"]
    bad = client.post("/facilitators", json={"name": "", "npi": "1234567893", "discipline": "RN"})
    assert set(bad.get_json()["error"]["fields"]) == {"name", "discipline"}


def test_caregiver_links_must_name_known_patients(app, api):
    client = api("coordinator")
    client.post("/patients", json=PATIENT)
    response = client.post("/caregivers", json={"first_name": "Rita", "last_name": "Ames", "phone": "555-0101",
                                                "links": [{"patient_mrn": "A1001", "relationship": "spouse"},
                                                          {"patient_mrn": "ZZZ", "relationship": "son"}]})
    assert response.status_code == 422
    assert "links[1].patient_mrn" in response.get_json()["error"]["fields"]
    assert count(app, Caregiver) == 0


def _class_body(facilitator_id, **over):
    return {"title": "Stroke caregiver skills", "needs": ["stroke"], "capacity": 3, "room": "Gym A",
            "facilitator_id": facilitator_id, "timezone": "America/Chicago", "modality": "in_person",
            "place_of_service": "11",
            "sessions": [{"starts_at": "2026-02-03T10:00", "duration_minutes": 60},
                         {"starts_at": "2026-02-10T10:00", "duration_minutes": 60}]} | over


def test_class_with_sessions_keeps_their_order_and_wall_clock(app, api):
    client = api("coordinator")
    fid = client.post("/facilitators", json={"name": "D", "npi": "1234567893", "discipline": "PT"}).get_json()["id"]
    body = _class_body(fid, sessions=[{"starts_at": "2026-03-10T10:00", "duration_minutes": 60},
                                      {"starts_at": "2026-03-03T10:00", "duration_minutes": 45}])
    answer = client.post("/classes", json=body).get_json()
    first, second = (client.get(f"/sessions/{sid}").get_json() for sid in answer["session_ids"])
    assert first["starts_at"] == "2026-03-10T10:00" and second["starts_at"] == "2026-03-03T10:00"
    assert second["ends_at"] == "2026-03-03T10:45"
    with app.app_context():
        s1 = db.session.get(ClassSession, answer["session_ids"][0])
        s2 = db.session.get(ClassSession, answer["session_ids"][1])
        # across the March DST change the UTC hour moves, the local hour does not
        assert s1.starts_at.hour == 15 and s2.starts_at.hour == 16


def test_class_errors_and_room_conflict(app, api):
    client = api("coordinator")
    fid = client.post("/facilitators", json={"name": "D", "npi": "1234567893", "discipline": "PT"}).get_json()["id"]
    bad = client.post("/classes", json=_class_body(fid, capacity=0, timezone="Mars/Olympus",
                                                   sessions=[{"starts_at": "2026-02-03 10am", "duration_minutes": 60}]))
    assert bad.status_code == 422
    assert {"capacity", "timezone"} <= set(bad.get_json()["error"]["fields"])
    assert client.post("/classes", json=_class_body(fid)).status_code == 201
    clash = client.post("/classes", json=_class_body(None, title="Other",
                                                     sessions=[{"starts_at": "2026-02-03T10:30", "duration_minutes": 30}]))
    assert clash.status_code == 409
    assert "Gym A is already booked by “Stroke caregiver skills”" in clash.get_json()["error"]["message"]
    assert count(app, GroupClass) == 1


def test_enrolment_capacity_counts_seats(app, api):
    client = api("coordinator")
    fid = client.post("/facilitators", json={"name": "D", "npi": "1234567893", "discipline": "PT"}).get_json()["id"]
    for mrn in ("A1", "A2"):
        client.post("/patients", json=PATIENT | {"mrn": mrn})
    c1 = client.post("/caregivers", json={"first_name": "R", "last_name": "A", "phone": "5550101",
                                          "links": [{"patient_mrn": "A1", "relationship": "spouse"}]}).get_json()["id"]
    c2 = client.post("/caregivers", json={"first_name": "T", "last_name": "A", "phone": "5550102",
                                          "links": [{"patient_mrn": "A1", "relationship": "son"}]}).get_json()["id"]
    c3 = client.post("/caregivers", json={"first_name": "J", "last_name": "B", "phone": "5550103",
                                          "links": [{"patient_mrn": "A2", "relationship": "daughter"}]}).get_json()["id"]
    c4 = client.post("/caregivers", json={"first_name": "K", "last_name": "B", "phone": "5550104",
                                          "links": [{"patient_mrn": "A2", "relationship": "son"}]}).get_json()["id"]
    class_id = client.post("/classes", json=_class_body(fid)).get_json()["id"]
    assert client.post(f"/classes/{class_id}/enrollments",
                       json={"patient_mrn": "A1", "caregiver_ids": [c1, c2]}).get_json()["status"] == "enrolled"
    # two more seats wanted, one left: the set waits
    assert client.post(f"/classes/{class_id}/enrollments",
                       json={"patient_mrn": "A2", "caregiver_ids": [c3, c4]}).get_json()["status"] == "waitlisted"
    again = client.post(f"/classes/{class_id}/enrollments", json={"patient_mrn": "A1", "caregiver_ids": [c1]})
    assert again.status_code == 409
    unlinked = client.post(f"/classes/{class_id}/enrollments", json={"patient_mrn": "A2", "caregiver_ids": [c1]})
    assert unlinked.status_code in (409, 422)
    withdrawn = client.delete(f"/classes/{class_id}/enrollments/A1").get_json()
    assert withdrawn["promoted"] == ["A2"]


def test_checkin_is_idempotent_201_then_200(app, api):
    client = api("admin")
    fid = client.post("/facilitators", json={"name": "D", "npi": "1234567893", "discipline": "PT"}).get_json()["id"]
    client.post("/patients", json=PATIENT)
    cid = client.post("/caregivers", json={"first_name": "R", "last_name": "A", "phone": "5550101",
                                           "links": [{"patient_mrn": "A1001", "relationship": "spouse"}]}).get_json()["id"]
    sid = client.post("/classes", json=_class_body(fid)).get_json()["session_ids"][0]
    first = client.post(f"/sessions/{sid}/checkins", json={"caregiver_id": cid})
    second = client.post(f"/sessions/{sid}/checkins", json={"caregiver_id": cid, "patient_mrn": "A1001"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert first.get_json()["walk_in"] is True
    assert client.delete(f"/sessions/{sid}/checkins/{cid}").status_code == 200
    assert client.delete(f"/sessions/{sid}/checkins/{cid}").status_code == 404
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.session_id == sid)).all()
    assert actions.count("checkin.create") == 1 and actions.count("checkin.undo") == 1


def test_cancel_needs_a_reason_and_blocks_checkins(app, api):
    client = api("admin")
    fid = client.post("/facilitators", json={"name": "D", "npi": "1234567893", "discipline": "PT"}).get_json()["id"]
    client.post("/patients", json=PATIENT)
    cid = client.post("/caregivers", json={"first_name": "R", "last_name": "A", "phone": "5550101",
                                           "links": [{"patient_mrn": "A1001", "relationship": "spouse"}]}).get_json()["id"]
    sid = client.post("/classes", json=_class_body(fid)).get_json()["session_ids"][0]
    assert client.post(f"/sessions/{sid}/cancel", json={"reason": " "}).status_code == 422
    assert client.post(f"/sessions/{sid}/cancel", json={"reason": "Snow storm"}).get_json()["status"] == "cancelled"
    assert client.post(f"/sessions/{sid}/checkins", json={"caregiver_id": cid}).status_code == 409


def test_close_validates_and_writes_nothing_on_error(app, api):
    client = api("admin")
    fid = client.post("/facilitators", json={"name": "D", "npi": "1234567893", "discipline": "PT"}).get_json()["id"]
    sid = client.post("/classes", json=_class_body(fid)).get_json()["session_ids"][0]
    bad = client.post(f"/sessions/{sid}/close", json={"facilitator_id": 999, "started_at": "2026-02-03T11:00",
                                                      "ended_at": "2026-02-03T10:00", "patients_present": ["NOPE"]})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"facilitator_id", "ended_at", "patients_present"}
    assert client.get(f"/sessions/{sid}").get_json()["status"] == "scheduled"


def test_openapi_document_lists_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    documented = set(spec["paths"])
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            assert path in documented, path


def test_patch_class_applies_to_sessions_not_yet_held(app, api):
    """S8 (this test pinned re-billing held sessions before the rule book settled it)."""
    client = api("admin")
    fid = client.post("/facilitators", json={"name": "D", "npi": "1234567893", "discipline": "PT"}).get_json()["id"]
    for mrn in ("A1", "A2"):
        client.post("/patients", json=PATIENT | {"mrn": mrn})
    cids = [client.post("/caregivers", json={"first_name": "C", "last_name": mrn, "phone": "5550101",
                                             "links": [{"patient_mrn": mrn, "relationship": "spouse"}]}).get_json()["id"]
            for mrn in ("A1", "A2")]
    answer = client.post("/classes", json=_class_body(fid, capacity=2)).get_json()
    sid = answer["session_ids"][0]
    for cid, mrn in zip(cids, ("A1", "A2")):
        client.post(f"/classes/{answer['id']}/enrollments", json={"patient_mrn": mrn, "caregiver_ids": [cid]})
        client.post(f"/sessions/{sid}/checkins", json={"caregiver_id": cid, "patient_mrn": mrn})
    client.post(f"/sessions/{sid}/close", json={"facilitator_id": fid, "started_at": "2026-02-03T10:00",
                                                "ended_at": "2026-02-03T11:00", "patients_present": []})
    assert client.get(f"/sessions/{sid}/billing").get_json()["findings"] == []
    too_small = client.patch(f"/classes/{answer['id']}", json={"capacity": 1})
    assert too_small.status_code == 422 and "capacity" in too_small.get_json()["error"]["fields"]
    assert client.patch(f"/classes/{answer['id']}", json={"needs": ["dementia"]}).status_code == 200
    assert client.get(f"/sessions/{sid}/billing").get_json()["findings"] == []  # held with "stroke"
    assert client.post(f"/sessions/{sid}/reopen", json={"reason": "fix"}).status_code == 200
    client.post(f"/sessions/{sid}/close", json={"facilitator_id": fid, "started_at": "2026-02-03T10:00",
                                                "ended_at": "2026-02-03T11:00", "patients_present": []})
    codes = {(f["patient_mrn"], f["code"]) for f in client.get(f"/sessions/{sid}/billing").get_json()["findings"]}
    assert codes == {("A1", "NEEDS_MISMATCH"), ("A2", "NEEDS_MISMATCH")}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "class.update")) == 1
