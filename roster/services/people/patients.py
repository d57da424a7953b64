"""Patients: validation (nested API shape and flat form/CSV shape), writes, look-ups.

A change to a fact that billing depends on re-evaluates the affected sessions (R14).
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import sqlalchemy as sa

from flask import current_app

from roster.domain.recurrence import utc_to_local
from roster.domain.validators import birth_date_problem, icd10_shape_ok, normalise_icd10, not_after_today_problem
from roster.extensions import db
from roster.models import CONSENT_KINDS, POC_DISCIPLINES, Patient, mrn_key, utcnow
from roster.services import Conflict, NotFound, ServiceError, audit, billing, rows
from roster.services.patient_claim import CLAIM_FIELDS, validate_claim_fields
from roster.domain.validators import record_window
from roster.services.validation import parse_date, reject_unknown, require_object, tags, text

MRN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")
PATIENT_AUDIT_FIELDS = (
    "mrn", "first_name", "last_name", "dob", "payer", "member_id", "needs", "diagnosis_codes",
    "consent_date", "consent_kind", "poc_discipline", "poc_start", "poc_end", *CLAIM_FIELDS,
)


def _codes(value: Any, key: str, errors: dict) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [v for v in re.split(r"[,;\s]+", value) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[key] = "Diagnosis codes must be a list of ICD-10-CM codes."
        return []
    codes, bad = [], []
    for raw in value:
        code = normalise_icd10(raw)
        if not icd10_shape_ok(code):
            bad.append(raw)
        elif code not in codes:
            codes.append(code)
    if bad:
        errors[key] = f"Not an ICD-10-CM code: {', '.join(bad)} (expected a shape like I69.351)."
    return codes


def clinic_today() -> date:
    """Today in the clinic's zone (dates of birth and consent are checked against it)."""
    return utc_to_local(utcnow(), current_app.config["CLINIC_TIMEZONE"]).date()


def validate_patient(data: dict, *, partial: bool = False) -> dict[str, Any]:
    """Clean patient fields; raise ServiceError listing every bad field.

    ``partial`` (PATCH): only the keys present are checked and returned.
    ``consent`` and ``plan_of_care`` are nested objects or null.
    """
    require_object(data)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def wants(key: str) -> bool:
        return not partial or key in data

    if wants("mrn"):
        mrn = text(data, "mrn", errors, required=True, max_len=40, label="MRN")
        if mrn and not MRN_RE.match(mrn):
            errors["mrn"] = "MRN may hold letters, digits and dashes only."
        out["mrn"] = mrn
    for key, label in (("first_name", "First name"), ("last_name", "Last name")):
        if wants(key):
            out[key] = text(data, key, errors, required=True, max_len=80, label=label)
    if wants("dob"):
        dob = parse_date(data.get("dob"), "dob", errors, "Date of birth")
        problem = dob and birth_date_problem(dob, clinic_today())
        if problem:
            errors["dob"] = problem
        out["dob"] = dob
    if wants("payer"):
        out["payer"] = text(data, "payer", errors, required=False, max_len=80, label="Payer") or ""
    if wants("member_id"):
        out["member_id"] = text(data, "member_id", errors, required=False, max_len=40, label="Member id") or ""
    out.update(validate_claim_fields(data, wants, errors))
    if wants("needs"):
        out["needs"] = tags(data.get("needs"), "needs", errors, "Needs")
    if wants("diagnosis_codes"):
        out["diagnosis_codes"] = _codes(data.get("diagnosis_codes"), "diagnosis_codes", errors)
    if wants("consent"):
        out.update(_consent(data.get("consent"), errors))
    if wants("plan_of_care"):
        out.update(_plan_of_care(data.get("plan_of_care"), errors))
    reject_unknown(data, {"mrn", "first_name", "last_name", "dob", "payer", "member_id", "needs",
                          "diagnosis_codes", "consent", "plan_of_care", *CLAIM_FIELDS}, errors)
    if errors:
        raise ServiceError("Some patient fields are not valid.", errors)
    return out


def _consent(value: Any, errors: dict) -> dict[str, Any]:
    if value is None:
        return {"consent_date": None, "consent_kind": None}
    if not isinstance(value, dict):
        errors["consent"] = "Consent must be an object with date and kind, or null."
        return {}
    when = parse_date(value.get("date"), "consent.date", errors, "Consent date", record_window)
    problem = when and not_after_today_problem(when, clinic_today(), "Consent date")
    if problem:
        errors["consent.date"] = problem
    kind = value.get("kind")
    if when is None and "consent.date" not in errors:
        errors["consent.date"] = "Consent date is required when consent is given."
    if kind not in CONSENT_KINDS:
        errors["consent.kind"] = "Consent kind must be written or verbal."
    return {"consent_date": when, "consent_kind": kind}


def _plan_of_care(value: Any, errors: dict) -> dict[str, Any]:
    if value is None:
        return {"poc_discipline": None, "poc_start": None, "poc_end": None}
    if not isinstance(value, dict):
        errors["plan_of_care"] = "Plan of care must be an object with discipline, start and end, or null."
        return {}
    discipline = value.get("discipline")
    if discipline not in POC_DISCIPLINES:
        errors["plan_of_care.discipline"] = "Plan of care discipline must be PT, OT or SLP."
    start = parse_date(value.get("start"), "plan_of_care.start", errors, "Plan of care start",
                       record_window)
    end = parse_date(value.get("end"), "plan_of_care.end", errors, "Plan of care end", record_window)
    if start is None and "plan_of_care.start" not in errors:
        errors["plan_of_care.start"] = "Plan of care start is required."
    if end is None and "plan_of_care.end" not in errors:
        errors["plan_of_care.end"] = "Plan of care end is required."
    if start and end and end < start:
        errors["plan_of_care.end"] = "Plan of care must end on or after its start."
    return {"poc_discipline": discipline, "poc_start": start, "poc_end": end}


def _refuse_taken_mrn(mrn: str, own_id: int | None) -> None:
    """MRNs are unique without regard to case: a1001 is taken when A1001 exists."""
    taken = db.session.scalar(
        sa.select(Patient.mrn).where(Patient.mrn_key == mrn_key(mrn), Patient.id != (own_id or 0))
    )
    if taken is not None:
        same = "" if taken == mrn else f" (as {taken}; case does not make a different MRN)"
        raise Conflict(f"A patient with MRN {mrn} already exists{same}.",
                       {"mrn": "Already in use" + (f" as {taken}." if taken != mrn else ".")})


def create_patient(data: dict) -> Patient:
    clean = validate_patient(data)
    _refuse_taken_mrn(clean["mrn"], None)
    return rows.create(Patient, clean, "patient.create", lambda p: audit.snapshot(p, PATIENT_AUDIT_FIELDS))


def update_patient(patient: Patient, data: dict) -> Patient:
    clean = validate_patient(data, partial=True)
    if "mrn" in clean and clean["mrn"] != patient.mrn:
        _refuse_taken_mrn(clean["mrn"], patient.id)
    shown = audit.snapshot(patient, billing.SHOWN_TO_OTHERS)
    event = audit.change_event(patient, clean, PATIENT_AUDIT_FIELDS, "patient.update", "patient")
    if event is not None:  # its audit record is written with those of the lines it changes
        billing.locks.updated(Patient, [patient.id])  # flushed: our UPDATE holds the patient's row
        if audit.snapshot(patient, billing.SHOWN_TO_OTHERS) == shown:  # only their own lines can change
            billing.facts_changed(own_facts_of=[patient.id], audit_events=[event])
        else:
            billing.facts_changed(patient_ids=[patient.id], audit_events=[event])
    return patient


def get_patient_by_mrn(mrn: str) -> Patient:
    patient = db.session.scalar(sa.select(Patient).where(Patient.mrn_key == mrn_key(mrn)))
    if patient is None:
        raise NotFound(f"No patient with MRN {mrn}.", {"patient_mrn": "Unknown MRN."})
    return patient


def patients_by_mrn(mrns: Iterable[str]) -> dict[str, Patient]:
    """The patients with these MRNs (without regard to case), by the MRN as given, in one query."""
    wanted = {m for m in mrns if m}
    if not wanted:
        return {}
    found = {p.mrn_key: p for p in db.session.scalars(
        sa.select(Patient).where(Patient.mrn_key.in_({mrn_key(m) for m in wanted})))}
    return {m: found[mrn_key(m)] for m in wanted if mrn_key(m) in found}  # keyed as asked (case aside)


# A patient as one flat record (a form, a CSV row): the nested consent and plan
# of care of the API spelt out as columns. Errors name the flat field.
FLAT_PATIENT_FIELDS = (
    "mrn", "first_name", "last_name", "dob", "payer", "member_id", "needs", "diagnosis_codes",
    "consent_date", "consent_kind", "poc_discipline", "poc_start", "poc_end",
)
_NESTED_TO_FLAT = {
    "consent": "consent_date", "consent.date": "consent_date", "consent.kind": "consent_kind",
    "plan_of_care": "poc_discipline", "plan_of_care.discipline": "poc_discipline",
    "plan_of_care.start": "poc_start", "plan_of_care.end": "poc_end",
}


def patient_from_flat(flat: dict[str, Any]) -> dict[str, Any]:
    """The dict ``validate_patient`` takes, from a flat record of text values.

    Blank consent (or kind "none") means no consent; a blank plan of care means none.
    """
    value = {key: str(flat.get(key) or "").strip() for key in FLAT_PATIENT_FIELDS}
    data: dict[str, Any] = {
        key: value[key]
        for key in ("mrn", "first_name", "last_name", "payer", "member_id", "needs", "diagnosis_codes")
    }
    data.update({key: str(flat[key] or "").strip() for key in CLAIM_FIELDS if key in flat})
    data["dob"] = value["dob"] or None
    kind = value["consent_kind"].lower()
    kind = "" if kind == "none" else kind
    data["consent"] = (
        {"date": value["consent_date"] or None, "kind": kind or None}
        if value["consent_date"] or kind else None
    )
    discipline, start, end = value["poc_discipline"].upper(), value["poc_start"], value["poc_end"]
    data["plan_of_care"] = (
        {"discipline": discipline or None, "start": start or None, "end": end or None}
        if discipline or start or end else None
    )
    return data


def flat_field(key: str) -> str:
    """The flat field an error key of ``validate_patient`` points at ("consent.date" -> "consent_date")."""
    return _NESTED_TO_FLAT.get(key, key)
