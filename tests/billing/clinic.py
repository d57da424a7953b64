"""A small clinic built through the JSON API, the way an EHR, a kiosk and the front desk would.

Used by the billing tests and the billing browser test. Every call asserts a 2xx answer.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

VALID_NPI = "1234567893"
BAD_NPI = "1234567890"  # fails the NPI check digit (R4)
_seq = itertools.count(1)


class Clinic:
    def __init__(self, api):
        self.api = api

    def call(self, method: str, path: str, body=None) -> dict:
        response = getattr(self.api, method)(path, json=body) if body is not None else getattr(self.api, method)(path)
        assert 200 <= response.status_code < 300, (
            f"{method.upper()} {path} -> {response.status_code}: {response.get_data(as_text=True)}")
        return response.get_json()

    # ------------------------------------------------------------------ people

    def facilitator(self, npi: str = VALID_NPI, discipline: str = "PT", name: str = "Dana Reyes, PT") -> int:
        return self.call("post", "/facilitators", {"name": name, "npi": npi, "discipline": discipline})["id"]

    def patient(self, **over) -> str:
        """A patient with consent, plan of care and a diagnosis (unless overridden); returns the MRN."""
        n = next(_seq)
        data = {
            "mrn": f"B{n:05d}", "first_name": "Walter", "last_name": f"Ames{n}", "dob": "1950-04-02",
            "payer": "Medicare", "member_id": f"1EG4TE5MK{n:03d}", "needs": ["stroke"],
            "diagnosis_codes": ["I69.351"], "consent": {"date": "2026-01-05", "kind": "written"},
            "plan_of_care": {"discipline": "PT", "start": "2026-01-02", "end": "2026-12-31"},
        } | over
        self.call("post", "/patients", data)
        return data["mrn"]

    def caregiver(self, *mrns: str, relationship: str = "spouse", **over) -> int:
        n = next(_seq)
        data = {"first_name": "Rita", "last_name": f"Carer{n}", "phone": f"555-{n:04d}",
                "links": [{"patient_mrn": m, "relationship": relationship} for m in mrns]} | over
        return self.call("post", "/caregivers", data)["id"]

    # ------------------------------------------------------------------ classes and sessions

    def group_class(self, starts: list[str], minutes: int = 60, **over) -> list[int]:
        """A class with one session per local start time (``YYYY-MM-DDTHH:MM``); returns the session ids."""
        data = {
            "title": "Stroke caregiver skills", "needs": ["stroke"], "capacity": 40,
            "room": f"Room {next(_seq)}", "facilitator_id": None, "timezone": "America/Chicago",
            "modality": "in_person", "place_of_service": "11",
            "sessions": [{"starts_at": s, "duration_minutes": minutes} for s in starts],
        } | over
        answer = self.call("post", "/classes", data)
        self.last_class_id = answer["id"]
        return answer["session_ids"]

    def enroll(self, class_id: int, mrn: str, caregiver_ids: list[int]) -> None:
        self.call("post", f"/classes/{class_id}/enrollments", {"patient_mrn": mrn, "caregiver_ids": caregiver_ids})

    def check_in(self, session_id: int, caregiver_id: int, mrn: str | None = None) -> None:
        body = {"caregiver_id": caregiver_id} | ({"patient_mrn": mrn} if mrn else {})
        self.call("post", f"/sessions/{session_id}/checkins", body)

    def close(self, session_id: int, start: str, facilitator_id: int | None, minutes: int = 60,
              present: tuple[str, ...] = ()) -> dict:
        end = (datetime.fromisoformat(start) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")
        return self.call("post", f"/sessions/{session_id}/close", {
            "facilitator_id": facilitator_id, "started_at": start, "ended_at": end,
            "patients_present": list(present),
        })

    def held_session(self, pairs: list[tuple[int, str]], facilitator_id: int | None,
                     start: str = "2026-02-03T10:00", minutes: int = 60, **class_over) -> int:
        """A one-session class where each (caregiver, patient MRN) pair is enrolled and checked in; closed."""
        (session_id,) = self.group_class([start], minutes, **class_over)
        sets: dict[str, list[int]] = {}
        for caregiver_id, mrn in pairs:
            sets.setdefault(mrn, []).append(caregiver_id)
        for mrn, caregiver_ids in sets.items():
            self.enroll(self.last_class_id, mrn, caregiver_ids)
        for caregiver_id, mrn in pairs:
            self.check_in(session_id, caregiver_id, mrn)
        self.close(session_id, start, facilitator_id, minutes)
        return session_id

    def group_session(self, mrns: list[str], facilitator_id: int | None, start: str = "2026-02-03T10:00",
                      **class_over) -> int:
        """A held session with one new caregiver per patient: one 97552 line each (R1)."""
        return self.held_session([(self.caregiver(m), m) for m in mrns], facilitator_id, start, **class_over)

    # ------------------------------------------------------------------ billing

    def billing(self, session_id: int) -> dict:
        return self.call("get", f"/sessions/{session_id}/billing")

    def lines(self, date_from: str = "2026-01-01", date_to: str = "2026-12-31") -> list[dict]:
        return self.call("get", f"/billing/lines?from={date_from}&to={date_to}")["lines"]

    def export(self, date_from: str = "2026-01-01", date_to: str = "2026-12-31") -> dict:
        return self.call("post", "/billing/exports", {"from": date_from, "to": date_to})

    def csv(self, batch_id: int) -> str:
        response = self.api.get(f"/billing/exports/{batch_id}.csv")
        assert response.status_code == 200
        return response.get_data(as_text=True)
