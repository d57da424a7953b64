"""Issue 13 in the people forms: case-free MRNs, believable dates and phones, maxlength, likely duplicate
caregivers with "use the existing one", and picking a patient by search."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, Caregiver, CaregiverLink, Patient
from tests.people.test_caregiver_pages import form as caregiver_form
from tests.people.test_patient_pages import GOOD, count, field_error

TOMORROW = (date.today() + timedelta(days=2)).isoformat()


def test_an_mrn_differing_only_in_case_is_refused_naming_the_existing_one(app, client, login, build):
    build.patient(mrn="A1001")
    login("coordinator")
    response = client.post("/people/patients/new", data=GOOD | {"mrn": "a1001"})
    assert response.status_code == 409
    assert "already exists (as A1001; case does not make a different MRN)" in field_error(response.get_data(as_text=True), "mrn")
    assert count(app, Patient) == 1


@pytest.mark.parametrize("change, field_id, message", [
    ({"dob": TOMORROW}, "dob", "Date of birth cannot be in the future."),
    ({"dob": "1899-12-31"}, "dob", "Date of birth must be in 1900 or later."),
    ({"consent_date": TOMORROW}, "consent_date", "Consent date cannot be in the future."),
])
def test_unbelievable_dates_are_refused_and_nothing_is_written(app, client, login, change, field_id, message):
    login("coordinator")
    before = (count(app, Patient), count(app, AuditEvent))
    response = client.post("/people/patients/new", data=GOOD | change)
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), field_id)
    assert (count(app, Patient), count(app, AuditEvent)) == before


def test_a_twenty_digit_phone_is_refused(app, client, login, build):
    build.patient(mrn="A1001")
    login("coordinator")
    response = client.post("/people/caregivers/new", data=caregiver_form(
        phone="1" * 20, **{"links-0-patient_mrn": "A1001"}))
    assert response.status_code == 422
    assert "a phone number has at most 15" in response.get_data(as_text=True)
    assert count(app, Caregiver) == 0


def test_inputs_carry_the_servers_limits(client, login):
    login("coordinator")
    patient = client.get("/people/patients/new").get_data(as_text=True)
    for name, limit in (("mrn", 40), ("first_name", 80), ("last_name", 80), ("payer", 80), ("member_id", 40)):
        assert re.search(rf'<input[^>]*maxlength="{limit}"[^>]*name="{name}"|<input[^>]*name="{name}"[^>]*maxlength="{limit}"', patient), name
    assert 'min="1900-01-01"' in patient
    carer = client.get("/people/caregivers/new").get_data(as_text=True)
    for name, limit in (("first_name", 80), ("phone", 40), ("email", 254), ("links-0-relationship", 40)):
        assert re.search(rf'maxlength="{limit}"[^>]*name="{name}"|name="{name}"[^>]*maxlength="{limit}"', carer), name


def test_an_identical_caregiver_for_the_same_patient_is_refused(app, client, login, build):
    build.patient(mrn="A1001")
    login("coordinator")
    data = caregiver_form(**{"links-0-patient_mrn": "A1001", "links-0-relationship": "spouse"})
    assert client.post("/people/caregivers/new", data=data).status_code == 302
    again = client.post("/people/caregivers/new", data=data | {"first_name": "RITA", "confirm_new": "1"})
    assert again.status_code == 409
    assert "is already a caregiver of" in html.unescape(again.get_data(as_text=True))
    assert count(app, Caregiver) == 1


def test_a_likely_duplicate_is_offered_and_used_for_another_patient(app, client, login, build):
    ann = build.patient(mrn="A1001", first_name="Ann", last_name="Ames")
    build.patient(mrn="B2002", first_name="Bob", last_name="Ames")
    rita = build.caregiver([ann], first_name="Rita", last_name="Ames", phone="(555) 010-1999")
    login("coordinator")
    data = caregiver_form(phone="555 010 1999", **{"links-0-patient_mrn": "B2002", "links-0-relationship": "daughter"})
    page = html.unescape(client.post("/people/caregivers/new", data=data).get_data(as_text=True))
    assert "This caregiver may already be in Roster" in page and "cares for Ann Ames" in page
    assert count(app, Caregiver) == 1  # nothing saved yet
    use = re.search(r'href="([^"]+)">Use the existing one', page).group(1).replace("&amp;", "&")
    assert use.startswith(f"/people/caregivers/{rita.id}/edit?add_mrn=B2002")
    edit = client.get(use).get_data(as_text=True)
    assert 'value="B2002"' in edit and 'value="daughter"' in edit
    # or, if it really is someone else, save anyway
    response = client.post("/people/caregivers/new", data=data | {"confirm_new": "1"})
    assert response.status_code == 302 and count(app, Caregiver) == 2


def test_the_caregiver_form_picks_a_patient_by_search(client, login, build):
    build.patient(mrn="A1001", first_name="Walter", last_name="Ames", dob="1950-04-02")
    login("coordinator")
    page = client.get("/people/caregivers/new").get_data(as_text=True)
    assert 'data-patient-lookup="/people/patients/lookup"' in page and 'list="links-0-patient_mrn-options"' in page
    found = client.get("/people/patients/lookup?q=walt").get_json()
    assert found == [{"mrn": "A1001", "name": "Ames, Walter", "dob": "Sun, Apr 2, 1950"}]
    assert client.get("/people/patients/lookup?q=w").get_json() == []
