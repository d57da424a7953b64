"""Who a check-in is about: the caregiver with their linked patients (one statement, plain values) and the
patient they came for."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa

from roster.extensions import db
from roster.models import Caregiver, CaregiverLink, Patient, mrn_key
from roster.services import ServiceError


@dataclass(frozen=True)
class Person:
    """A caregiver or a patient as a check-in reads them: id, names (its messages) and a patient's MRN (and a
    caregiver's phone, as the walk-in search shows it)."""
    id: int
    first_name: str
    last_name: str
    mrn: str | None = None
    phone: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def resolve_patient_for(caregiver: Person, linked: list[tuple[Person, str]],
                        patient_mrn: str | None) -> tuple[Person, str]:
    """The patient a caregiver came for (given by MRN, or their only linked patient) and the
    caregiver's relationship to them, from the caregiver's ``linked`` patients and relationships."""
    if patient_mrn:
        if not isinstance(patient_mrn, str):
            raise ServiceError("The patient is not valid.", {"patient_mrn": "Must be text."})
        wanted = mrn_key(patient_mrn)  # MRNs are unique without regard to case, as the undo and lookups read them
        for patient, relationship in linked:
            if mrn_key(patient.mrn) == wanted:
                return patient, relationship
        patient = db.session.scalar(sa.select(Patient).where(Patient.mrn_key == wanted))
        if patient is None:
            raise ServiceError("The patient is not valid.", {"patient_mrn": f"No patient with MRN {patient_mrn}."})
        raise ServiceError(
            f"{caregiver.full_name} is not linked to {patient.full_name}.",
            {"patient_mrn": "This caregiver is not linked to that patient."},
        )
    if len(linked) == 1:
        return linked[0]
    if not linked:
        raise ServiceError(
            f"{caregiver.full_name} is not linked to any patient yet.",
            {"patient_mrn": "Link the caregiver to a patient first."},
        )
    raise ServiceError(
        f"{caregiver.full_name} cares for several patients; say which one they came for.",
        {"patient_mrn": "Required: this caregiver is linked to more than one patient."},
    )


def caregiver_and_patients(caregiver_id: int, rows: list | None = None) -> tuple[Person, list[tuple[Person, str]]]:
    """The caregiver with their linked patients and relationships, in one statement of the columns a
    check-in uses (as plain values: the ORM's objects, the patient's JSON columns, cost more than the read).
    ``rows``: ``CAREGIVER_COLUMNS``' values as another statement read them for this caregiver id
    (``CAREGIVER_FROM`` outer-joined ``on_caregiver``), instead of a statement of their own."""
    if not isinstance(caregiver_id, int) or isinstance(caregiver_id, bool):
        raise ServiceError("The check-in is not valid.", {"caregiver_id": "A caregiver id is required."})
    if rows is None:
        rows = db.session.execute(_caregiver_and_patients_statement(), {"caregiver_id": caregiver_id}).all()
    if not rows or rows[0][0] is None:
        raise ServiceError("The check-in is not valid.", {"caregiver_id": f"No caregiver {caregiver_id}."})
    return Person(*rows[0][:3]), [(Person(*row[3:7]), row[7]) for row in rows if row[3] is not None]


def caregiver_param(caregiver_id) -> int | None:
    """The caregiver id a body names, as a bound value of ``on_caregiver`` (None when it names none: nothing
    is read, and ``caregiver_and_patients`` says why)."""
    return caregiver_id if isinstance(caregiver_id, int) and not isinstance(caregiver_id, bool) else None


_c, _link, _p = Caregiver.__table__.c, CaregiverLink.__table__.c, Patient.__table__.c
# the caregiver, each linked patient and the relationship: one row per link (ordered by ORDER_BY)
CAREGIVER_COLUMNS = (_c.id, _c.first_name, _c.last_name, _p.id, _p.first_name, _p.last_name, _p.mrn, _link.relationship)
CAREGIVER_FROM = (Caregiver.__table__.outerjoin(CaregiverLink.__table__, _link.caregiver_id == _c.id)
                  .outerjoin(Patient.__table__, _p.id == _link.patient_id))
on_caregiver = _c.id == sa.bindparam("caregiver_id")
ORDER_BY = _link.id


@lru_cache(maxsize=1)
def _caregiver_and_patients_statement() -> sa.Select:
    return sa.select(*CAREGIVER_COLUMNS).select_from(CAREGIVER_FROM).where(on_caregiver).order_by(ORDER_BY)
