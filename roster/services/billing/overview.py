"""The biller's overview of a range: what an export would take, and the findings grouped by patient and code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from roster.domain.statuses import LineStatus
from roster.extensions import db
from roster.models import BillingLine, Finding, Patient


@dataclass(frozen=True)
class ExportPreview:
    new_lines: int  # ready lines not exported yet
    voids: int  # exported lines voided since, whose void row is not sent yet
    held: int  # lines that wait for a fix and are not exported


def export_preview(date_from: date, date_to: date) -> ExportPreview:
    """One query: the counts ``export_range`` would take now for the same range."""
    line = BillingLine
    new = sa.and_(line.status == LineStatus.READY, line.export_batch_id.is_(None))
    void = sa.and_(line.status == LineStatus.VOID, line.export_batch_id.is_not(None), line.void_batch_id.is_(None))
    held = line.status == LineStatus.HELD
    as_int = lambda cond: sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)  # noqa: E731
    row = db.session.execute(
        sa.select(as_int(new), as_int(void), as_int(held))
        .where(line.date_of_service >= date_from, line.date_of_service <= date_to)
    ).one()
    return ExportPreview(int(row[0]), int(row[1]), int(row[2]))


@dataclass(frozen=True)
class FindingGroup:
    """Identical findings of one patient on lines of the range (e.g. six times the same missing consent)."""

    patient: Patient
    code: str
    severity: str
    message: str
    lines: int
    first: date
    last: date
    sample: Finding  # one of them, for its fix link


def grouped_findings(date_from: date, date_to: date) -> list[FindingGroup]:
    """The findings on the range's billable lines, one group per patient and code (one query)."""
    in_range = sa.and_(BillingLine.date_of_service >= date_from, BillingLine.date_of_service <= date_to,
                       BillingLine.status != LineStatus.VOID)
    groups = (
        sa.select(Finding.patient_id, Finding.code, sa.func.count(sa.distinct(BillingLine.id)).label("n"),
                  sa.func.min(BillingLine.date_of_service).label("first"),
                  sa.func.max(BillingLine.date_of_service).label("last"),
                  sa.func.min(Finding.id).label("sample_id"))
        .join(BillingLine, BillingLine.id == Finding.line_id)
        .where(in_range)
        .group_by(Finding.patient_id, Finding.code)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Finding, Patient, groups.c.n, groups.c.first, groups.c.last)
        .join(groups, groups.c.sample_id == Finding.id)
        .outerjoin(Patient, Patient.id == Finding.patient_id)
    ).tuples().all()
    out = [FindingGroup(patient, f.code, f.severity, f.message, n, first, last, f)
           for f, patient, n, first, last in rows]
    out.sort(key=lambda g: (g.severity != "block", -g.lines, g.patient.last_name if g.patient else "", g.code))
    return out
