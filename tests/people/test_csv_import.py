"""CSV import: a preview names every bad row by line; the import writes all rows or none."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from werkzeug.test import encode_multipart

from roster.extensions import db
from roster.models import AuditEvent, Caregiver, CaregiverLink, Patient
from roster.services import ServiceError, imports

PATIENT_HEADER = ("mrn,first_name,last_name,dob,payer,member_id,needs,diagnosis_codes,"
                  "consent_date,consent_kind,poc_discipline,poc_start,poc_end")
CAREGIVER_HEADER = "first_name,last_name,phone,email,patient_mrn,relationship"


def patient_row(n: int, **over) -> str:
    values = {
        "mrn": f"C{n:04d}", "first_name": "Ann", "last_name": f"Lee{n}", "dob": "1948-02-11",
        "payer": "Medicare", "member_id": f"9XY{n:04d}", "needs": "stroke;mobility",
        "diagnosis_codes": "I69.351;R26.89", "consent_date": "2026-01-05", "consent_kind": "written",
        "poc_discipline": "PT", "poc_start": "2026-01-02", "poc_end": "2026-06-30",
    } | over
    return ",".join(values[c] for c in PATIENT_HEADER.split(","))


def patients_csv(rows: list[str]) -> str:
    return "\r\n".join([PATIENT_HEADER, *rows]) + "\r\n"


def ten_rows_two_bad() -> str:
    rows = [patient_row(n) for n in range(1, 11)]
    rows[2] = patient_row(3, diagnosis_codes="I69.351;12X")  # line 4
    rows[7] = patient_row(8, first_name="", poc_end="2025-12-01")  # line 9
    return patients_csv(rows)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --------------------------------------------------------------------------- the service


def test_two_bad_rows_out_of_ten_import_nothing_and_both_rows_are_named(ctx):
    with pytest.raises(imports.ImportRejected) as rejected:
        imports.run_import("patients", ten_rows_two_bad().encode())
    preview = rejected.value.preview
    assert [p.line for p in preview.problems] == [4, 9]
    assert (preview.rows, preview.good) == (10, 8)
    reasons = {p.line: dict(p.reasons) for p in preview.problems}
    assert "12X" in reasons[4]["diagnosis_codes"]
    assert reasons[9] == {"first_name": "First name is required.",
                          "poc_end": "Plan of care must end on or after its start."}
    assert "2 of 10 rows" in rejected.value.message
    assert (count(Patient), count(AuditEvent)) == (0, 0)


def test_a_good_file_writes_every_row_with_an_audit_record_each(ctx):
    text = patients_csv([patient_row(n) for n in range(1, 11)])
    preview = imports.preview("patients", text.encode())
    assert (preview.rows, preview.good, preview.problems) == (10, 10, [])
    assert count(Patient) == 0  # the preview writes nothing
    done = imports.run_import("patients", preview.text)
    assert len(done.records) == 10
    assert count(Patient) == 10
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "patient.create")) == 10
    lee3 = db.session.scalar(sa.select(Patient).where(Patient.mrn == "C0003"))
    assert (lee3.needs, lee3.diagnosis_codes, lee3.consent_kind, lee3.poc_discipline) == (
        ["stroke", "mobility"], ["I69.351", "R26.89"], "written", "PT")


def test_duplicate_mrns_in_the_file_and_in_the_clinic_are_errors(ctx, build):
    build.patient(mrn="OLD1")
    text = patients_csv([patient_row(1), patient_row(2, mrn="OLD1"), patient_row(3, mrn="C0001"),
                         patient_row(4, mrn="C0001")])
    preview = imports.preview("patients", text)
    assert [(p.line, p.reasons) for p in preview.problems] == [
        (3, (("mrn", "A patient with MRN OLD1 already exists."),)),
        (4, (("mrn", "MRN C0001 is also on line 2."),)),
        (5, (("mrn", "MRN C0001 is also on line 2."),)),
    ]


def test_line_numbers_count_the_header_and_skipped_blank_lines(ctx):
    text = "\n".join([PATIENT_HEADER, patient_row(1), "", ",,,,,,,,,,,,", patient_row(2, dob="1948-13-01"),
                      '"C0009",Ann,"Multi', 'line",,,,,,,,,,', patient_row(3, consent_kind="oral")])
    preview = imports.preview("patients", text)
    assert preview.rows == 4
    assert [(p.line, [c for c, _ in p.reasons]) for p in preview.problems] == [
        (5, ["dob"]), (8, ["consent_kind"])]


def test_consent_and_plan_of_care_columns_may_be_blank_or_left_out(ctx):
    text = "MRN,First Name,Last Name,consent_kind\r\nX1,Ann,Lee,\r\nX2,Bo,Ray,none\r\nX3,Cy,Day,Verbal\r\n"
    preview = imports.preview("patients", text)
    assert [(p.line, dict(p.reasons)) for p in preview.problems] == [
        (4, {"consent_date": "Consent date is required when consent is given."})]
    assert [r["consent"] for r in preview.records] == [None, None]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty"),
        (PATIENT_HEADER.encode() + b"\r\n", "no data rows"),
        ("mrn,first_name,last_name\r\nA1,Zoë,Lee\r\n".encode("latin-1"), "not UTF-8"),
        (b"mrn,first_name,surname\r\nA1,Ann,Lee\r\n", "unknown column surname; missing column last_name"),
        (b"mrn;first_name;last_name\r\nA1;Ann;Lee\r\n", "not semicolons"),
        (b"mrn,first_name,last_name,mrn\r\nA1,Ann,Lee,A1\r\n", "repeated column mrn"),
        (b'mrn,first_name,last_name\r\nA1,"Ann,Lee\r\n', "Line 2 is not readable CSV"),
        (b"mrn,first_name,last_name\r\nA1,Ann\x00,Lee\r\n", "not UTF-8"),
        ("mrn,first_name,last_name\r\nA1,Ann,Lee\r\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_clear_message(ctx, data, message):
    with pytest.raises(ServiceError) as refused:
        imports.preview("patients", data)
    assert message in refused.value.message and "file" in refused.value.fields


def test_size_and_row_caps(ctx, monkeypatch):
    with pytest.raises(ServiceError, match="larger than 2 MB"):
        imports.preview("patients", b"x" * (imports.MAX_BYTES + 1))
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    with pytest.raises(ServiceError, match="more than 3 rows"):
        imports.preview("patients", patients_csv([patient_row(n) for n in range(4)]))


def test_extra_cells_are_a_row_problem(ctx):
    preview = imports.preview("caregivers", CAREGIVER_HEADER + "\nRita,Ames,5550101,,,,surprise\n")
    assert preview.problems[0].line == 2 and preview.problems[0].reasons[0][0] == "(row)"


def test_caregiver_rows_with_the_same_name_and_phone_are_one_caregiver(ctx, build):
    build.patient(mrn="A1"), build.patient(mrn="A2"), build.patient(mrn="A3")
    text = "\n".join([
        CAREGIVER_HEADER,
        "Rita,Ames,555-0101,,A1,spouse",
        "rita,AMES,(555) 0101,rita@example.org,A2,mother",
        "Tom,Ames,555-0199,,A1,son",
        "Ann,Lee,,,,",
    ])
    done = imports.run_import("caregivers", text)
    assert (done.rows, len(done.records)) == (4, 3)
    rita = db.session.scalar(sa.select(Caregiver).where(Caregiver.first_name == "Rita"))
    assert rita.email == "rita@example.org"
    assert sorted((link.patient.mrn, link.relationship) for link in rita.links) == [("A1", "spouse"), ("A2", "mother")]
    assert (count(Caregiver), count(CaregiverLink)) == (3, 3)
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "caregiver.create")) == 3


def test_caregiver_problems_name_their_line_and_column(ctx, build):
    patient = build.patient(mrn="A1")
    build.caregiver([patient], first_name="Old", last_name="Timer", phone="555-0000")
    text = "\n".join([
        CAREGIVER_HEADER,
        "Rita,Ames,555-0101,rita@example.org,A1,spouse",
        "Rita,Ames,5550101,,A1,wife",  # same caregiver and patient twice
        "Rita,Ames,555-0101,other@example.org,,",  # a different e-mail for the same caregiver
        ",Ames,123,not-an-email,NOPE,",
        "old,timer,555 0000,,A1,friend",  # already registered
    ])
    with pytest.raises(imports.ImportRejected) as rejected:
        imports.run_import("caregivers", text)
    got = {p.line: dict(p.reasons) for p in rejected.value.preview.problems}
    assert got[3] == {"patient_mrn": "Rita Ames (5550101) is already linked to A1 on line 2."}
    assert "different e-mail" in got[4]["email"]
    assert set(got[5]) == {"first_name", "phone", "email", "patient_mrn"}
    assert got[5]["patient_mrn"] == "No patient with MRN NOPE."
    assert "already registered" in got[6]["first_name"]
    assert (count(Caregiver), count(CaregiverLink)) == (1, 1)


def test_the_templates_are_the_header_rows(ctx):
    assert imports.template_csv("patients") == PATIENT_HEADER + "\r\n"
    assert imports.template_csv("caregivers") == CAREGIVER_HEADER + "\r\n"
    assert imports.preview("caregivers", CAREGIVER_HEADER + "\nAnn,Lee,,,,\n").problems == []


# --------------------------------------------------------------------------- the web form


def upload(client, text: str, kind: str = "patients"):
    return client.post("/people/import", data={
        "kind": kind, "file": (io.BytesIO(text.encode()), f"{kind}.csv", "text/csv")},
        content_type="multipart/form-data")


def patient_count(app) -> int:
    with app.app_context():
        return count(Patient)


def test_web_two_bad_rows_out_of_ten_import_nothing_and_both_rows_are_named(app, client, login):
    login("coordinator")
    response = upload(client, ten_rows_two_bad())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<td class="num">4</td>' in html and '<td class="num">9</td>' in html
    assert "12X" in html and "First name is required." in html
    assert "Nothing has been imported" in html and 'name="confirm"' not in html
    assert patient_count(app) == 0
    # Sending the file's content to the import step anyway (a stale or forged page) still writes nothing.
    forced = client.post("/people/import", data={"kind": "patients", "content": ten_rows_two_bad(),
                                                 "confirm": "Import 10 rows"})
    assert forced.status_code == 422 and '<td class="num">9</td>' in forced.get_data(as_text=True)
    assert patient_count(app) == 0


def test_web_preview_then_import_writes_every_row(app, client, login):
    login("coordinator")
    text = patients_csv([patient_row(n) for n in range(1, 11)])
    preview = upload(client, text)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'value="Import 10 rows"' in html
    assert "C0001" in html and patient_count(app) == 0
    content = html.split('name="content" value="')[1].split('"')[0]
    assert content.startswith("mrn,first_name") and content.count("\n") == 11
    done = client.post("/people/import", data={"kind": "patients", "content": text, "confirm": "Import 10 rows"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/people/patients")
    assert "Imported 10 patients." in client.get(done.headers["Location"]).get_data(as_text=True)
    assert patient_count(app) == 10


def test_web_caregiver_import_reports_merged_caregivers(app, client, login, build):
    build.patient(mrn="A1"), build.patient(mrn="A2")
    login("admin")
    text = CAREGIVER_HEADER + "\nRita,Ames,555-0101,,A1,spouse\nRita,Ames,555-0101,,A2,mother\n"
    assert 'value="Import 2 rows"' in upload(client, text, "caregivers").get_data(as_text=True)
    done = client.post("/people/import", data={"kind": "caregivers", "content": text, "confirm": "Import"},
                       follow_redirects=True)
    assert "Imported 1 caregiver with 2 patient links, from 2 rows." in done.get_data(as_text=True)


def test_web_a_large_file_comes_back_whole_at_the_import_step(app, client, login):
    login("coordinator")
    needs = ";".join(f"need number {i}" for i in range(8))
    rows = [patient_row(n, needs=needs) for n in range(1, 4001)]
    rows[-1] = patient_row(4000, mrn="bad mrn")
    text = patients_csv(rows)
    assert 700_000 < len(text) < imports.MAX_BYTES  # beyond Flask's default in-memory form limit
    # The confirm form is multipart, where Flask limits each text field (MAX_FORM_MEMORY_SIZE).
    boundary, body = encode_multipart({"kind": "patients", "content": text, "confirm": "Import"})
    response = client.post("/people/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and '<span class="stat">3999</span> rows are good.' in html and '<td class="num">4001</td>' in html
    assert patient_count(app) == 0


def test_web_upload_problems_show_on_the_form(client, login):
    login("coordinator")
    no_file = client.post("/people/import", data={"kind": "patients"}, content_type="multipart/form-data")
    assert no_file.status_code == 422 and "The file is empty. Choose a CSV file." in no_file.get_data(as_text=True)
    bad_header = upload(client, "name\nAnn\n")
    assert bad_header.status_code == 422 and 'id="file-err">The header row does not match' in bad_header.get_data(
        as_text=True)


def test_web_templates_download_and_the_import_needs_its_permission(client, login):
    login("coordinator")
    response = client.get("/people/import/caregivers-template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True) == CAREGIVER_HEADER + "\r\n"
    assert "attachment" in response.headers["Content-Disposition"]
    assert client.get("/people/import/nothing-template.csv").status_code == 404


@pytest.mark.parametrize("role", ["biller", "front_desk", "facilitator"])
def test_roles_without_people_import_are_refused(client, login, role):
    login(role)
    assert client.get("/people/import").status_code == 403
    assert upload(client, patients_csv([patient_row(1)])).status_code == 403
