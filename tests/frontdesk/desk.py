"""A class with a session on a given local day (today by default), built with the `build` builders.

Used by the front-desk tests and the front-desk browser test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from roster.domain.recurrence import utc_to_local
from roster.models import utcnow

CLINIC_TZ = "America/Chicago"  # the class zone of the builders and the app's default clinic zone


def clinic_today() -> date:
    return utc_to_local(utcnow(), CLINIC_TZ).date()


@dataclass
class Scene:
    build: object
    session_id: int
    group_class: object
    facilitator: object
    day: date
    patients: list = field(default_factory=list)
    caregivers: list = field(default_factory=list)  # caregivers[i] is the enrolled caregiver of patients[i]

    def patient(self, **over):
        """A patient whose consent and plan of care cover the session's day."""
        return self.build.patient(
            consent={"date": (self.day - timedelta(days=30)).isoformat(), "kind": "written"},
            plan_of_care={"discipline": "PT", "start": (self.day - timedelta(days=30)).isoformat(),
                          "end": (self.day + timedelta(days=60)).isoformat()},
            **over,
        )

    def add_set(self, **caregiver_over):
        """Enrol a new patient with one new caregiver; returns (patient, caregiver)."""
        patient = self.patient()
        caregiver = self.build.caregiver([patient], **caregiver_over)
        self.build.enroll(self.group_class, patient, [caregiver])
        self.patients.append(patient)
        self.caregivers.append(caregiver)
        return patient, caregiver


def make_scene(build, sets: int = 2, day: date | None = None, start: str = "09:00", minutes: int = 60,
               capacity: int = 40) -> Scene:
    day = day or clinic_today()
    facilitator = build.facilitator()
    group_class = build.group_class(
        facilitator=facilitator, capacity=capacity,
        sessions=[{"starts_at": f"{day.isoformat()}T{start}", "duration_minutes": minutes}],
    )
    scene = Scene(build, group_class.session_ids[0], group_class, facilitator, day)
    for _ in range(sets):
        scene.add_set()
    return scene
