"""Every clinic story in tests/scenarios (and ../shared/scenarios when present) through the JSON API.

The driver follows ../shared/scenarios/README.md exactly; it runs on whichever
database the suite runs on (SQLite, then PostgreSQL under `make test`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

HERE = Path(__file__).parent
RULE_BOOK_CODES = {
    "SINGLE_CAREGIVER_SET", "UNDER_MINIMUM_TIME", "PATIENT_PRESENT", "NO_FACILITATOR", "INVALID_NPI",
    "NO_CONSENT", "CONSENT_VERBAL_PRE_2025", "OUTSIDE_PLAN_OF_CARE", "NO_DIAGNOSIS", "DUPLICATE_SAME_DAY",
    "NEEDS_MISMATCH", "SHARED_CAREGIVER", "TELEHEALTH_NOT_COVERED",
    "CODE_NOT_EFFECTIVE", "DISCIPLINE_NOT_ELIGIBLE", "MUE_EXCEEDED", "NOT_COVERED_BY_PAYER",
}


def _scenario_files() -> list[Path]:
    files = {p.name: p for p in sorted((HERE / "scenarios").glob("*.json"))}
    shared = HERE.parent.parent / "shared" / "scenarios"
    if shared.is_dir():
        files.update({p.name: p for p in sorted(shared.glob("*.json"))})
    return [files[name] for name in sorted(files)]


SCENARIOS = _scenario_files()


def test_the_public_scenarios_are_in_the_project():
    assert len(list((HERE / "scenarios").glob("*.json"))) >= 9


class Driver:
    def __init__(self, api):
        self.api = api
        self.keys: dict[str, int] = {}
        self.sessions: dict[str, list[int]] = {}

    def call(self, method: str, path: str, json_body=None):
        response = getattr(self.api, method)(path, json=json_body) if json_body is not None or method in (
            "post", "patch") else getattr(self.api, method)(path)
        assert 200 <= response.status_code < 300, f"{method.upper()} {path} -> {response.status_code}: {response.get_data(as_text=True)}"
        return response

    def session_id(self, step) -> int:
        return self.sessions[step["class"]][step["session"]]

    def run(self, step):
        do = step["do"]
        if do == "facilitator":
            self.keys[step["key"]] = self.call("post", "/facilitators", step["body"]).get_json()["id"]
        elif do == "patient":
            self.call("post", "/patients", step["body"])
        elif do == "patch_patient":
            self.call("patch", f"/patients/{step['mrn']}", step["body"])
        elif do == "caregiver":
            self.keys[step["key"]] = self.call("post", "/caregivers", step["body"]).get_json()["id"]
        elif do == "class":
            payload = dict(step["body"])
            fac = payload.pop("facilitator", None)
            payload["facilitator_id"] = self.keys[fac] if fac else None
            answer = self.call("post", "/classes", payload).get_json()
            self.keys[step["key"]] = answer["id"]
            self.sessions[step["key"]] = answer["session_ids"]
        elif do == "enroll":
            self.call("post", f"/classes/{self.keys[step['class']]}/enrollments",
                      {"patient_mrn": step["patient_mrn"], "caregiver_ids": [self.keys[c] for c in step["caregivers"]]})
        elif do == "checkin":
            body = {"caregiver_id": self.keys[step["caregiver"]]}
            if step.get("patient_mrn"):
                body["patient_mrn"] = step["patient_mrn"]
            self.call("post", f"/sessions/{self.session_id(step)}/checkins", body)
        elif do == "undo_checkin":
            self.call("delete", f"/sessions/{self.session_id(step)}/checkins/{self.keys[step['caregiver']]}")
        elif do == "close":
            fac = step.get("facilitator")
            self.call("post", f"/sessions/{self.session_id(step)}/close", {
                "facilitator_id": self.keys[fac] if fac else None,
                "started_at": step["started_at"], "ended_at": step["ended_at"],
                "patients_present": step.get("patients_present", []),
            })
        elif do == "patch_class":
            self.call("patch", f"/classes/{self.keys[step['class']]}", step["body"])
        elif do == "patch_caregiver":
            self.call("patch", f"/caregivers/{self.keys[step['caregiver']]}", step["body"])
        elif do == "reopen":
            self.call("post", f"/sessions/{self.session_id(step)}/reopen", {"reason": step["reason"]})
        elif do == "cancel":
            self.call("post", f"/sessions/{self.session_id(step)}/cancel", {"reason": step["reason"]})
        elif do == "payer":  # a payer on the clinic's list, with its profile (R17-R21 payer profiles)
            self.keys[step["key"]] = self.call("post", "/billing/payers", step["body"]).get_json()["id"]
        elif do == "patch_payer":
            self.call("patch", f"/billing/payers/{self.keys[step['payer']]}", step["body"])
        elif do == "unit_cap":  # R21
            self.call("post", "/billing/unit-caps", {"cpt": step["cpt"], "max_units": step["max_units"]})
        elif do == "expect_billing":
            self.expect_billing(step)
        elif do == "lines":
            got = self.call("get", f"/billing/lines?from={step['from']}&to={step['to']}").get_json()["lines"]
            assert len(got) == step["count"], got
        elif do == "export":
            self.export(step)
        else:  # pragma: no cover - a new kind of step must be taught to the driver
            raise AssertionError(f"unknown step {do!r}")

    def expect_billing(self, step):
        got = self.call("get", f"/sessions/{self.session_id(step)}/billing").get_json()
        expected = step.get("lines", [])
        remaining = list(got["lines"])
        for want in expected:
            match = next((line for line in remaining if _line_matches(line, want)), None)
            assert match is not None, f"missing line {want} in {got['lines']}"
            remaining.remove(match)
        assert not remaining, f"unexpected lines {remaining}"
        found = {(f["patient_mrn"], f["code"]) for f in got["findings"]}
        wanted = {(f["patient_mrn"], f["code"]) for f in step.get("findings", [])}
        assert wanted <= found, f"missing findings {wanted - found}; got {found}"
        extra = {f for f in found if f[1] in RULE_BOOK_CODES} - wanted
        assert not extra, f"unexpected findings {extra}"

    def export(self, step):
        answer = self.call("post", "/billing/exports", {"from": step["from"], "to": step["to"]}).get_json()
        text = self.call("get", f"/billing/exports/{answer['id']}.csv").get_data(as_text=True)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert answer["rows"] == len(rows)
        remaining = list(rows)
        for want in step["rows"]:
            match = next((r for r in remaining if all(
                r[k] == (";".join(v) if isinstance(v, list) else str(v)) for k, v in want.items())), None)
            assert match is not None, f"missing row {want} in {rows}"
            remaining.remove(match)
        assert not remaining, f"unexpected rows {remaining}"


def _line_matches(line: dict, want: dict) -> bool:
    for key in ("patient_mrn", "cpt", "units", "status"):
        if line[key] != want[key]:
            return False
    return "modifiers" not in want or line["modifiers"] == want["modifiers"]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path, app, api):
    story = json.loads(path.read_text())
    driver = Driver(api("admin"))
    for number, step in enumerate(story["steps"]):
        try:
            driver.run(step)
        except AssertionError as exc:
            raise AssertionError(f"{story['name']} step {number} ({step['do']}): {exc}") from None
    with app.app_context():  # issue 12: the review's sums kept by day still equal the lines counted afresh
        from tests.fresh import assert_day_totals_fresh

        assert_day_totals_fresh()
