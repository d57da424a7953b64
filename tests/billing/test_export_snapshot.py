"""An export's CSV is what was exported: later downloads and void rows repeat it unchanged."""

from __future__ import annotations

import csv
import io

from tests.billing.clinic import Clinic


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_later_download_is_the_same_file_even_after_the_patient_changed(api):
    clinic = Clinic(api("admin"))
    fid = clinic.facilitator()
    a, b = clinic.patient(last_name="Ames"), clinic.patient(last_name="Brooks")
    clinic.group_session([a, b], fid)
    batch = clinic.export()
    first = clinic.csv(batch["id"])
    clinic.call("patch", f"/patients/{a}", {"last_name": "Ames-Cole", "member_id": "NEW123"})
    assert clinic.csv(batch["id"]) == first
    assert {r["patient_last_name"] for r in rows(first)} == {"Ames", "Brooks"}


def test_a_void_row_repeats_the_line_as_it_was_exported(api):
    clinic = Clinic(api("admin"))
    fid = clinic.facilitator()
    a, b, c = (clinic.patient(last_name=n) for n in ("Ames", "Brooks", "Cruz"))
    session_id = clinic.group_session([a, b, c], fid)
    exported = {r["patient_mrn"]: r for r in rows(clinic.csv(clinic.export()["id"]))}
    # A correction after the export: the patient's plan of care did not cover the date of service.
    clinic.call("patch", f"/patients/{c}", {"last_name": "Cruz-Diaz",
                                             "plan_of_care": {"discipline": "OT", "start": "2026-03-01",
                                                              "end": "2026-06-01"}})
    billing = clinic.billing(session_id)
    assert sorted((l["patient_mrn"], l["status"]) for l in billing["lines"] if l["patient_mrn"] == c) == [
        (c, "held"), (c, "void")]
    (void,) = rows(clinic.csv(clinic.export()["id"]))
    assert void["action"] == "void"
    assert {k: v for k, v in void.items() if k != "action"} == {
        k: v for k, v in exported[c].items() if k != "action"}
    assert void["patient_last_name"] == "Cruz"
