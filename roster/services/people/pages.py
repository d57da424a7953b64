"""Read-only page data for the people pages, each in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.extensions import db
from roster.models import (
    BillingLine,
    Caregiver,
    CaregiverLink,
    CheckIn,
    ClassSession,
    Enrollment,
    EnrollmentCaregiver,
    Patient,
    PatientPresence,
)
from roster.services.paging import Page, paginate
from roster.services.rows import one


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
    attendance: Page[Attendance]  # latest first, one page (a long stay grows it session by session)
    lines: Page[BillingLine] | None  # with findings and session, one page; None: the viewer may not see billing


def patient_overview(patient_id: int, *, with_billing: bool, attendance_page: int | None = None,
                     lines_page: int | None = None, per_page: int = 25) -> PatientOverview:
    patient = one(Patient, patient_id)
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
    lines = _patient_lines(patient_id, lines_page, per_page) if with_billing else None
    return PatientOverview(patient, list(links), list(enrollments), _attendance(patient_id, attendance_page, per_page),
                           lines)


def _attendance(patient_id: int, page: int | None, per_page: int) -> Page[Attendance]:
    """One page of the sessions the patient's caregivers came to or the patient was at, latest first."""
    attended = sa.union(  # (by the patient's indexes: never a walk over every session)
        sa.select(CheckIn.session_id).where(CheckIn.patient_id == patient_id),
        sa.select(PatientPresence.session_id).where(PatientPresence.patient_id == patient_id),
    ).subquery()
    sessions = paginate(
        sa.select(ClassSession).where(ClassSession.id.in_(sa.select(attended.c.session_id)))
        .order_by(ClassSession.starts_at.desc(), ClassSession.id.desc()),
        page, per_page, options=(selectinload(ClassSession.group_class),))
    shown = [s.id for s in sessions.items]
    came = db.session.execute(
        sa.select(CheckIn.session_id, Caregiver.first_name, Caregiver.last_name)
        .join(Caregiver, Caregiver.id == CheckIn.caregiver_id)
        .where(CheckIn.patient_id == patient_id, CheckIn.session_id.in_(shown))
        .order_by(Caregiver.last_name, Caregiver.first_name, Caregiver.id)
    ).all() if shown else []
    present = set(db.session.scalars(
        sa.select(PatientPresence.session_id).where(PatientPresence.patient_id == patient_id,
                                                    PatientPresence.session_id.in_(shown))
    )) if shown else set()
    names: dict[int, list[str]] = defaultdict(list)
    for row in came:
        names[row.session_id].append(f"{row.first_name} {row.last_name}")
    return replace(sessions, items=[Attendance(s, tuple(names[s.id]), s.id in present) for s in sessions.items])


def _patient_lines(patient_id: int, page: int | None, per_page: int) -> Page[BillingLine]:
    return paginate(
        sa.select(BillingLine)
        .where(BillingLine.patient_id == patient_id)
        .order_by(BillingLine.date_of_service.desc(), BillingLine.id.desc()),
        page, per_page,
        options=(selectinload(BillingLine.findings),
                 selectinload(BillingLine.session).selectinload(ClassSession.group_class)))
