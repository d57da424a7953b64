"""Builder callables for tests: each creates committed records through the services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from roster.extensions import db
from roster.models import GroupClass
from roster.services import accounts, people, scheduling

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@dataclass(frozen=True)
class BuiltClass:
    """What ``build.group_class`` returns: the committed class (detached) and its sessions' ids
    in the order given. It reads like the class: ``built.id``, ``built.title``..."""

    group_class: GroupClass
    session_ids: list[int]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "group_class":
            raise AttributeError(name)
        return getattr(self.group_class, name)

    @property
    def created_session_ids(self) -> list[int]:
        """The older name of ``session_ids`` (branches written before the rename still use it)."""
        return self.session_ids


class ApiClient:
    """A test client that sends a Bearer token."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, json: Any = None, **kw):
        return self.client.open(path if path.startswith("/api") else "/api/v1" + path, method=method,
                                json=json, headers=self.headers, **kw)

    def get(self, path, **kw):
        return self._call("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self._call("POST", path, json, **kw)

    def patch(self, path, json=None, **kw):
        return self._call("PATCH", path, json, **kw)

    def delete(self, path, **kw):
        return self._call("DELETE", path, **kw)


class Builders:
    def __init__(self, app):
        self.app = app

    def _commit(self, fn, *args, **kwargs):
        with self.app.app_context():
            obj = fn(*args, **kwargs)
            db.session.commit()
            db.session.refresh(obj)
            db.session.expunge(obj)
            return obj

    def user(self, role: str = "admin", email: str | None = None, password: str = PASSWORD, name: str = ""):
        email = email or f"{role}{next(_seq)}@clinic.test"
        return self._commit(accounts.create_user, email, role, password, name)

    def token(self, role: str = "admin") -> str:
        user = self.user(role)
        with self.app.app_context():
            from roster.models import User

            raw = accounts.create_token(db.session.get(User, user.id), "test")
            db.session.commit()
            return raw

    def api_client(self, role: str = "admin") -> ApiClient:
        return ApiClient(self.app.test_client(), self.token(role))

    def facilitator(self, **over):
        data = {"name": "Dana Reyes, PT", "npi": "1234567893", "discipline": "PT"} | over
        return self._commit(people.create_facilitator, data)

    def patient(self, **over):
        n = next(_seq)
        data = {
            "mrn": f"P{n:05d}", "first_name": "Pat", "last_name": f"Patient{n}", "dob": "1950-04-02",
            "payer": "Medicare", "member_id": f"1EG4TE5MK{n:02d}", "needs": ["stroke"],
            "diagnosis_codes": ["I69.351"], "consent": {"date": "2026-01-05", "kind": "written"},
            "plan_of_care": {"discipline": "PT", "start": "2026-01-02", "end": "2026-12-31"},
        } | over
        return self._commit(people.create_patient, data)

    def caregiver(self, patients=(), relationship: str = "spouse", **over):
        n = next(_seq)
        data = {
            "first_name": "Care", "last_name": f"Giver{n}", "phone": f"555-01{n:02d}",
            "links": [{"patient_mrn": p.mrn if hasattr(p, "mrn") else p, "relationship": relationship}
                      for p in patients],
        } | over
        return self._commit(people.create_caregiver, data)

    def group_class(self, facilitator=None, sessions=None, **over):
        data = {
            "title": "Stroke caregiver skills", "needs": ["stroke"], "capacity": 12, "room": f"Room {next(_seq)}",
            "facilitator_id": facilitator.id if facilitator else None, "timezone": "America/Chicago",
            "modality": "in_person", "place_of_service": "11",
            "sessions": sessions or [{"starts_at": "2026-02-03T10:00", "duration_minutes": 60}],
        } | over
        with self.app.app_context():
            new = scheduling.create_class(data)
            db.session.commit()
            db.session.refresh(new.group_class)
            db.session.expunge(new.group_class)
            return BuiltClass(new.group_class, list(new.session_ids))

    def enroll(self, group_class, patient, caregivers):
        with self.app.app_context():
            from roster.models import Patient

            result = scheduling.enroll(group_class.id, db.session.get(Patient, patient.id),
                                       [c.id for c in caregivers])
            db.session.commit()
            return result.status
