"""A coordinator registers a patient and a caregiver, and imports patients from a CSV file."""

from __future__ import annotations

PATIENT_HEADER = ("mrn,first_name,last_name,dob,payer,member_id,needs,diagnosis_codes,"
                  "consent_date,consent_kind,poc_discipline,poc_start,poc_end")


def test_a_coordinator_adds_a_patient_and_a_caregiver_and_sees_both(ui, build):
    user = build.user(role="coordinator")
    ui.login(user.email)
    page = ui.page
    ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients"))
    ui.click(page.get_by_role("link", name="Add a patient"))

    page.get_by_label("MRN (medical record number)").fill("B2002")
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Quinn")
    page.get_by_label("Date of birth").fill("1944-07-19")
    page.get_by_label("Payer").fill("Medicare")
    page.get_by_label("ICD-10-CM diagnosis codes").fill("I69.351, R26.89")
    page.get_by_label("Needs").fill("stroke")
    page.get_by_label("Written").check()
    page.get_by_label("Consent date").fill("2026-01-05")
    page.get_by_label("Plan of care discipline").select_option("PT")
    page.get_by_label("Plan of care start").fill("2026-01-02")
    page.get_by_label("Plan of care end").fill("2025-12-31")  # before the start: refused
    ui.click(page.get_by_role("button", name="Save patient"))
    assert page.get_by_role("alert").is_visible()
    assert "Plan of care must end on or after its start." in page.locator("#poc_end-err").inner_text()
    page.get_by_label("Plan of care end").fill("2026-04-01")
    ui.click(page.get_by_role("button", name="Save patient"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Nora Quinn")

    ui.click(page.get_by_role("link", name="Add a caregiver"))
    assert page.get_by_label("Patient 1 MRN").input_value() == "B2002"
    page.get_by_label("First name").fill("Owen")
    page.get_by_label("Last name").fill("Quinn")
    page.get_by_label("Phone").fill("555-0142")
    page.get_by_label("Patient 1 relationship").fill("son")
    ui.click(page.get_by_role("button", name="Save caregiver"))
    assert "Owen Quinn saved." in page.locator(".flashes").inner_text()

    ui.click(page.get_by_role("link", name="Nora Quinn"))
    caregivers = page.locator("#caregivers")
    assert "Owen Quinn" in caregivers.inner_text() and "son" in caregivers.inner_text()
    assert "555-0142" in caregivers.inner_text()
    assert "Written consent, given Jan 5, 2026" in page.locator("#consent").inner_text()
    assert "PT, Jan 2, 2026 to Apr 1, 2026" in page.locator("#plan-of-care").inner_text()
    assert "I69.351" in page.locator("#diagnoses").inner_text()


def test_a_coordinator_imports_patients_after_a_preview(ui, build):
    user = build.user(role="coordinator")
    ui.login(user.email)
    page = ui.page
    ui.goto("/people/import")
    bad = "\n".join([PATIENT_HEADER,
                     "D1,Ada,Byrne,1950-01-01,Medicare,M1,stroke,I69.351,2026-01-05,written,PT,2026-01-02,2026-05-01",
                     "D2,,Byrne,1950-01-01,Medicare,M2,stroke,NOT-A-CODE,,,,,"])
    page.get_by_label("CSV file").set_input_files({"name": "patients.csv", "mimeType": "text/csv",
                                                   "buffer": bad.encode()})
    ui.click(page.get_by_role("button", name="Preview"))
    problems = page.locator("#preview").inner_text()
    assert "Nothing has been imported" in problems and "First name is required." in problems
    assert page.get_by_role("cell", name="3", exact=True).is_visible()  # line 3 holds the bad row
    assert page.get_by_role("button", name="Import 2 rows").count() == 0

    good = bad.replace("D2,,Byrne", "D2,Cal,Byrne").replace("NOT-A-CODE", "F03.90")
    page.get_by_role("radio", name="Patients").check()
    page.get_by_label("CSV file").set_input_files({"name": "patients.csv", "mimeType": "text/csv",
                                                   "buffer": good.encode()})
    ui.click(page.get_by_role("button", name="Preview"))
    assert "2 rows are good." in page.locator("#preview").inner_text()
    ui.click(page.get_by_role("button", name="Import 2 rows"))
    assert "Imported 2 patients." in page.locator(".flashes").inner_text()
    assert page.get_by_role("link", name="Byrne, Ada").is_visible()
    assert page.get_by_role("link", name="Byrne, Cal").is_visible()
