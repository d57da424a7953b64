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

    It reads the range's findings that sit on a line by the date of service each keeps (its line's,
    ``ix_finding_date_of_service``), not every line of the range nor each finding's line (issue 12: a
    year has ~55,000 lines and a few thousand findings; a voided line keeps no finding, re-evaluation
    removes them with the void). Only the groups shown are joined to their sample finding and patient;
    the others are ordered by their patient's last name alone.
    """
    params = {"date_from": date_from, "date_to": date_to} | ({"limit": limit} if limit is not None else {})
    # plain rows: loading the groups' findings and patients as ORM objects cost more than the query (issue 12)
    rows = db.session.connection().execute(_grouped_findings_statement(limit is not None), params).all()
    out = [FindingGroup(GroupPatient(r.patient_id, r.first_name, r.last_name) if r.first_name is not None else None,
                        r.code, r.severity, r.message, r.n, r.first, r.last, r) for r in rows]
    return out, (rows[0].total if rows else 0)


@cache
def _grouped_findings_statement(limited: bool):
    """Built once, run with the range (and the limit): building it cost as much as running it (issue 12).

    A group's severity is its findings' (every finding of a code has the code's severity, FINDING_CODES;
    were they ever mixed, the group would block)."""
    f = Finding
    groups = (
        sa.select(f.patient_id, f.code, sa.func.min(f.severity).label("severity"),
                  sa.func.count(sa.distinct(f.line_id)).label("n"),
                  sa.func.min(f.date_of_service).label("first"), sa.func.max(f.date_of_service).label("last"),
                  sa.func.min(f.id).label("sample_id"))
        .where(f.line_id.is_not(None), f.date_of_service >= sa.bindparam("date_from"),
               f.date_of_service <= sa.bindparam("date_to"))
        .group_by(f.patient_id, f.code)
        .subquery("finding_group")
    )
    last_name = sa.select(Patient.last_name).where(Patient.id == groups.c.patient_id).scalar_subquery()
    sort_name = sa.func.coalesce(last_name, "").label("sort_name")  # one look-up per group, no join

    def order(of):
        return (sa.case((of.c.severity == "block", 0), else_=1), of.c.n.desc(), of.c.sort_name, of.c.code,
                of.c.patient_id)

    ranked = sa.select(groups, sort_name, sa.func.count().over().label("total")).subquery("ranked")
    shown = sa.select(ranked).order_by(*order(ranked))
    shown = (shown.limit(sa.bindparam("limit", type_=sa.Integer)) if limited else shown).subquery("shown")
    return (
        sa.select(f.id, f.session_id, f.patient_id, f.code, shown.c.severity, f.message,
                  Patient.first_name, Patient.last_name, shown.c.n, shown.c.first, shown.c.last, shown.c.total)
        .join(shown, shown.c.sample_id == f.id)
        .outerjoin(Patient, Patient.id == shown.c.patient_id)
        .order_by(*order(shown))
    )
