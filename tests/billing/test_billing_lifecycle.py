"""Lines through their life (R4, R9, R11, R14, R15, R16) and the roster CSV, through the API and services."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from roster.domain.roster_csv import COLUMNS
from roster.extensions import db
from roster.models import AuditEvent, BillingLine
from roster.services import billing
from tests.billing.clinic import BAD_NPI, VALID_NPI, Clinic

HEADER = (
    "line_id,action,date_of_service,session_id,class_title,patient_mrn,patient_last_name,patient_first_name,"
    "patient_dob,payer,member_id,cpt,modifiers,units,diagnosis_codes,place_of_service,rendering_npi,"
    "rendering_name,rendering_discipline,caregivers,minutes"
)


@pytest.fixture
def clinic(api) -> Clinic:
    return Clinic(api("admin"))


def _codes(lines: list[dict]) -> dict[str, set[str]]:
    return {line["patient_mrn"]: {f["code"] for f in line["findings"]} for line in lines}


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _line_events(app, line_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.entity_type == "billing_line", AuditEvent.entity_id == line_id)
            .order_by(AuditEvent.id)
        ))


# --------------------------------------------------------------------------- R14


def test_recording_consent_turns_the_held_line_ready_without_re_entering_attendance(app, clinic):
    fid = clinic.facilitator()
    ok, missing = clinic.patient(), clinic.patient(consent=None)
    sid = clinic.group_session([ok, missing], fid)
    held = {l["patient_mrn"]: l for l in clinic.billing(sid)["lines"]}
    assert held[missing]["status"] == "held" and held[ok]["status"] == "ready"
    assert _codes(held.values())[missing] == {"NO_CONSENT"}
    assert "consent" in held[missing]["findings"][0]["message"]

    clinic.call("patch", f"/patients/{missing}", {"consent": {"date": "2026-01-20", "kind": "written"}})

    after = {l["patient_mrn"]: l for l in clinic.billing(sid)["lines"]}
    assert after[missing]["status"] == "ready" and after[missing]["findings"] == []
    assert after[missing]["id"] == held[missing]["id"]  # the same line, now ready
    update = [e for e in _line_events(app, held[missing]["id"]) if e.action == "line.update"]
    assert [(e.before["status"], e.after["status"]) for e in update] == [("held", "ready")]


# --------------------------------------------------------------------------- R15


def test_re_evaluating_an_unchanged_session_keeps_line_ids_and_writes_no_audit(app, clinic):
    fid = clinic.facilitator()
    sid = clinic.group_session([clinic.patient(), clinic.patient(consent=None)], fid)
    before = clinic.billing(sid)
    with app.app_context():
        audit_rows = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        billing.reevaluate_sessions([sid])
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == audit_rows
    assert clinic.billing(sid) == before


# --------------------------------------------------------------------------- R16


def test_an_exported_line_is_voided_and_replaced_and_the_next_export_carries_both(app, clinic):
    fid = clinic.facilitator()
    a, b = clinic.patient(), clinic.patient()
    sid = clinic.group_session([a, b], fid)
    first = clinic.export()
    assert first["rows"] == 2
    old = {l["patient_mrn"]: l for l in clinic.billing(sid)["lines"]}
    assert {l["status"] for l in old.values()} == {"exported"}

    clinic.call("patch", f"/patients/{a}", {"diagnosis_codes": ["I69.351", "R26.89"]})

    lines = clinic.billing(sid)["lines"]
    by_id = {l["id"]: l for l in lines}
    assert by_id[old[a]["id"]]["status"] == "void"
    assert by_id[old[a]["id"]]["diagnosis_codes"] == ["I69.351"]  # never edited
    assert by_id[old[b]["id"]]["status"] == "exported"  # untouched
    (new,) = [l for l in lines if l["patient_mrn"] == a and l["status"] == "ready"]
    assert new["diagnosis_codes"] == ["I69.351", "R26.89"]

    second = clinic.export()
    rows = _rows(clinic.csv(second["id"]))
    assert [(int(r["line_id"]), r["action"]) for r in rows] == [(old[a]["id"], "void"), (new["id"], "new")]
    assert rows[0]["diagnosis_codes"] == "I69.351" and rows[1]["diagnosis_codes"] == "I69.351;R26.89"
    assert [e.action for e in _line_events(app, old[a]["id"])] == ["line.create", "line.void"]
    assert [e.action for e in _line_events(app, new["id"])] == ["line.create"]


def test_exporting_the_same_range_twice_yields_no_rows_the_second_time(clinic):
    fid = clinic.facilitator()
    clinic.group_session([clinic.patient(), clinic.patient(), clinic.patient(consent=None)], fid)
    first, second = clinic.export(), clinic.export()
    assert (first["rows"], second["rows"]) == (2, 0)  # the held line waits
    assert clinic.csv(second["id"]).splitlines() == [HEADER]


# --------------------------------------------------------------------------- the roster CSV


def test_roster_csv_header_caregivers_minutes_and_formula_cells(clinic):
    fid = clinic.facilitator()
    formula = clinic.patient(last_name='=HYPERLINK("http://evil.test","x")', first_name="+Ann")
    negative = clinic.patient(last_name="-5", first_name="@Bo")
    rita = clinic.caregiver(formula, relationship="spouse", first_name="Rita", last_name="Ames")
    tom = clinic.caregiver(formula, relationship="son", first_name="Tom", last_name="Ames")
    june = clinic.caregiver(negative, relationship="daughter", first_name="June", last_name="Brooks")
    clinic.held_session([(rita, formula), (tom, formula), (june, negative)], fid,
                        start="2026-02-03T10:02", minutes=58)
    text = clinic.csv(clinic.export()["id"])

    assert text.splitlines()[0] == HEADER == ",".join(COLUMNS)
    assert text.endswith("\r\n")
    rows = {r["patient_mrn"]: r for r in _rows(text)}
    assert rows[formula]["patient_last_name"] == '\'=HYPERLINK("http://evil.test","x")'
    assert rows[formula]["patient_first_name"] == "'+Ann"
    assert rows[negative]["patient_last_name"] == "'-5"
    assert rows[negative]["patient_first_name"] == "'@Bo"
    assert rows[formula]["caregivers"] == "Rita Ames (spouse); Tom Ames (son)"
    assert rows[negative]["caregivers"] == "June Brooks (daughter)"
    assert {r["minutes"] for r in rows.values()} == {"58"}
    assert rows[formula]["rendering_name"] == "Dana Reyes, PT" and rows[formula]["rendering_npi"] == VALID_NPI
    assert rows[formula]["action"] == "new" and rows[formula]["cpt"] == "97552" and rows[formula]["units"] == "1"


# --------------------------------------------------------------------------- R9, R11, R4


def test_same_patient_same_code_same_day_in_two_classes_flags_the_later_session(clinic):
    fid = clinic.facilitator()
    twice, other1, other2 = clinic.patient(), clinic.patient(), clinic.patient()
    morning = clinic.held_session([(clinic.caregiver(twice), twice), (clinic.caregiver(other1), other1)], fid,
                                  start="2026-02-03T09:00")
    afternoon = clinic.held_session([(clinic.caregiver(twice), twice), (clinic.caregiver(other2), other2)], fid,
                                    start="2026-02-03T14:00")
    assert _codes(clinic.billing(morning)["lines"]) == {twice: set(), other1: set()}
    later = clinic.billing(afternoon)["lines"]
    assert _codes(later) == {twice: {"DUPLICATE_SAME_DAY"}, other2: set()}
    assert {l["status"] for l in later} == {"ready"}  # a warning never holds a line


def test_one_caregiver_for_two_patients_warns_on_both_lines(clinic):
    fid = clinic.facilitator()
    a, b = clinic.patient(), clinic.patient()
    shared = clinic.caregiver(a, b, relationship="daughter")
    sid = clinic.held_session([(shared, a), (shared, b)], fid)
    lines = clinic.billing(sid)["lines"]
    assert _codes(lines) == {a: {"SHARED_CAREGIVER"}, b: {"SHARED_CAREGIVER"}}
    assert [(l["cpt"], l["units"], l["status"]) for l in lines] == [("97552", 1, "ready")] * 2


def test_an_invalid_npi_holds_the_lines_until_the_facilitator_is_corrected(app, clinic):
    fid = clinic.facilitator(npi=BAD_NPI)
    sid = clinic.group_session([clinic.patient(), clinic.patient()], fid)
    held = clinic.billing(sid)["lines"]
    assert {l["status"] for l in held} == {"held"}
    assert all(_codes([l])[l["patient_mrn"]] == {"INVALID_NPI"} for l in held)

    clinic.call("patch", f"/facilitators/{fid}", {"npi": VALID_NPI})

    ready = clinic.billing(sid)["lines"]
    assert [(l["id"], l["status"], l["rendering_npi"], l["findings"]) for l in ready] == [
        (l["id"], "ready", VALID_NPI, []) for l in held]
    for line in held:
        actions = [(e.action, (e.before or {}).get("status"), e.after.get("status"))
                   for e in _line_events(app, line["id"])]
        assert actions == [("line.create", None, "held"), ("line.update", "held", "ready")]


def test_every_line_change_leaves_an_audit_record(app, clinic):
    fid = clinic.facilitator()
    a, b, c = clinic.patient(), clinic.patient(consent=None), clinic.patient()
    sid = clinic.group_session([a, b, c], fid)
    clinic.export()
    clinic.call("patch", f"/patients/{b}", {"consent": {"date": "2026-01-20", "kind": "written"}})  # update
    clinic.call("patch", f"/patients/{c}", {"diagnosis_codes": ["I63.9"]})  # void + create
    clinic.call("post", f"/sessions/{sid}/close", {  # a present: its line goes (void, R3)
        "facilitator_id": fid, "started_at": "2026-02-03T10:00", "ended_at": "2026-02-03T11:00",
        "patients_present": [a]})
    with app.app_context():
        lines = db.session.scalars(sa.select(BillingLine)).all()
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "billing_line")
                                    .order_by(AuditEvent.id)).all()
        (export,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.create")).all()
    by_line: dict[int, list[str]] = {}
    for e in events:
        by_line.setdefault(e.entity_id, []).append(e.action)
    assert {l.id for l in lines} == set(by_line)
    for line in lines:
        assert by_line[line.id][0] == "line.create"
        assert (line.status == "void") == ("line.void" in by_line[line.id])
    # a: create, void; b: create, update (held -> ready); c: create, void; c's replacement: create
    assert sorted(len(v) for v in by_line.values()) == [1, 2, 2, 2]
    # the export itself is one record naming every line it took
    assert export.before["lines"] == sorted(l.id for l in lines if l.export_batch_id is not None)
