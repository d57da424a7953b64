"""The biller's overview of a range: what an export would take, and the findings grouped by patient and code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

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
class GroupPatient:
    id: int
    first_name: str
    last_name: str


@dataclass(frozen=True)
class FindingGroup:
    """Identical findings of one patient on lines of the range (e.g. six times the same missing consent)."""

    patient: GroupPatient | None
    code: str
    severity: str
    message: str
    lines: int
    first: date
    last: date
    sample: sa.Row  # one of them (id, session_id, patient_id, code, severity, message), for its fix link


def grouped_findings(date_from: date, date_to: date, limit: int | None = None) -> tuple[list[FindingGroup], int]:
    """The findings on the range's billable lines, one group per patient and code: the first ``limit``
    groups (blocking first, then those on the most lines, by patient and code) and how many groups
    there are, in one query.

    It reads the findings that sit on a line and looks up each one's line by its key (a correlated
    subquery, evaluated once per finding), rather than every line of the range and the findings of each: a year has ~55,000 lines
    and a few thousand findings.
    """
    params = {"date_from": date_from, "date_to": date_to} | ({"limit": limit} if limit is not None else {})
    # plain rows: loading the groups' findings and patients as ORM objects cost more than the query (issue 12)
    rows = db.session.execute(_grouped_findings_statement(limit is not None), params).all()
    out = [FindingGroup(GroupPatient(r.patient_id, r.first_name, r.last_name) if r.first_name is not None else None,
                        r.code, r.severity, r.message, r.n, r.first, r.last, r) for r in rows]
    return out, (rows[0].total if rows else 0)


@cache
def _grouped_findings_statement(limited: bool):
    """Built once, run with the range (and the limit): building it cost as much as running it (issue 12)."""
    dos = (sa.select(BillingLine.date_of_service)
           .where(BillingLine.id == Finding.line_id, BillingLine.status != LineStatus.VOID)
           .scalar_subquery())
    on_lines = (sa.select(Finding.id, Finding.patient_id, Finding.code, Finding.line_id, dos.label("dos"))
                .where(Finding.line_id.is_not(None))
                .cte("on_lines").prefix_with("MATERIALIZED"))  # one look-up per finding, not one per use of dos
    groups = (
        sa.select(on_lines.c.patient_id, on_lines.c.code, sa.func.count(sa.distinct(on_lines.c.line_id)).label("n"),
                  sa.func.min(on_lines.c.dos).label("first"), sa.func.max(on_lines.c.dos).label("last"),
                  sa.func.min(on_lines.c.id).label("sample_id"))
        .where(on_lines.c.dos >= sa.bindparam("date_from"), on_lines.c.dos <= sa.bindparam("date_to"))
        .group_by(on_lines.c.patient_id, on_lines.c.code)
        .subquery()
    )
    stmt = (
        sa.select(Finding.id, Finding.session_id, Finding.patient_id, Finding.code, Finding.severity, Finding.message,
                  Patient.first_name, Patient.last_name,
                  groups.c.n, groups.c.first, groups.c.last, sa.func.count().over().label("total"))
        .join(groups, groups.c.sample_id == Finding.id)
        .outerjoin(Patient, Patient.id == Finding.patient_id)
        .order_by(sa.case((Finding.severity == "block", 0), else_=1), groups.c.n.desc(),
                  sa.func.coalesce(Patient.last_name, ""), Finding.code, Finding.patient_id)
    )
    return stmt.limit(sa.bindparam("limit", type_=sa.Integer)) if limited else stmt
