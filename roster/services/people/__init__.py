"""Patients, caregivers and facilitators: validation, writes (search: ``roster.services.search``).

Input is a plain dict (from JSON, a form or a CSV row). Every bad field is
reported at once; nothing is written when anything is wrong. A change to a
fact that billing depends on re-evaluates the affected sessions (R14).

A package by responsibility; callers keep writing ``people.create_patient(...)``:
``patients``, ``caregivers``, ``facilitators`` and ``pages`` (read-only page data).
"""

from roster.services.people.caregivers import (
    CAREGIVER_AUDIT_FIELDS,
    create_caregiver,
    get_caregiver,
    likely_duplicates,
    update_caregiver,
    validate_caregiver,
)
from roster.services.people.facilitators import (
    FACILITATOR_AUDIT_FIELDS,
    all_facilitators,
    create_facilitator,
    npi_warning,
    update_facilitator,
    validate_facilitator,
)
from roster.services.people.pages import (
    Attendance,
    PatientOverview,
    patient_overview,
)
from roster.services.people.patients import (
    FLAT_PATIENT_FIELDS,
    MRN_RE,
    PATIENT_AUDIT_FIELDS,
    create_patient,
    flat_field,
    get_patient_by_mrn,
    patient_from_flat,
    patients_by_mrn,
    update_patient,
    validate_patient,
)
from roster.services.validation import parse_date, reject_unknown

__all__ = [
    "CAREGIVER_AUDIT_FIELDS", "FACILITATOR_AUDIT_FIELDS", "FLAT_PATIENT_FIELDS", "MRN_RE",
    "PATIENT_AUDIT_FIELDS", "Attendance", "PatientOverview", "all_facilitators",
    "create_caregiver", "create_facilitator", "create_patient", "flat_field", "get_caregiver", "likely_duplicates",
    "get_patient_by_mrn", "npi_warning", "parse_date", "patient_from_flat", "patient_overview",
    "patients_by_mrn", "reject_unknown", "update_caregiver", "update_facilitator",
    "update_patient", "validate_caregiver", "validate_facilitator", "validate_patient",
]
