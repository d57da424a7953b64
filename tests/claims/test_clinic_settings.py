"""Clinic billing settings, the payer list, the fee schedule and what patients gain for claims."""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, ClaimSettings, Fee, Patient, Payer
from roster.services import clinic

GOOD_SETTINGS = {
    "organization_name": "Lakeshore Rehab", "npi": "1555012347", "tax_id": "36-1234567",
    "taxonomy": "261qr0400x", "address_line1": "200 N Michigan Ave", "address_city": "Chicago",
    "address_state": "il", "address_zip": "60601-1234", "contact_name": "Billie Biller",
    "contact_phone": "(312) 555-0100", "submitter_id": "LAKESHORE01", "receiver_id": "CLEARHOUSE01",
    "receiver_name": "Prairie Claims", "x12_usage": "T", "hl7_host": "engine.hospital.org",
    "hl7_port": "2575", "hl7_receiving_application": "HBS", "hl7_receiving_facility": "LMC",
}


def error_of(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-err">([^<]*)</p>', html)
    return match.group(1) if match else ""


def test_an_admin_saves_the_billing_provider_and_every_value_is_normalised(app, client, login):
    login("admin")
    assert client.get("/billing/settings").status_code == 200
    response = client.post("/billing/settings", data=GOOD_SETTINGS)
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(ClaimSettings, 1)
        assert (row.npi, row.tax_id, row.taxonomy, row.address_state, row.address_zip, row.contact_phone,
                row.hl7_port) == ("1555012347", "361234567", "261QR0400X", "IL", "606011234", "3125550100", 2575)
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "clinic_settings")) \
            == "settings.update"


def test_bad_settings_name_every_field_and_write_nothing(app, client, login):
    login("admin")
    bad = GOOD_SETTINGS | {"npi": "1555012340", "tax_id": "12", "taxonomy": "PT", "address_state": "XX",
                           "address_zip": "60601", "hl7_port": "70000", "submitter_id": "has space"}
    response = client.post("/billing/settings", data=bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "check digit" in error_of(html, "npi")
    assert "nine digits" in error_of(html, "address_zip")
    for field_id in ("tax_id", "taxonomy", "address_state", "hl7_port", "submitter_id"):
        assert error_of(html, field_id), field_id
    with app.app_context():
        assert db.session.get(ClaimSettings, 1) is None


def test_only_an_admin_changes_billing_settings(client, login):
    login("biller")
    assert client.get("/billing/settings").status_code == 403
    assert client.post("/billing/settings", data=GOOD_SETTINGS).status_code == 403


def test_the_payer_list_is_unique_whatever_the_case_and_a_rename_follows_to_patients(app, client, login, build):
    login("admin")
    assert client.post("/billing/payers", data={"name": "Medicare", "payer_id": "06102",
                                                "claim_filing_indicator": "MB"}).status_code == 302
    twice = client.post("/billing/payers", data={"name": " MEDICARE ", "payer_id": "06102",
                                                 "claim_filing_indicator": "MB"})
    assert twice.status_code == 409 and "already on the list" in twice.get_data(as_text=True)
    bad = client.post("/billing/payers", data={"name": "", "payer_id": "a b", "claim_filing_indicator": "QQ"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert error_of(html, "name") and error_of(html, "payer_id") and error_of(html, "claim_filing_indicator")
    patient = build.patient(payer="medicare")
    with app.app_context():
        payer = db.session.scalar(sa.select(Payer))
        assert clinic.payer_for("  MediCare ").id == payer.id
    renamed = client.post(f"/billing/payers/{payer.id}", data={"name": "Medicare Part B", "payer_id": "06102",
                                                              "claim_filing_indicator": "MB"})
    assert renamed.status_code == 302
    with app.app_context():
        assert db.session.get(Patient, patient.id).payer == "Medicare Part B"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payer)) == 1


def test_the_fee_schedule_takes_dollars_and_refuses_nonsense(app, client, login):
    login("admin")
    assert client.post("/billing/fees", data={"cpt": "97552", "charge": "$35.50"}).status_code == 302
    assert client.post("/billing/fees", data={"cpt": "97552", "charge": "36"}).status_code == 302
    bad = client.post("/billing/fees", data={"cpt": "9755", "charge": "-1"})
    assert bad.status_code == 422
    assert error_of(bad.get_data(as_text=True), "cpt") and error_of(bad.get_data(as_text=True), "charge")
    with app.app_context():
        assert clinic.fee_schedule() == {"97552": 3600}
    assert client.post("/billing/fees/97552/remove").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Fee)) == 0


def test_the_api_sets_settings_payers_and_fees(api):
    admin = api("admin")
    response = admin.patch("/billing/settings", json={"npi": "1555012347", "hl7_port": 2575})
    assert response.status_code == 200 and response.get_json()["hl7_port"] == 2575
    bad = admin.patch("/billing/settings", json={"npi": "123", "colour": "red"})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"npi", "colour"}
    assert admin.post("/billing/payers", json={"name": "Aetna", "payer_id": "60054",
                                               "claim_filing_indicator": "CI"}).status_code == 201
    assert admin.post("/billing/payers", json={"name": "aetna", "payer_id": "60054",
                                               "claim_filing_indicator": "CI"}).status_code == 409
    assert admin.post("/billing/fees", json={"cpt": "97552", "charge": "35.00"}).status_code == 200
    assert api("biller").get("/billing/fees").get_json() == {"fees": [{"cpt": "97552", "charge": "35.00"}]}
    assert api("biller").post("/billing/fees", json={"cpt": "97552", "charge": "1"}).status_code == 403


def test_patients_gain_sex_and_address_and_bad_ones_are_named(api):
    coordinator = api("coordinator")
    base = {"mrn": "A1", "first_name": "Walter", "last_name": "Ames", "dob": "1950-04-02", "payer": "Medicare"}
    bad = coordinator.post("/patients", json=base | {"sex": "X", "address_state": "ZZ", "address_zip": "1234"})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"sex", "address_state", "address_zip"}
    good = coordinator.post("/patients", json=base | {"sex": "m", "address_line1": "12 Elm St",
                                                      "address_city": "Evanston", "address_state": "il",
                                                      "address_zip": "60201"})
    assert good.status_code == 201
    got = coordinator.get("/patients/A1").get_json()
    assert (got["sex"], got["address_state"], got["address_zip"]) == ("M", "IL", "60201")


def test_the_patient_form_offers_the_payer_list_and_saves_the_address(app, client, login, build):
    with app.app_context():
        clinic.create_payer({"name": "Blue Cross", "payer_id": "00621", "claim_filing_indicator": "BL"})
        db.session.commit()
    patient = build.patient()
    login("biller")
    page = client.get(f"/people/patients/{patient.id}/edit").get_data(as_text=True)
    assert '<datalist id="payer-list"><option value="Blue Cross">' in page
    form = {"mrn": patient.mrn, "first_name": "Pat", "last_name": patient.last_name, "dob": "1950-04-02",
            "payer": "Blue Cross", "consent_kind": "written", "consent_date": "2026-01-05",
            "poc_discipline": "PT", "poc_start": "2026-01-02", "poc_end": "2026-12-31",
            "diagnosis_codes": "I69.351", "needs": "stroke", "sex": "F",
            "address_line1": "5 Oak St", "address_city": "Chicago", "address_state": "IL", "address_zip": "6060"}
    bad = client.post(f"/people/patients/{patient.id}/edit", data=form)
    assert bad.status_code == 422 and "5 digits" in error_of(bad.get_data(as_text=True), "address_zip")
    assert client.post(f"/people/patients/{patient.id}/edit", data=form | {"address_zip": "60601"}).status_code == 302
    with app.app_context():
        saved = db.session.get(Patient, patient.id)
        assert (saved.sex, saved.address_line1, saved.address_zip, saved.payer) == ("F", "5 Oak St", "60601",
                                                                                      "Blue Cross")


def test_control_numbers_never_repeat_under_concurrency(app):
    taken: list[int] = []

    def take():
        with app.app_context():
            for _ in range(5):
                taken.append(clinic.next_number("x12"))
                db.session.commit()

    threads = [threading.Thread(target=take) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == list(range(1, 81))


def test_control_numbers_count_up_from_one(ctx):
    assert [clinic.next_number("x12") for _ in range(3)] == [1, 2, 3]
    assert clinic.next_number("hl7") == 1
