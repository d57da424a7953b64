"""Read-only page data for the schedule pages, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.statuses import EnrollmentStatus, SessionStatus
from roster.extensions import db
from roster.models import CaregiverLink, ClassSession, Enrollment, EnrollmentCaregiver, GroupClass, Patient
from roster.services.rows import one
from roster.services.scheduling.enrolment import class_roster


@dataclass(frozen=True)
class ClassSummary:
    group_class: GroupClass  # facilitator loaded
    next_start: datetime | None  # the next scheduled session not yet over
    seats_taken: int
    waiting: int  # waitlisted sets


@dataclass(frozen=True)
class ClassListPage:
    summaries: list[ClassSummary]
    page: int
    pages: int


def class_summaries(now: datetime, page: int = 1, per_page: int = 50, archived: bool | None = None) -> ClassListPage:
    """One page of the classes, with next session, seats taken and waitlist, in five queries.

    ``archived``: only archived classes (True), only current ones (False), or all (None).

    Classes with a session to come are listed first, soonest first; the others by title.
    Ordered and paged in the database, so the list costs the same for 20 classes or 2,000.
    """
    upcoming = (
        sa.select(ClassSession.class_id, sa.func.min(ClassSession.starts_at).label("next_start"))
        .where(ClassSession.status == SessionStatus.SCHEDULED, ClassSession.ends_at > now)
        .group_by(ClassSession.class_id)
        .subquery()
    )
    which = sa.true() if archived is None else (
        GroupClass.archived_at.is_not(None) if archived else GroupClass.archived_at.is_(None))
    total = db.session.scalar(sa.select(sa.func.count(GroupClass.id)).where(which))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        sa.select(GroupClass, upcoming.c.next_start)
        .outerjoin(upcoming, upcoming.c.class_id == GroupClass.id)
        .where(which)
        .options(selectinload(GroupClass.facilitator))
        .order_by(upcoming.c.next_start.is_(None), upcoming.c.next_start, GroupClass.title, GroupClass.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).tuples().all()
    ids = [c.id for c, _ in rows]
    seats = dict(db.session.execute(
        sa.select(Enrollment.class_id, sa.func.count(EnrollmentCaregiver.id))
        .join(EnrollmentCaregiver, EnrollmentCaregiver.enrollment_id == Enrollment.id)
        .where(Enrollment.status == EnrollmentStatus.ENROLLED, Enrollment.class_id.in_(ids))
        .group_by(Enrollment.class_id)
    ).all()) if ids else {}
    waiting = dict(db.session.execute(
        sa.select(Enrollment.class_id, sa.func.count(Enrollment.id))
        .where(Enrollment.status == EnrollmentStatus.WAITLISTED, Enrollment.class_id.in_(ids))
        .group_by(Enrollment.class_id)
    ).all()) if ids else {}
    summaries = [ClassSummary(c, start, seats.get(c.id, 0), waiting.get(c.id, 0)) for c, start in rows]
    return ClassListPage(summaries, page, pages)


@dataclass(frozen=True)
class ClassPage:
    group_class: GroupClass  # facilitator and sessions (with their planned facilitator) loaded
    enrolled: list[Enrollment]  # patient and caregivers loaded
    waitlisted: list[Enrollment]  # in waitlist order

    @property
    def seats_taken(self) -> int:
        return sum(e.seats for e in self.enrolled)

    @property
    def seats_left(self) -> int:
        return max(0, self.group_class.capacity - self.seats_taken)

    def status_of(self, patient_id: int) -> str | None:
        """'enrolled' or 'waitlisted' when the patient is in the class."""
        for enrollment in (*self.enrolled, *self.waitlisted):
            if enrollment.patient_id == patient_id:
                return enrollment.status
        return None


def class_page(class_id: int) -> ClassPage:
    """A class, its sessions and its caregiver sets, in a fixed number of queries."""
    group_class = one(GroupClass, class_id, selectinload(GroupClass.facilitator),
                      selectinload(GroupClass.sessions).selectinload(ClassSession.planned_facilitator))
    roster = class_roster(class_id)
    return ClassPage(
        group_class,
        enrolled=[e for e in roster if e.status == EnrollmentStatus.ENROLLED],
        waitlisted=sorted((e for e in roster if e.status == EnrollmentStatus.WAITLISTED), key=lambda e: (e.position, e.id)),
    )


def patient_for_enrolment(patient_id: int) -> Patient:
    """A patient with their caregiver links and caregivers loaded."""
    return one(Patient, patient_id, selectinload(Patient.links).selectinload(CaregiverLink.caregiver),
               fields={"patient_id": "Unknown patient."})
