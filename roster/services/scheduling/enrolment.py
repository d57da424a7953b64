"""Enrolment: caregiver sets in classes, capacity in caregiver seats, the waitlist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.statuses import EnrollmentStatus
from roster.extensions import db
from roster.models import Caregiver, CaregiverLink, Enrollment, EnrollmentCaregiver, GroupClass, Patient
from roster.services import Conflict, NotFound, ServiceError, audit


def seats_taken(class_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(EnrollmentCaregiver.id))
        .join(Enrollment, Enrollment.id == EnrollmentCaregiver.enrollment_id)
        .where(Enrollment.class_id == class_id, Enrollment.status == EnrollmentStatus.ENROLLED)
    ) or 0


def find_enrollment(class_id: int, patient_id: int) -> Enrollment | None:
    """The patient's enrolment in the class (any status), if there is one."""
    return db.session.scalar(
        sa.select(Enrollment).where(Enrollment.class_id == class_id, Enrollment.patient_id == patient_id)
    )


def _lock_class(class_id: int) -> GroupClass:
    """Serialise enrolment changes of one class (PostgreSQL row lock; SQLite locks the file)."""
    stmt = sa.select(GroupClass).where(GroupClass.id == class_id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    group_class = db.session.scalars(stmt).first()
    if group_class is None:
        raise NotFound(f"No class {class_id}.")
    return group_class


@dataclass
class EnrollResult:
    enrollment: Enrollment
    status: str
    warnings: list[str]


def enroll(class_id: int, patient: Patient, caregiver_ids: list[int]) -> EnrollResult:
    group_class = _lock_class(class_id)
    errors = {}
    if not isinstance(caregiver_ids, list) or not caregiver_ids or not all(
        isinstance(c, int) and not isinstance(c, bool) for c in caregiver_ids
    ):
        errors["caregiver_ids"] = "Choose at least one caregiver."
        raise ServiceError("The caregiver set is not valid.", errors)
    ids = list(dict.fromkeys(caregiver_ids))
    if len(ids) > group_class.capacity:
        raise ServiceError(
            f"The set has {len(ids)} caregivers; the class seats {group_class.capacity}.",
            {"caregiver_ids": "More caregivers than the class has seats."},
        )
    linked = set(
        db.session.scalars(
            sa.select(CaregiverLink.caregiver_id).where(
                CaregiverLink.patient_id == patient.id, CaregiverLink.caregiver_id.in_(ids)
            )
        )
    )
    missing = [c for c in ids if c not in linked]
    if missing:
        known = set(db.session.scalars(sa.select(Caregiver.id).where(Caregiver.id.in_(missing))))
        unknown = [c for c in missing if c not in known]
        why = (f"No caregiver with id {', '.join(map(str, unknown))}." if unknown else
               f"Caregiver {', '.join(map(str, missing))} is not linked to {patient.full_name}.")
        raise ServiceError("The caregiver set is not valid.", {"caregiver_ids": why})
    existing = db.session.scalar(
        sa.select(Enrollment).where(Enrollment.class_id == class_id, Enrollment.patient_id == patient.id)
    )
    if existing is not None and existing.status != EnrollmentStatus.WITHDRAWN:
        raise Conflict(
            f"{patient.full_name} is already {existing.status} in this class; a patient is in a class once.",
            {"patient_mrn": "Already in this class."},
        )
    free = group_class.capacity - seats_taken(class_id)
    status = EnrollmentStatus.ENROLLED if len(ids) <= free else EnrollmentStatus.WAITLISTED
    position = 0
    if status == EnrollmentStatus.WAITLISTED:
        position = (db.session.scalar(
            sa.select(sa.func.max(Enrollment.position)).where(
                Enrollment.class_id == class_id, Enrollment.status == EnrollmentStatus.WAITLISTED)
        ) or 0) + 1
    if existing is None:
        enrollment = Enrollment(class_id=class_id, patient_id=patient.id, status=status, position=position)
        db.session.add(enrollment)
    else:
        enrollment = existing
        enrollment.status, enrollment.position, enrollment.withdrawn_at = status, position, None
        enrollment.members.clear()
        db.session.flush()
    for cid in ids:
        enrollment.members.append(EnrollmentCaregiver(caregiver_id=cid))
    db.session.flush()
    warnings = []
    class_needs = set(group_class.needs or [])
    if class_needs and not class_needs & set(patient.needs or []):
        warnings.append(
            f"{patient.full_name}'s needs ({', '.join(patient.needs or []) or 'none recorded'}) share nothing "
            f"with the focus of this {group_class.training_label.lower()} class "
            f"({', '.join(group_class.needs or []) or 'none given'}): group caregiver training "
            f"({group_class.training_codes}) is for caregivers of patients with similar needs. "
            f"Billing will flag NEEDS_MISMATCH."
        )
    audit.record(
        "enrollment.create", "enrollment", enrollment.id,
        after={"class_id": class_id, "patient_id": patient.id, "caregiver_ids": ids, "status": status,
               "position": position},
    )
    return EnrollResult(enrollment, status, warnings)


def withdraw(enrollment: Enrollment, now: datetime) -> list[Enrollment]:
    """Withdraw a set; promote the first waiting sets that now fit. Returns the promoted."""
    group_class = _lock_class(enrollment.class_id)
    if enrollment.status == EnrollmentStatus.WITHDRAWN:
        return []
    before = {"status": enrollment.status, "position": enrollment.position}
    enrollment.status, enrollment.withdrawn_at, enrollment.position = EnrollmentStatus.WITHDRAWN, now, 0
    db.session.flush()
    audit.record("enrollment.withdraw", "enrollment", enrollment.id, before=before,
                 after={"status": EnrollmentStatus.WITHDRAWN})
    return promote_waiting(group_class)


def promote_waiting(group_class: GroupClass) -> list[Enrollment]:
    free = group_class.capacity - seats_taken(group_class.id)
    waiting = db.session.scalars(
        sa.select(Enrollment)
        .options(selectinload(Enrollment.members))
        .where(Enrollment.class_id == group_class.id, Enrollment.status == EnrollmentStatus.WAITLISTED)
        .order_by(Enrollment.position, Enrollment.id)
    ).all()
    promoted = []
    for candidate in waiting:
        if candidate.seats <= free:
            free -= candidate.seats
            candidate.status, candidate.position = EnrollmentStatus.ENROLLED, 0
            promoted.append(candidate)
            audit.record("enrollment.promote", "enrollment", candidate.id,
                         before={"status": EnrollmentStatus.WAITLISTED}, after={"status": EnrollmentStatus.ENROLLED})
    db.session.flush()
    return promoted


def move_into_class(enrollment: Enrollment) -> Enrollment:
    """Move one waiting set into the class by hand, ahead of its turn, when its seats are free."""
    group_class = _lock_class(enrollment.class_id)
    if enrollment.status != EnrollmentStatus.WAITLISTED:
        raise Conflict(f"{enrollment.patient.full_name}'s caregivers are not on the waitlist.",
                       {"enrollment": f"Already {enrollment.status}."})
    free = group_class.capacity - seats_taken(group_class.id)
    if enrollment.seats > free:
        raise Conflict(
            f"{enrollment.patient.full_name}'s set needs {enrollment.seats} seat{'s' if enrollment.seats != 1 else ''}"
            f" and {free} {'is' if free == 1 else 'are'} free: raise the class's capacity or withdraw a set first.",
            {"enrollment": "Not enough free seats."},
        )
    enrollment.status, enrollment.position = EnrollmentStatus.ENROLLED, 0
    db.session.flush()
    audit.record("enrollment.promote", "enrollment", enrollment.id,
                 before={"status": EnrollmentStatus.WAITLISTED}, after={"status": EnrollmentStatus.ENROLLED, "by_hand": True})
    return enrollment


def class_roster(class_id: int) -> list[Enrollment]:
    """Enrolments of a class with patient and caregivers loaded, in a fixed number of queries."""
    return list(
        db.session.scalars(
            sa.select(Enrollment)
            .options(
                selectinload(Enrollment.patient),
                selectinload(Enrollment.members).selectinload(EnrollmentCaregiver.caregiver),
            )
            .where(Enrollment.class_id == class_id)
            .order_by(Enrollment.status, Enrollment.position, Enrollment.id)
        )
    )
