"""Caregivers: validation with their links to patients, writes, walk-in search."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.validators import phone_digits, phone_problem
from roster.extensions import db
from roster.models import Caregiver, CaregiverLink, Patient
from roster.services import Conflict, ServiceError, audit
from roster.services.people.patients import patients_by_mrn
from roster.services.validation import reject_unknown, require_object, text
from roster.services.rows import one

CAREGIVER_AUDIT_FIELDS = ("first_name", "last_name", "phone", "email")


def validate_caregiver(
    data: dict, *, partial: bool = False, known_patients: dict[str, Patient] | None = None
) -> dict[str, Any]:
    """Clean caregiver fields; raise ServiceError listing every bad field.

    ``known_patients`` (MRN -> patient) spares the MRN look-up when many
    caregivers are checked at once (CSV import); an MRN missing from it is unknown.
    """
    require_object(data)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, label in (("first_name", "First name"), ("last_name", "Last name")):
        if not partial or key in data:
            out[key] = text(data, key, errors, required=True, max_len=80, label=label)
    if not partial or "phone" in data:
        phone = text(data, "phone", errors, required=False, max_len=40, label="Phone") or ""
        problem = phone and phone_problem(phone)
        if problem:
            errors["phone"] = problem
        out["phone"] = phone
        out["phone_digits"] = phone_digits(phone)
    if not partial or "email" in data:
        email = text(data, "email", errors, required=False, max_len=254, label="E-mail") or None
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


def likely_duplicates(first_name: str, last_name: str, phone: str) -> list[Caregiver]:
    """Caregivers with the same name (case aside) and the same phone digits: probably the same person."""
    digits = phone_digits(phone or "")
    if not digits or not (first_name or "").strip() or not (last_name or "").strip():
        return []
    return list(db.session.scalars(
        sa.select(Caregiver)
        .options(selectinload(Caregiver.links).selectinload(CaregiverLink.patient))
        .where(sa.func.lower(Caregiver.first_name) == first_name.strip().lower(),
               sa.func.lower(Caregiver.last_name) == last_name.strip().lower(),
               Caregiver.phone_digits == digits)
        .order_by(Caregiver.id)
    ))


def _refuse_identical(clean: dict, links: list[tuple[Patient, str]]) -> None:
    """The same person (name and phone) may not be added twice for one patient (the CSV import refuses it too)."""
    wanted = {patient.id: patient for patient, _ in links}
    for twin in likely_duplicates(clean["first_name"], clean["last_name"], clean.get("phone", "")):
        shared = [link.patient for link in twin.links if link.patient_id in wanted]
        if shared:
            raise Conflict(
                f"{twin.full_name} ({twin.phone}) is already a caregiver of {shared[0].full_name}: "
                "use the existing one.",
                {"first_name": f"Already a caregiver of {shared[0].full_name}."},
            )


def create_caregiver(data: dict) -> Caregiver:
    clean = validate_caregiver(data)
    links = clean.pop("links")
    _refuse_identical(clean, links)
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
    if links is not None:
        wanted = {patient.id: (patient, rel) for patient, rel in links}
        for link in list(caregiver.links):
            if link.patient_id not in wanted:
                caregiver.links.remove(link)
            elif link.relationship != wanted[link.patient_id][1]:
                link.relationship = wanted[link.patient_id][1]
        have = {link.patient_id for link in caregiver.links}
        for pid, (patient, rel) in wanted.items():
            if pid not in have:
                caregiver.links.append(CaregiverLink(patient=patient, relationship=rel))
    db.session.flush()
    after = audit.snapshot(caregiver, CAREGIVER_AUDIT_FIELDS) | {"links": _link_picture(caregiver)}
    if before != after:
        audit.record("caregiver.update", "caregiver", caregiver.id, before=before, after=after)
    # Past check-ins keep the relationship they were made with (S9): links do not re-bill.
    return caregiver


def get_caregiver(caregiver_id: int) -> Caregiver:
    """A caregiver with their links and linked patients loaded."""
    return one(Caregiver, caregiver_id, selectinload(Caregiver.links).selectinload(CaregiverLink.patient))


def _link_picture(caregiver: Caregiver) -> list[dict]:
    return sorted(
        ({"patient_id": link.patient_id or (link.patient.id if link.patient else None),
          "relationship": link.relationship} for link in caregiver.links),
        key=lambda d: d["patient_id"] or 0,
    )
