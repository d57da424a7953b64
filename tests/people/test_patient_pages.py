"""Patient pages: list, search and paging, the patient page, new and edit forms."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import url_for

from roster.extensions import db
from roster.models import AuditEvent, Patient

GOOD = {
    "mrn": "A1001", "first_name": "Walter", "last_name": "Ames", "dob": "1950-04-02",
    "payer": "Medicare", "member_id": "1EG4TE5MK73", "needs": "Stroke, mobility",
    "diagnosis_codes": "i69.351, R26.89", "consent_kind": "written", "consent_date": "2026-01-05",
    "poc_discipline": "PT", "poc_start": "2026-01-02", "poc_end": "2026-04-01",
}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-err">([^<]*)</p>', html)
    return match.group(1) if match else ""


def test_a_coordinator_adds_a_patient_with_consent_and_plan_of_care(app, client, login):
    login("coordinator")
    response = client.post("/people/patients/new", data=GOOD)
    assert response.status_code == 302
    with app.app_context():
        patient = db.session.scalar(sa.select(Patient).where(Patient.mrn == "A1001"))
        assert response.headers["Location"].endswith(f"/people/patients/{patient.id}")
        assert patient.diagnosis_codes == ["I69.351", "R26.89"]
        assert patient.needs == ["stroke", "mobility"]
        assert (patient.consent_kind, patient.consent_date.isoformat()) == ("written", "2026-01-05")
        assert (patient.poc_discipline, patient.poc_start.isoformat(), patient.poc_end.isoformat()) == (
            "PT", "2026-01-02", "2026-04-01")
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "patient", AuditEvent.entity_id == patient.id)) == (
            "patient.create")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Walter Ames" in page and "saved" in page


def test_no_consent_and_no_plan_of_care_are_allowed(app, client, login):
    login("coordinator")
    data = GOOD | {"consent_kind": "none", "consent_date": "", "poc_discipline": "", "poc_start": "", "poc_end": ""}
    assert client.post("/people/patients/new", data=data).status_code == 302
    with app.app_context():
        patient = db.session.scalar(sa.select(Patient))
        assert patient.consent_kind is None and patient.consent_date is None and patient.poc_start is None


@pytest.mark.parametrize(
    "change, field_id, message",
    [
        ({"diagnosis_codes": "I69.351, 123"}, "diagnosis_codes", "Not an ICD-10-CM code: 123"),
        ({"poc_end": "2025-12-01"}, "poc_end", "must end on or after its start"),
        ({"first_name": "  "}, "first_name", "First name is required"),
        ({"consent_kind": "none"}, "consent_kind", "Consent kind must be written or verbal"),
        ({"consent_date": ""}, "consent_date", "Consent date is required"),
        ({"consent_date": "2026-02-30"}, "consent_date", "must be a real date"),
        ({"poc_discipline": ""}, "poc_discipline", "discipline must be PT, OT or SLP"),
        ({"mrn": "A 1001"}, "mrn", "letters, digits and dashes"),
    ],
)
def test_bad_input_says_why_on_the_field_and_writes_nothing(app, client, login, change, field_id, message):
    login("coordinator")
    before = (count(app, Patient), count(app, AuditEvent))
    response = client.post("/people/patients/new", data=GOOD | change)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in field_error(html, field_id)
    assert 'class="error-summary"' in html and message in html.split('class="error-summary"')[1].split("</div>")[0]
    assert (count(app, Patient), count(app, AuditEvent)) == before


def test_every_bad_field_is_reported_at_once(client, login):
    login("coordinator")
    html = client.post("/people/patients/new", data=GOOD | {
        "last_name": "", "diagnosis_codes": "XX", "poc_end": "2025-01-01"}).get_data(as_text=True)
    assert field_error(html, "last_name") and field_error(html, "diagnosis_codes") and field_error(html, "poc_end")
    assert "Please fix 3 problems" in html


def test_a_duplicate_mrn_is_shown_on_the_mrn_field(app, client, login, build):
    build.patient(mrn="A1001")
    login("coordinator")
    response = client.post("/people/patients/new", data=GOOD)
    assert response.status_code == 409
    assert "A patient with MRN A1001 already exists." in field_error(response.get_data(as_text=True), "mrn")
    assert count(app, Patient) == 1


def test_the_edit_page_has_the_sections_billing_links_to(app, client, login, build):
    patient = build.patient()
    login("biller")
    html = client.get(f"/people/patients/{patient.id}/edit").get_data(as_text=True)
    for anchor in ("consent", "plan-of-care", "diagnoses", "needs"):
        with app.test_request_context():
            link = url_for("people.edit_patient", patient_id=patient.id, _anchor=anchor)
        assert link == f"/people/patients/{patient.id}/edit#{anchor}"
        assert f'id="{anchor}"' in html
    assert html.count('id="needs"') == 1


def test_editing_a_patient_saves_audits_and_keeps_bad_edits_out(app, client, login, build):
    patient = build.patient(consent=None)
    login("coordinator")
    form = client.get(f"/people/patients/{patient.id}/edit").get_data(as_text=True)
    assert '<input checked id="consent_kind-0"' in form  # "No consent on file"
    data = GOOD | {"mrn": patient.mrn, "first_name": patient.first_name, "last_name": patient.last_name}
    response = client.post(f"/people/patients/{patient.id}/edit", data=data | {"consent_kind": "verbal"})
    assert response.status_code == 302
    bad = client.post(f"/people/patients/{patient.id}/edit", data=data | {"consent_date": "soon"})
    assert bad.status_code == 422
    with app.app_context():
        saved = db.session.get(Patient, patient.id)
        assert (saved.consent_kind, saved.consent_date.isoformat()) == ("verbal", "2026-01-05")
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.entity_type == "patient", AuditEvent.entity_id == patient.id).order_by(AuditEvent.id)
        ).all()
        assert actions == ["patient.create", "patient.update"]


def test_changing_the_mrn_to_one_in_use_is_refused(app, client, login, build):
    build.patient(mrn="TAKEN")
    patient = build.patient()
    login("coordinator")
    data = GOOD | {"mrn": "TAKEN"}
    response = client.post(f"/people/patients/{patient.id}/edit", data=data)
    assert response.status_code == 409
    assert "already exists" in field_error(response.get_data(as_text=True), "mrn")
    with app.app_context():
        assert db.session.get(Patient, patient.id).mrn == patient.mrn


def test_viewing_needs_people_view_and_editing_needs_people_edit(client, login, build):
    patient = build.patient()
    login("front_desk")
    page = client.get(f"/people/patients/{patient.id}")
    assert page.status_code == 200 and "Edit patient" not in page.get_data(as_text=True)
    assert client.get(f"/people/patients/{patient.id}/edit").status_code == 403
    assert client.post("/people/patients/new", data=GOOD).status_code == 403
    assert client.get("/people/patients/987654").status_code == 404


def test_patient_list_pages_and_searches(app, client, login, build):
    for n in range(30):
        build.patient(mrn=f"M{n:03d}", last_name=f"Zed{n:03d}", first_name="Ann")
    build.patient(mrn="Q-77", first_name="Rosa", last_name="Bell")
    login("front_desk")
    assert app.config["PAGE_SIZE"] == 25
    first = client.get("/people/patients").get_data(as_text=True)
    assert len(re.findall(r'href="/people/patients/\d+"', first)) == 25
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/people/patients?page=2").get_data(as_text=True)
    assert "Zed029" in second and "Bell, Rosa" not in second  # Bell sorts first, on page 1
    assert "Bell, Rosa" in first
    by_mrn = client.get("/people/patients?q=q-77").get_data(as_text=True)
    assert "Bell, Rosa" in by_mrn and "Zed" not in by_mrn
    by_name = client.get("/people/patients?q=rosa bell").get_data(as_text=True)
    assert "Bell, Rosa" in by_name
    paged_search = client.get("/people/patients?q=ann").get_data(as_text=True)
    assert "Page 1 of 2" in paged_search and "q=ann" in paged_search
    assert "No patient matches" in client.get("/people/patients?q=nobody").get_data(as_text=True)


def _patient_with_history(build, api, facilitator, sets: int, day0: int, present_at_first: bool = False):
    """A patient with one caregiver, enrolled in ``sets`` classes, checked in and closed at each."""
    patient = build.patient()
    caregiver = build.caregiver([patient])
    admin = api("admin")
    for n in range(sets):
        start = f"2026-03-{day0 + n:02d}T10:00"
        group_class = build.group_class(facilitator, sessions=[{"starts_at": start, "duration_minutes": 60}],
                                        title=f"Class {day0 + n}")
        build.enroll(group_class, patient, [caregiver])
        session_id = group_class.session_ids[0]
        assert admin.post(f"/sessions/{session_id}/checkins", json={"caregiver_id": caregiver.id}).status_code == 201
        closed = admin.post(f"/sessions/{session_id}/close", json={
            "facilitator_id": facilitator.id, "started_at": start, "ended_at": start[:-5] + "10:45",
            "patients_present": [patient.mrn] if present_at_first and n == 0 else []})
        assert closed.status_code == 200, closed.get_data(as_text=True)
    return patient, caregiver


def test_the_patient_page_shows_caregivers_classes_attendance_and_billing(client, login, build, api):
    facilitator = build.facilitator()
    patient, caregiver = _patient_with_history(build, api, facilitator, 2, 10, present_at_first=True)
    login("admin")
    html = client.get(f"/people/patients/{patient.id}").get_data(as_text=True)
    assert caregiver.full_name in html and "spouse" in html and caregiver.phone in html
    assert "Class 10" in html and "Class 11" in html and "Enrolled" in html
    assert "Tue, Mar 10, 2026, 10:00\u202fAM" in html and "Wed, Mar 11, 2026, 10:00\u202fAM" in html  # in the class's zone
    assert 'badge warn">Present' in html  # marked present at the first session
    assert 'id="billing"' in html and "97550" in html
    for anchor in ("consent", "plan-of-care", "diagnoses", "needs"):
        assert f'id="{anchor}"' in html


def test_billing_lines_are_shown_only_to_who_may_see_billing(client, login, build, api):
    patient, _ = _patient_with_history(build, api, build.facilitator(), 1, 10)
    login("coordinator")
    html = client.get(f"/people/patients/{patient.id}").get_data(as_text=True)
    assert "Class 10" in html and 'id="billing"' not in html


def test_the_patient_page_runs_the_same_queries_for_1_or_10_enrolments(client, login, build, api, count_queries):
    facilitator = build.facilitator()
    small, _ = _patient_with_history(build, api, facilitator, 1, 1)
    big, _ = _patient_with_history(build, api, facilitator, 10, 11)
    login("admin")
    counts = []
    for patient in (small, big):
        with count_queries() as counter:
            response = client.get(f"/people/patients/{patient.id}")
        assert response.status_code == 200
        counts.append(counter.count)
    big_html = response.get_data(as_text=True)
    assert all(f"Class {d}" in big_html for d in range(11, 21))
    assert counts[0] == counts[1] and counts[0] <= 20, counts


def test_a_long_stay_pages_its_attendance_and_billing_lines(app, client, login, build, api, monkeypatch):
    """Attendance and billing lines grow session by session (a long stay: fifty a year): each is paged, latest
    first, its own page number in the address, the other list's kept."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    patient, _ = _patient_with_history(build, api, build.facilitator(), 3, 10, present_at_first=True)
    login("admin")

    def parts(query=""):
        html = client.get(f"/people/patients/{patient.id}{query}").get_data(as_text=True)
        return html, html[html.index('id="attendance"'):html.index('id="billing"')], html[html.index('id="billing"'):]

    html, attendance, lines = parts()  # two sessions or two lines a page (Class 12 made two lines)
    assert "Class 12" in attendance and "Class 11" in attendance and "Class 10" not in attendance
    assert "Class 12" in lines and "Class 11" not in lines
    assert "Page 1 of 2" in attendance and "Page 1 of 2" in lines and 'aria-label="Attendance pages"' in html
    assert f'href="/people/patients/{patient.id}?attendance_page=2#attendance"' in attendance
    assert f'href="/people/patients/{patient.id}?lines_page=2#billing"' in lines
    html, attendance, lines = parts("?attendance_page=2&lines_page=2")
    assert "Class 10" in attendance and "Class 11" not in attendance and 'badge warn">Present' in attendance
    assert "Class 11" in lines and "Class 12" not in lines
    assert f'href="/people/patients/{patient.id}?attendance_page=1&amp;lines_page=2#attendance"' in attendance
    assert f'href="/people/patients/{patient.id}?lines_page=1&amp;attendance_page=2#billing"' in lines
    assert "Class 10" in parts("?attendance_page=99")[1]  # beyond the end: the last page


def test_patient_and_caregiver_lists_clamp_the_page_number(client, login, build):
    for n in range(26):
        patient = build.patient(mrn=f"K{n:03d}", last_name=f"Kay{n:03d}", first_name="Bo")
        build.caregiver(patients=[patient], first_name="Cy", last_name=f"Carer{n:03d}")
    login("front_desk")
    for path, last_row in (("/people/patients", "Kay025"), ("/people/caregivers", "Carer025")):
        beyond = client.get(f"{path}?page=999")
        assert beyond.status_code == 200
        text = beyond.get_data(as_text=True)
        assert "Page 2 of 2" in text and last_row in text  # the last page, not an empty one
        for below in ("0", "-3", "abc"):
            text = client.get(f"{path}?page={below}").get_data(as_text=True)
            assert "Page 1 of 2" in text and last_row not in text
