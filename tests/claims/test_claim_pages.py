"""The biller's claim pages: preflight with fix links, the batch page, downloads that refuse a
broken file and say why."""

from __future__ import annotations

import json

import sqlalchemy as sa

from roster.extensions import db
from roster.models import ClaimFile, Hl7Message
from tests.claims.files import ADDRESS, assert_pyx12_accepts, set_up_clinic
from tests.test_scenarios import SCENARIOS, Driver

RANGE = "from=2026-02-01&to=2026-02-28"


def _story(admin, *, addresses: bool = True) -> Driver:
    set_up_clinic(admin)
    driver = Driver(admin)
    for step in json.loads(next(p for p in SCENARIOS if p.stem.startswith("01-")).read_text())["steps"]:
        driver.run(step)
        if step["do"] == "patient" and addresses:
            driver.call("patch", f"/patients/{step['body']['mrn']}", ADDRESS)
    return driver


def test_the_preflight_names_each_problem_with_a_link_to_fix_it(app, api, client, login):
    admin = api("admin")
    _story(admin)
    admin.patch("/patients/A1001", json={"address_line1": "", "sex": None})
    admin.patch("/patients/A1002", json={"payer": "Acme Health"})
    admin.patch("/billing/settings", json={"tax_id": ""})
    problems = admin.get(f"/billing/preflight?{RANGE}").get_json()["problems"]
    assert sorted(p["code"] for p in problems) == ["CLINIC_INCOMPLETE", "NO_ADDRESS", "NO_SEX", "PAYER_NOT_ON_LIST"]
    assert next(p for p in problems if p["code"] == "NO_ADDRESS")["patient_mrn"] == "A1001"

    user = login("admin")
    page = client.get(f"/billing/preflight?{RANGE}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "4 problems" in html
    with app.app_context():
        from roster.models import Patient

        a1001 = db.session.scalar(sa.select(Patient.id).where(Patient.mrn == "A1001"))
    assert f'/people/patients/{a1001}/edit#address' in html
    assert "/billing/settings#payers" in html and "/billing/settings#provider" in html and "tax id" in html
    bad = client.get("/billing/preflight?from=2026-02-28&to=2026-02-01")
    assert bad.status_code == 200 and "must end on or after" in bad.get_data(as_text=True)
    assert user.role == "admin"


def test_a_biller_is_refused_a_broken_file_and_gets_it_once_the_data_is_fixed(app, api, client, login):
    admin = api("admin")
    _story(admin)
    admin.patch("/patients/A1003", json={"address_zip": ""})
    batch_id = admin.post("/billing/exports", json={"from": "2026-02-01", "to": "2026-02-28"}).get_json()["id"]
    refused = admin.get(f"/billing/exports/{batch_id}.837")
    assert refused.status_code == 409
    body = refused.get_json()["error"]
    assert body["code"] == "claim_preflight" and [p["code"] for p in body["problems"]] == ["NO_ADDRESS"]
    assert admin.get(f"/billing/exports/{batch_id}.hl7").status_code == 409
    login("biller")
    page = client.get(f"/billing/exports/{batch_id}.837")
    assert page.status_code == 409 and "no complete home address" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ClaimFile)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Hl7Message)) == 0
    admin.patch("/patients/A1003", json={"address_zip": "60613"})
    good = client.get(f"/billing/exports/{batch_id}.837")
    assert good.status_code == 200 and "attachment" in good.headers["Content-Disposition"]
    assert_pyx12_accepts(good.get_data(as_text=True))
    assert client.get(f"/billing/exports/{batch_id}.hl7").status_code == 200
    exports = client.get("/billing/exports").get_data(as_text=True)
    assert f"/billing/exports/{batch_id}.837" in exports and "0 acknowledged, 0 rejected, 3 pending" in exports
    assert client.get(f"/billing/exports/{batch_id}").status_code == 200


def test_only_billers_and_admins_make_claim_files(api):
    admin = api("admin")
    _story(admin)
    batch_id = admin.post("/billing/exports", json={"from": "2026-02-01", "to": "2026-02-28"}).get_json()["id"]
    for role in ("coordinator", "front_desk", "facilitator"):
        assert api(role).get(f"/billing/exports/{batch_id}.837").status_code == 403
    assert api("biller").get("/billing/exports/999.837").status_code == 404
