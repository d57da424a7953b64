"""The public clinic stories' exports as 837P claim files (pyx12) and HL7 DFT^P03 batches (hl7apy).

Each story runs through the API as tests/test_scenarios.py runs it, with the
clinic's billing settings, payer list and fees set and every patient given
an address and sex. At each export (and once more at the end, exporting what
is still ready) the batch's .837 and .hl7 are fetched and judged by pyx12 and
hl7apy themselves, and their segments compared with the batch's CSV rows:
codes, modifiers, units, charges (units x fee), totals, NPIs and claim
frequency codes (1 original, 7 replacement, 8 void, REF*F8 naming the claim
corrected). The test keeps its own account of which lines each patient's
date of service has on a claim, so the frequency expected is worked out here,
not read from Roster.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict

import pytest

from tests.claims.files import (
    ADDRESS,
    FEES,
    SETTINGS,
    assert_pyx12_accepts,
    claims_of,
    ft1s,
    hl7_identity,
    hl7_messages,
    hl7apy_validates,
    money,
    segments,
    set_up_clinic,
)
from tests.test_scenarios import SCENARIOS, Driver


class ClaimDriver(Driver):
    def __init__(self, api):
        super().__init__(api)
        self.on_claim: dict[tuple[str, str], dict[str, dict]] = {}  # (member, dos) -> line id -> row
        self.last_clm: dict[tuple[str, str], str] = {}
        self.clm01s: set[str] = set()
        self.interchanges: set[str] = set()
        self.files = 0
        self.frequencies: list[str] = []

    def run(self, step):
        super().run(step)
        if step["do"] == "patient":
            self.call("patch", f"/patients/{step['body']['mrn']}", ADDRESS)

    def export(self, step):
        super().export(step)
        self.judge_latest_batch()

    def export_the_rest(self):
        for date_from, date_to in (("2023-01-01", "2025-12-31"), ("2026-01-01", "2028-12-31")):
            answer = self.call("post", "/billing/exports", {"from": date_from, "to": date_to}).get_json()
            if answer["rows"]:
                self.judge_latest_batch()

    def judge_latest_batch(self):
        batch = self.call("get", "/billing/exports").get_json()["exports"][0]
        if not batch["rows"]:
            return
        rows = list(csv.DictReader(io.StringIO(
            self.call("get", f"/billing/exports/{batch['id']}.csv").get_data(as_text=True))))
        x12 = self.call("get", f"/billing/exports/{batch['id']}.837").get_data(as_text=True)
        again = self.call("get", f"/billing/exports/{batch['id']}.837").get_data(as_text=True)
        assert again == x12, "a second download repeats the file"
        self.judge_837(x12, rows)
        self.judge_hl7(self.call("get", f"/billing/exports/{batch['id']}.hl7").get_data(as_text=True), rows)
        self.files += 1

    def judge_837(self, text: str, rows: list[dict]) -> None:
        assert_pyx12_accepts(text)
        segs = segments(text)
        isa13 = segs[0][13]
        assert isa13 not in self.interchanges and int(segs[1][6]) == int(isa13) and int(segs[2][2]) == int(isa13)
        self.interchanges.add(isa13)
        assert ["NM1", "85", "2", "LAKESHORE REHABILITATION CLINIC", "", "", "", "", "XX", SETTINGS["npi"]] in segs
        groups: dict[tuple[str, ...], list[dict]] = defaultdict(list)
        for row in rows:  # a claim per claim identity (S6) and date of service
            groups[(row["member_id"], row["patient_last_name"].upper(), row["patient_first_name"].upper(),
                    row["patient_dob"], row["payer"].upper(), row["date_of_service"])].append(row)
        claims = {(c["member_id"], c["last_name"], c["first_name"], c["dob"], c["payer"], c["dos"]): c
                  for c in claims_of(text)}
        assert set(claims) == set(groups), (claims.keys(), groups.keys())
        for key, group in groups.items():
            claim = claims[key]
            prior = self.on_claim.get(key, {})
            voided = {r["line_id"] for r in group if r["action"] == "void"}
            remaining = {k: v for k, v in prior.items() if k not in voided}
            remaining.update({r["line_id"]: r for r in group if r["action"] == "new"})
            if prior:
                expected_frequency = "7" if remaining else "8"
                assert claim["f8"] == self.last_clm[key]
            else:
                expected_frequency, claim_f8 = "1", claim["f8"]
                assert claim_f8 is None
            assert claim["frequency"] == expected_frequency
            expected_rows = list(remaining.values()) if remaining else list(prior.values())
            want = sorted((r["cpt"], r["modifiers"].split(";") if r["modifiers"] else [], int(r["units"]),
                           money(int(r["units"]) * FEES[r["cpt"]])) for r in expected_rows)
            got = sorted((l["cpt"], l["modifiers"], l["units"], l["charge"]) for l in claim["lines"])
            assert got == want
            assert claim["clm02"] == money(sum(int(r["units"]) * FEES[r["cpt"]] for r in expected_rows))
            assert claim["rendering"] == expected_rows[0]["rendering_npi"]
            assert claim["pos"] == expected_rows[0]["place_of_service"]
            assert claim["clm01"] not in self.clm01s
            self.clm01s.add(claim["clm01"])
            self.on_claim[key] = remaining
            self.last_clm[key] = claim["clm01"]
            self.frequencies.append(claim["frequency"])

    def judge_hl7(self, text: str, rows: list[dict]) -> None:
        envelope, messages = hl7_messages(text)
        assert [s[:3] for s in envelope] == ["FHS", "BHS", "BTS", "FTS"]
        assert envelope[2] == f"BTS|{len(messages)}"
        charges, visits, identities = [], set(), set()
        for message in messages:
            parsed = hl7apy_validates(message)
            visits.add(parsed.pv1.pv1_19.value)
            who = hl7_identity(message)
            identities.add((who["member_id"], who["name"], who["dob"], who["payer"], parsed.pv1.pv1_19.value))
            mrn = parsed.pid.pid_3.value.split("^")[0]
            charges.extend((mrn, f["type"], f["cpt"], f["units"], f["modifiers"], f["amount"]) for f in ft1s(message))
        want = [(r["patient_mrn"], "CD" if r["action"] == "void" else "CG", r["cpt"], int(r["units"]),
                 r["modifiers"].split(";") if r["modifiers"] else [],
                 f"{int(r['units']) * FEES[r['cpt']] / 100:.2f}") for r in rows]
        assert sorted(charges) == sorted(want)
        # One message per visit, or per claim identity of a visit (a credit under the identity sent, a
        # charge under the corrected one, S6): no two messages carry the same identity and visit.
        assert len(visits) == len({(r["patient_mrn"], r["date_of_service"]) for r in rows})
        assert len(identities) == len(messages) == len(
            {(r["member_id"], r["patient_last_name"], r["patient_first_name"], r["patient_dob"], r["payer"],
              r["date_of_service"]) for r in rows})


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_exports_become_valid_claim_files(path, api):
    story = json.loads(path.read_text())
    admin = api("admin")
    set_up_clinic(admin)
    driver = ClaimDriver(admin)
    for number, step in enumerate(story["steps"]):
        try:
            driver.run(step)
        except AssertionError as exc:
            raise AssertionError(f"{story['name']} step {number} ({step['do']}): {exc}") from None
    driver.export_the_rest()


def _story(name: str) -> list[dict]:
    return json.loads(next(p for p in SCENARIOS if p.stem == name).read_text())["steps"]


def test_a_void_and_a_replacement_travel_as_claims_8_and_7(api):
    """Export three patients; correct one patient's diagnoses (void + replacement line) and
    undo another's check-in (void): the next file replaces the first claim and voids the second."""
    admin = api("admin")
    set_up_clinic(admin)
    driver = ClaimDriver(admin)
    steps = _story("05-export-lifecycle")
    first_export = next(i for i, s in enumerate(steps) if s["do"] == "export")
    for step in steps[:first_export + 1]:
        driver.run(step)
    assert driver.frequencies == ["1", "1", "1"]
    driver.run({"do": "patch_patient", "mrn": "A1002", "body": {"diagnosis_codes": ["I69.391"]}})
    undo = next(s for s in steps if s["do"] == "undo_checkin")
    driver.run(undo)
    driver.run(next(s for s in steps[first_export:] if s["do"] == "close"))
    driver.run({"do": "export", "from": "2026-02-01", "to": "2026-02-28", "rows": [
        {"patient_mrn": "A1002", "action": "void", "diagnosis_codes": "I69.391;R26.89"},
        {"patient_mrn": "A1002", "action": "new", "diagnosis_codes": "I69.391"},
        {"patient_mrn": "A1003", "action": "void"},
    ]})
    assert sorted(driver.frequencies[3:]) == ["7", "8"]
    assert driver.files == 2


def test_a_corrected_member_id_voids_the_claim_as_sent_and_claims_anew_under_the_corrected_one(api):
    """Scenario 27 (S6): Walter's member id and last name are corrected after his claim went out. The
    void carries exactly the identity the original claim carried; the new claim the corrected one. The
    HL7 credit travels in a message with the PID/IN1 sent before, the charge in one with the new ones."""
    admin = api("admin")
    set_up_clinic(admin)
    driver = ClaimDriver(admin)
    steps = _story("27-s6-claim-identity-correction-voids-and-replaces")
    correction = next(i for i, s in enumerate(steps)
                      if s["do"] == "export" and any(r["action"] == "void" for r in s["rows"]))
    first = None
    for number, step in enumerate(steps[:correction + 1]):
        driver.run(step)
        if step["do"] == "export" and step["rows"] and first is None:
            first = admin.get("/billing/exports").get_json()["exports"][0]["id"]
    original = next(c for c in claims_of(admin.get(f"/billing/exports/{first}.837").get_data(as_text=True))
                    if c["member_id"] == "1EG4TE5MK01")
    assert (original["frequency"], original["last_name"], original["first_name"]) == ("1", "AMES", "WALTER")

    batch = admin.get("/billing/exports").get_json()["exports"][0]["id"]
    claims = claims_of(admin.get(f"/billing/exports/{batch}.837").get_data(as_text=True))
    assert [(c["frequency"], c["member_id"], c["last_name"], c["first_name"], c["f8"]) for c in claims] == [
        ("8", "1EG4TE5MK01", "AMES", "WALTER", original["clm01"]),  # the void: as the original was sent
        ("1", "1EG4TE5MK99", "AMES-COLE", "WALTER", None),  # the line anew, under the corrected identity
    ]
    assert claims[0]["lines"] == original["lines"] and claims[0]["clm02"] == original["clm02"]
    assert claims[0]["dob"] == claims[1]["dob"] == "1950-04-02"

    _, messages = hl7_messages(admin.get(f"/billing/exports/{batch}.hl7").get_data(as_text=True))
    assert [(hl7_identity(m)["name"], hl7_identity(m)["insured"], hl7_identity(m)["member_id"],
             [f["type"] for f in ft1s(m)]) for m in messages] == [
        ("Ames^Walter", "Ames^Walter", "1EG4TE5MK01", ["CD"]),  # the credit of what was sent
        ("Ames-Cole^Walter", "Ames-Cole^Walter", "1EG4TE5MK99", ["CG"]),  # the charge, corrected
    ]
    listed = admin.get(f"/billing/exports/{batch}/hl7-messages").get_json()["messages"]
    assert [m["patient_mrn"] for m in listed] == ["A1001", "A1001"]


@pytest.mark.parametrize("correction, field, before, after", [
    ({"first_name": "Walt"}, "first_name", "WALTER", "WALT"),
    ({"dob": "1950-04-12"}, "dob", "1950-04-02", "1950-04-12"),
    ({"payer": "Prairie Health"}, "payer", "MEDICARE", "PRAIRIE HEALTH"),
], ids=["first-name", "birth-date", "payer"])
def test_each_claim_identity_correction_voids_as_sent_and_claims_anew(api, correction, field, before, after):
    """S6 names the patient's name, date of birth, payer and member id: a correction of any of them
    after the claim went out voids the claim with what it carried and sends a new one with the correction."""
    admin = api("admin")
    set_up_clinic(admin)
    assert admin.post("/billing/payers", json={"name": "Prairie Health", "payer_id": "PH001",
                                               "claim_filing_indicator": "CI"}).status_code == 201
    driver = ClaimDriver(admin)
    steps = _story("27-s6-claim-identity-correction-voids-and-replaces")
    first_export = next(i for i, s in enumerate(steps) if s["do"] == "export")
    for step in steps[:first_export]:
        driver.run(step)
    first = admin.post("/billing/exports", json={"from": "2026-02-01", "to": "2026-02-28"}).get_json()["id"]
    original = next(c for c in claims_of(admin.get(f"/billing/exports/{first}.837").get_data(as_text=True))
                    if c["member_id"] == "1EG4TE5MK01")
    assert admin.patch("/patients/A1001", json=correction).status_code == 200
    batch = admin.post("/billing/exports", json={"from": "2026-02-01", "to": "2026-02-28"}).get_json()["id"]
    text = admin.get(f"/billing/exports/{batch}.837").get_data(as_text=True)
    assert_pyx12_accepts(text)
    void, new = claims_of(text)
    assert (void["frequency"], void["f8"], void[field]) == ("8", original["clm01"], before)
    assert (new["frequency"], new["f8"], new[field]) == ("1", None, after)
    assert void["lines"] == original["lines"] and void["member_id"] == new["member_id"] == "1EG4TE5MK01"
    _, messages = hl7_messages(admin.get(f"/billing/exports/{batch}.hl7").get_data(as_text=True))
    assert [[f["type"] for f in ft1s(m)] for m in messages] == [["CD"], ["CG"]]
    assert hl7_identity(messages[0]) != hl7_identity(messages[1])
