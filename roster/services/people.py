"""Patients, caregivers and facilitators: validation, writes, search.

Input is a plain dict (from JSON, a form or a CSV row). Every bad field is
reported at once; nothing is written when anything is wrong. A change to a
fact that billing depends on re-evaluates the affected sessions (R14).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.npi import npi_has_shape, npi_is_valid
from roster.domain.validators import icd10_shape_ok, normalise_icd10, parse_tags, phone_digits
from roster.extensions import db
from roster.models import (
    CONSENT_KINDS,
    DISCIPLINES,
    POC_DISCIPLINES,
    BillingLine,
    Caregiver,
    CaregiverLink,
    CheckIn,
    ClassSession,
    Enrollment,
    EnrollmentCaregiver,
    Facilitator,
    Patient,
    PatientPresence,
)
from roster.services import Conflict, NotFound, ServiceError, audit

MRN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")
PATIENT_AUDIT_FIELDS = (
    "mrn", "first_name", "last_name", "dob", "payer", "member_id", "needs", "diagnosis_codes",
    "consent_date", "consent_kind", "poc_discipline", "poc_start", "poc_end",
)
CAREGIVER_AUDIT_FIELDS = ("first_name", "last_name", "phone", "email")
FACILITATOR_AUDIT_FIELDS = ("name", "discipline", "npi", "active")


# --------------------------------------------------------------------------- parsing helpers


def _text(data: dict, key: str, errors: dict, *, required: bool, max_len: int, label: str) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = f"{label} is required."
        return "" if not required else None
    if not isinstance(value, str):
        errors[key] = f"{label} must be text."
        return None
    value = value.strip()
    if len(value) > max_len:
        errors[key] = f"{label} must be at most {max_len} characters."
        return None
    return value


def parse_date(value: Any, key: str, errors: dict, label: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        errors[key] = f"{label} must be a date (YYYY-MM-DD)."
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors[key] = f"{label} must be a real date written YYYY-MM-DD."
        return None


def _tags(value: Any, key: str, errors: dict, label: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return parse_tags(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return parse_tags(",".join(value))
    errors[key] = f"{label} must be a list of words."
    return []


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


def reject_unknown(data: dict, allowed: set[str], errors: dict) -> None:
    """Name every field the caller sent that this record does not have."""
    for key in sorted(set(data) - allowed):
        errors[key] = "Unknown field."


# --------------------------------------------------------------------------- patients


def validate_patient(data: dict, *, partial: bool = False) -> dict[str, Any]:
    """Clean patient fields; raise ServiceError listing every bad field.

    ``partial`` (PATCH): only the keys present are checked and returned.
    ``consent`` and ``plan_of_care`` are nested objects or null.
    """
    if not isinstance(data, dict):
        raise ServiceError("Send a JSON object.", {"body": "Expected an object."})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def wants(key: str) -> bool:
        return not partial or key in data

    if wants("mrn"):
        mrn = _text(data, "mrn", errors, required=True, max_len=40, label="MRN")
        if mrn and not MRN_RE.match(mrn):
            errors["mrn"] = "MRN may hold letters, digits and dashes only."
        out["mrn"] = mrn
    for key, label in (("first_name", "First name"), ("last_name", "Last name")):
        if wants(key):
            out[key] = _text(data, key, errors, required=True, max_len=80, label=label)
    if wants("dob"):
        dob = parse_date(data.get("dob"), "dob", errors, "Date of birth")
        if dob and dob > date(2200, 1, 1):
            errors["dob"] = "Date of birth is not believable."
        out["dob"] = dob
    if wants("payer"):
        out["payer"] = _text(data, "payer", errors, required=False, max_len=80, label="Payer") or ""
    if wants("member_id"):
        out["member_id"] = _text(data, "member_id", errors, required=False, max_len=40, label="Member id") or ""
    if wants("needs"):
        out["needs"] = _tags(data.get("needs"), "needs", errors, "Needs")
    if wants("diagnosis_codes"):
        out["diagnosis_codes"] = _codes(data.get("diagnosis_codes"), "diagnosis_codes", errors)
    if wants("consent"):
        out.update(_consent(data.get("consent"), errors))
    if wants("plan_of_care"):
        out.update(_plan_of_care(data.get("plan_of_care"), errors))
    reject_unknown(data, {"mrn", "first_name", "last_name", "dob", "payer", "member_id", "needs",
                          "diagnosis_codes", "consent", "plan_of_care"}, errors)
    if errors:
        raise ServiceError("Some patient fields are not valid.", errors)
    return out


def _consent(value: Any, errors: dict) -> dict[str, Any]:
    if value is None:
        return {"consent_date": None, "consent_kind": None}
    if not isinstance(value, dict):
        errors["consent"] = "Consent must be an object with date and kind, or null."
        return {}
    when = parse_date(value.get("date"), "consent.date", errors, "Consent date")
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
    start = parse_date(value.get("start"), "plan_of_care.start", errors, "Plan of care start")
    end = parse_date(value.get("end"), "plan_of_care.end", errors, "Plan of care end")
    if start is None and "plan_of_care.start" not in errors:
        errors["plan_of_care.start"] = "Plan of care start is required."
    if end is None and "plan_of_care.end" not in errors:
        errors["plan_of_care.end"] = "Plan of care end is required."
    if start and end and end < start:
        errors["plan_of_care.end"] = "Plan of care must end on or after its start."
    return {"poc_discipline": discipline, "poc_start": start, "poc_end": end}


def create_patient(data: dict) -> Patient:
    clean = validate_patient(data)
    if db.session.scalar(sa.select(Patient.id).where(Patient.mrn == clean["mrn"])) is not None:
        raise Conflict(f"A patient with MRN {clean['mrn']} already exists.", {"mrn": "Already in use."})
    patient = Patient(**clean)
    db.session.add(patient)
    db.session.flush()
    audit.record("patient.create", "patient", patient.id, after=audit.snapshot(patient, PATIENT_AUDIT_FIELDS))
    return patient


def update_patient(patient: Patient, data: dict) -> Patient:
    clean = validate_patient(data, partial=True)
    if "mrn" in clean and clean["mrn"] != patient.mrn:
        taken = db.session.scalar(
            sa.select(Patient.id).where(Patient.mrn == clean["mrn"], Patient.id != patient.id)
        )
        if taken is not None:
            raise Conflict(f"A patient with MRN {clean['mrn']} already exists.", {"mrn": "Already in use."})
    if audit.apply_changes(patient, clean, PATIENT_AUDIT_FIELDS, "patient.update", "patient"):
        from roster.services import billing

        billing.reevaluate_for_patients([patient.id])
    return patient


def get_patient_by_mrn(mrn: str) -> Patient:
    patient = db.session.scalar(sa.select(Patient).where(Patient.mrn == mrn))
    if patient is None:
        raise NotFound(f"No patient with MRN {mrn}.", {"patient_mrn": "Unknown MRN."})
    return patient


def patients_by_mrn(mrns: Iterable[str]) -> dict[str, Patient]:
    """The patients with these MRNs, by MRN, in one query (keep the list to a few thousand)."""
    wanted = set(mrns)
    if not wanted:
        return {}
    return {p.mrn: p for p in db.session.scalars(sa.select(Patient).where(Patient.mrn.in_(wanted)))}


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


def patient_page(query: str, page: int, per_page: int) -> tuple[list[Patient], int]:
    stmt = sa.select(Patient)
    q = (query or "").strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Patient.mrn).like(like),
                sa.func.lower(Patient.first_name + " " + Patient.last_name).like(like),
                sa.func.lower(Patient.last_name).like(like),
            )
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(Patient.last_name, Patient.first_name, Patient.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), max(1, math.ceil(total / per_page))


@dataclass(frozen=True)
class Attendance:
    """A session the patient's caregivers came to, or the patient was marked present at."""

    session: ClassSession  # with its class loaded
    caregivers: tuple[str, ...]  # who checked in for this patient
    patient_present: bool


@dataclass(frozen=True)
class PatientOverview:
    """Everything the patient page shows, loaded in a fixed number of queries."""

    patient: Patient
    links: list[CaregiverLink]  # with their caregivers
    enrollments: list[Enrollment]  # with class and caregiver set
    attendance: list[Attendance]  # latest first
    lines: list[BillingLine] | None  # with findings and session; None: the viewer may not see billing


def patient_overview(patient_id: int, *, with_billing: bool) -> PatientOverview:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"No patient {patient_id}.")
    links = db.session.scalars(
        sa.select(CaregiverLink)
        .join(Caregiver, Caregiver.id == CaregiverLink.caregiver_id)
        .options(selectinload(CaregiverLink.caregiver))
        .where(CaregiverLink.patient_id == patient_id)
        .order_by(Caregiver.last_name, Caregiver.first_name, Caregiver.id)
    ).all()
    enrollments = db.session.scalars(
        sa.select(Enrollment)
        .options(
            selectinload(Enrollment.group_class),
            selectinload(Enrollment.members).selectinload(EnrollmentCaregiver.caregiver),
        )
        .where(Enrollment.patient_id == patient_id)
        .order_by(Enrollment.id.desc())
    ).all()
    lines = _patient_lines(patient_id) if with_billing else None
    return PatientOverview(patient, list(links), list(enrollments), _attendance(patient_id), lines)


def _attendance(patient_id: int) -> list[Attendance]:
    came = db.session.execute(
        sa.select(CheckIn.session_id, Caregiver.first_name, Caregiver.last_name)
        .join(Caregiver, Caregiver.id == CheckIn.caregiver_id)
        .where(CheckIn.patient_id == patient_id)
        .order_by(Caregiver.last_name, Caregiver.first_name, Caregiver.id)
    ).all()
    present = set(db.session.scalars(
        sa.select(PatientPresence.session_id).where(PatientPresence.patient_id == patient_id)
    ))
    names: dict[int, list[str]] = defaultdict(list)
    for row in came:
        names[row.session_id].append(f"{row.first_name} {row.last_name}")
    sessions = db.session.scalars(
        sa.select(ClassSession)
        .options(selectinload(ClassSession.group_class))
        .where(ClassSession.id.in_(set(names) | present))
        .order_by(ClassSession.starts_at.desc(), ClassSession.id.desc())
    )
    return [Attendance(s, tuple(names[s.id]), s.id in present) for s in sessions]


def _patient_lines(patient_id: int) -> list[BillingLine]:
    return list(db.session.scalars(
        sa.select(BillingLine)
        .options(
            selectinload(BillingLine.findings),
            selectinload(BillingLine.session).selectinload(ClassSession.group_class),
        )
        .where(BillingLine.patient_id == patient_id)
        .order_by(BillingLine.date_of_service.desc(), BillingLine.id.desc())
    ))


# --------------------------------------------------------------------------- caregivers


def validate_caregiver(
    data: dict, *, partial: bool = False, known_patients: dict[str, Patient] | None = None
) -> dict[str, Any]:
    """Clean caregiver fields; raise ServiceError listing every bad field.

    ``known_patients`` (MRN -> patient) spares the MRN look-up when many
    caregivers are checked at once (CSV import); an MRN missing from it is unknown.
    """
    if not isinstance(data, dict):
        raise ServiceError("Send a JSON object.", {"body": "Expected an object."})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, label in (("first_name", "First name"), ("last_name", "Last name")):
        if not partial or key in data:
            out[key] = _text(data, key, errors, required=True, max_len=80, label=label)
    if not partial or "phone" in data:
        phone = _text(data, "phone", errors, required=False, max_len=40, label="Phone") or ""
        if phone and len(phone_digits(phone)) < 7:
            errors["phone"] = "Phone needs at least 7 digits."
        out["phone"] = phone
        out["phone_digits"] = phone_digits(phone)
    if not partial or "email" in data:
        email = _text(data, "email", errors, required=False, max_len=254, label="E-mail") or None
        if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            errors["email"] = "E-mail does not look like an address."
        out["email"] = email
    links = None
    if not partial or "links" in data:
        links = _links(data.get("links") or [], errors, known_patients)
    reject_unknown(data, {"first_name", "last_name", "phone", "email", "links"}, errors)
    if errors:
        raise ServiceError("Some caregiver fields are not valid.", errors)
    if links is not None:
        out["links"] = links
    return out


def _links(value: Any, errors: dict, known: dict[str, Patient] | None = None) -> list[tuple[Patient, str]]:
    if not isinstance(value, list):
        errors["links"] = "Links must be a list of {patient_mrn, relationship}."
        return []
    mrns = []
    for i, link in enumerate(value):
        if not isinstance(link, dict) or not isinstance(link.get("patient_mrn"), str):
            errors[f"links[{i}]"] = "Each link needs a patient_mrn."
            continue
        mrns.append(link["patient_mrn"].strip())
    patients = known if known is not None else patients_by_mrn(mrns)
    out, seen = [], set()
    for i, link in enumerate(value):
        if f"links[{i}]" in errors:
            continue
        mrn = link["patient_mrn"].strip()
        relationship = link.get("relationship") or ""
        if not isinstance(relationship, str) or len(relationship) > 40:
            errors[f"links[{i}].relationship"] = "Relationship must be short text (e.g. spouse)."
            continue
        if not mrn:
            errors[f"links[{i}].patient_mrn"] = "Enter the patient's MRN."
            continue
        if mrn not in patients:
            errors[f"links[{i}].patient_mrn"] = f"No patient with MRN {mrn}."
            continue
        if mrn in seen:
            errors[f"links[{i}].patient_mrn"] = f"Patient {mrn} is listed twice."
            continue
        seen.add(mrn)
        out.append((patients[mrn], relationship.strip().lower()))
    return out


def create_caregiver(data: dict) -> Caregiver:
    clean = validate_caregiver(data)
    links = clean.pop("links")
    caregiver = Caregiver(**clean)
    db.session.add(caregiver)
    for patient, relationship in links:
        caregiver.links.append(CaregiverLink(patient=patient, relationship=relationship))
    db.session.flush()
    audit.record(
        "caregiver.create", "caregiver", caregiver.id,
        after=audit.snapshot(caregiver, CAREGIVER_AUDIT_FIELDS) | {"links": _link_picture(caregiver)},
    )
    return caregiver


def update_caregiver(caregiver: Caregiver, data: dict) -> Caregiver:
    clean = validate_caregiver(data, partial=True)
    links = clean.pop("links", None)
    before = audit.snapshot(caregiver, CAREGIVER_AUDIT_FIELDS) | {"links": _link_picture(caregiver)}
    for key, value in clean.items():
        setattr(caregiver, key, value)
    touched_patients: set[int] = set()
    if links is not None:
        wanted = {patient.id: (patient, rel) for patient, rel in links}
        for link in list(caregiver.links):
            if link.patient_id not in wanted:
                touched_patients.add(link.patient_id)
                caregiver.links.remove(link)
            elif link.relationship != wanted[link.patient_id][1]:
                touched_patients.add(link.patient_id)
                link.relationship = wanted[link.patient_id][1]
        have = {link.patient_id for link in caregiver.links}
        for pid, (patient, rel) in wanted.items():
            if pid not in have:
                touched_patients.add(pid)
                caregiver.links.append(CaregiverLink(patient=patient, relationship=rel))
    db.session.flush()
    after = audit.snapshot(caregiver, CAREGIVER_AUDIT_FIELDS) | {"links": _link_picture(caregiver)}
    if before != after:
        audit.record("caregiver.update", "caregiver", caregiver.id, before=before, after=after)
    if touched_patients:
        from roster.services import billing

        billing.reevaluate_for_caregiver(caregiver.id)
    return caregiver


def get_caregiver(caregiver_id: int) -> Caregiver:
    """A caregiver with their links and linked patients loaded."""
    caregiver = db.session.scalar(
        sa.select(Caregiver)
        .options(selectinload(Caregiver.links).selectinload(CaregiverLink.patient))
        .where(Caregiver.id == caregiver_id)
    )
    if caregiver is None:
        raise NotFound(f"No caregiver {caregiver_id}.")
    return caregiver


def _link_picture(caregiver: Caregiver) -> list[dict]:
    return sorted(
        ({"patient_id": link.patient_id or (link.patient.id if link.patient else None),
          "relationship": link.relationship} for link in caregiver.links),
        key=lambda d: d["patient_id"] or 0,
    )


def search_caregivers(query: str, limit: int = 10) -> list[Caregiver]:
    """Walk-in search: caregiver name, phone digits, patient name or MRN."""
    q = (query or "").strip()
    if len(q) < 2:
        return []
    like = f"%{q.lower()}%"
    digits = phone_digits(q)
    patient_match = (
        sa.select(CaregiverLink.caregiver_id)
        .join(Patient, Patient.id == CaregiverLink.patient_id)
        .where(
            sa.or_(
                sa.func.lower(Patient.mrn) == q.lower(),
                sa.func.lower(Patient.first_name + " " + Patient.last_name).like(like),
            )
        )
    )
    conditions = [
        sa.func.lower(Caregiver.first_name + " " + Caregiver.last_name).like(like),
        Caregiver.id.in_(patient_match),
    ]
    if len(digits) >= 3:
        conditions.append(Caregiver.phone_digits.like(f"%{digits}%"))
    stmt = (
        sa.select(Caregiver)
        .where(sa.or_(*conditions))
        .options(selectinload(Caregiver.links).selectinload(CaregiverLink.patient))
        .order_by(Caregiver.last_name, Caregiver.first_name, Caregiver.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def caregiver_page(query: str, page: int, per_page: int) -> tuple[list[Caregiver], int]:
    stmt = sa.select(Caregiver)
    q = (query or "").strip()
    if q:
        like = f"%{q.lower()}%"
        conds = [sa.func.lower(Caregiver.first_name + " " + Caregiver.last_name).like(like)]
        digits = phone_digits(q)
        if len(digits) >= 3:
            conds.append(Caregiver.phone_digits.like(f"%{digits}%"))
        stmt = stmt.where(sa.or_(*conds))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.options(selectinload(Caregiver.links).selectinload(CaregiverLink.patient))
        .order_by(Caregiver.last_name, Caregiver.first_name, Caregiver.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), max(1, math.ceil(total / per_page))


# --------------------------------------------------------------------------- facilitators


def validate_facilitator(data: dict, *, partial: bool = False) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ServiceError("Send a JSON object.", {"body": "Expected an object."})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if not partial or "name" in data:
        out["name"] = _text(data, "name", errors, required=True, max_len=120, label="Name")
    if not partial or "discipline" in data:
        discipline = data.get("discipline")
        if discipline not in DISCIPLINES:
            errors["discipline"] = f"Discipline must be one of {' '.join(DISCIPLINES)}."
        out["discipline"] = discipline
    if not partial or "npi" in data:
        npi = data.get("npi")
        npi = npi.strip() if isinstance(npi, str) else npi
        if not isinstance(npi, str) or not npi_has_shape(npi):
            errors["npi"] = "NPI must be exactly 10 digits."
        out["npi"] = npi
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = "Active must be true or false."
        out["active"] = data["active"]
    reject_unknown(data, {"name", "discipline", "npi", "active"}, errors)
    if errors:
        raise ServiceError("Some facilitator fields are not valid.", errors)
    return out


def npi_warning(npi: str | None) -> str | None:
    """A warning (not an error) for an NPI whose check digit fails: billing will hold its lines."""
    if npi and npi_has_shape(npi) and not npi_is_valid(npi):
        return (
            f"NPI {npi} fails the NPI check digit. It is saved, but billing will hold this "
            "facilitator's lines (INVALID_NPI) until it is corrected."
        )
    return None


def create_facilitator(data: dict) -> Facilitator:
    clean = validate_facilitator(data)
    facilitator = Facilitator(**clean)
    db.session.add(facilitator)
    db.session.flush()
    audit.record(
        "facilitator.create", "facilitator", facilitator.id,
        after=audit.snapshot(facilitator, FACILITATOR_AUDIT_FIELDS),
    )
    return facilitator


def update_facilitator(facilitator: Facilitator, data: dict) -> Facilitator:
    clean = validate_facilitator(data, partial=True)
    if audit.apply_changes(facilitator, clean, FACILITATOR_AUDIT_FIELDS, "facilitator.update", "facilitator"):
        from roster.services import billing

        billing.reevaluate_for_facilitator(facilitator.id)
    return facilitator


def all_facilitators(active_only: bool = False) -> list[Facilitator]:
    stmt = sa.select(Facilitator).order_by(Facilitator.name)
    if active_only:
        stmt = stmt.where(Facilitator.active.is_(True))
    return list(db.session.scalars(stmt))
