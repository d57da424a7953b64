"""Minimum necessary: front desk and facilitators see name, MRN, caregivers and needs, never date of
birth, insurance, diagnoses, consent or plan of care, on every page and API route that shows a patient."""

from __future__ import annotations

import pytest

from roster.permissions import ENDPOINT_PERMISSIONS, ROLE_PERMISSIONS, role_can

PASSWORD = "correct-horse-battery"
CLINICAL = {
    "dob": "1947-03-19", "payer": "Acme Mutual Health", "member_id": "ZXQ998877",
    "diagnosis_codes": ["M62.81"], "consent": {"date": "2025-09-15", "kind": "written"},
    "plan_of_care": {"discipline": "OT", "start": "2025-10-06", "end": "2026-09-30"},
}
# pages write dates as the clinic reads them (issue 13: "Mar 19, 1947"); the API keeps ISO dates
ON_PAGES = ["Mar 19, 1947", "Acme Mutual Health", "ZXQ998877", "M62.81", "Sep 15, 2025", "Oct 6, 2025", "Sep 30, 2026"]
SECRETS = ["1947-03-19", "2025-09-15", "2025-10-06", "2026-09-30"] + ON_PAGES


@pytest.fixture
def clinic(build):
    facilitator = build.facilitator()
    patient = build.patient(first_name="Quentin", last_name="Marlowe", needs=["aphasia"], **CLINICAL)
    caregiver = build.caregiver([patient], first_name="Rosa", last_name="Marlowe")
    group_class = build.group_class(facilitator=facilitator, needs=["aphasia"])
    build.enroll(group_class, patient, [caregiver])
    return {"patient_id": patient.id, "mrn": patient.mrn, "caregiver_id": caregiver.id,
            "class_id": group_class.id, "session_id": group_class.created_session_ids[0],
            "facilitator_id": facilitator.id}


def _get_urls(app, values: dict, api: bool) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint not in ENDPOINT_PERMISSIONS:
            continue
        if rule.endpoint.startswith("api.") != api or not set(rule.arguments) <= set(values):
            continue
        urls.append((rule.endpoint, rule.build({k: values[k] for k in rule.arguments})[1]))
    return urls


def test_permission_table_says_so():
    for role in ("front_desk", "facilitator"):
        assert role_can(role, "people.view") and not role_can(role, "people.view_clinical")
    for role in ("admin", "coordinator", "biller"):
        assert role_can(role, "people.view_clinical")
    assert "people.view_clinical" in ROLE_PERMISSIONS["admin"]


@pytest.mark.parametrize("role", ["front_desk", "facilitator"])
def test_pages_show_no_clinical_fields(app, client, login, clinic, role):
    login(role)
    showed_patient = []
    for endpoint, url in _get_urls(app, clinic, api=False):
        response = client.get(url)
        assert response.status_code < 500, (endpoint, response.status_code)
        if response.status_code != 200:
            continue
        body = response.get_data(as_text=True)
        leaked = [s for s in SECRETS if s in body]
        assert not leaked, f"{role} sees {leaked} on {endpoint}"
        if "Marlowe" in body:
            showed_patient.append(endpoint)
    # The walk really met the patient on the pages that show one (the test cannot pass by seeing nothing).
    assert {"people.patients", "people.patient", "people.caregivers"} <= set(showed_patient), showed_patient
    page = client.get(f"/people/patients/{clinic['patient_id']}").get_data(as_text=True)
    assert clinic["mrn"] in page and "aphasia" in page and "Rosa Marlowe" in page


@pytest.mark.parametrize("role", ["front_desk", "facilitator"])
def test_api_shows_no_clinical_fields(app, api, clinic, role):
    client = api(role)
    showed_patient = []
    for endpoint, url in _get_urls(app, clinic, api=True):
        response = client.get(url)
        assert response.status_code < 500, (endpoint, response.status_code)
        if response.status_code != 200:
            continue
        body = response.get_data(as_text=True)
        leaked = [s for s in SECRETS if s in body]
        assert not leaked, f"{role} token reads {leaked} from {endpoint}"
        if clinic["mrn"] in body:
            showed_patient.append(endpoint)
    assert "api.get_patient" in showed_patient
    record = client.get(f"/patients/{clinic['mrn']}").get_json()
    assert record == {"id": clinic["patient_id"], "mrn": clinic["mrn"], "first_name": "Quentin",
                      "last_name": "Marlowe", "needs": ["aphasia"]}


@pytest.mark.parametrize("role", ["coordinator", "biller", "admin"])
def test_clinical_roles_still_see_the_whole_record(app, client, login, api, clinic, role):
    login(role)
    page = client.get(f"/people/patients/{clinic['patient_id']}").get_data(as_text=True)
    assert all(s in page for s in ON_PAGES)
    assert "Mar 19, 1947" in client.get("/people/patients").get_data(as_text=True)
    record = api(role).get(f"/patients/{clinic['mrn']}").get_json()
    assert record["member_id"] == "ZXQ998877" and record["diagnosis_codes"] == ["M62.81"]
    assert record["plan_of_care"]["start"] == "2025-10-06"
