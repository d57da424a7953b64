"""Reading billing: line and finding dictionaries, a session's billing, lines of a range."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.extensions import db
from roster.models import BillingLine, ClassSession, Finding
from roster.services import ServiceError
from roster.services.billing.facts import date_of_service


def line_dict(line: BillingLine, mrn: str | None = None) -> dict:
    return {
        "id": line.id,
        "session_id": line.session_id,
        "date_of_service": line.date_of_service.isoformat(),
        "patient_mrn": mrn or line.patient.mrn,
        "cpt": line.cpt,
        "units": line.units,
        "modifiers": list(line.modifiers or []),
        "place_of_service": line.place_of_service,
        "diagnosis_codes": list(line.diagnosis_codes or []),
        "rendering_npi": line.rendering_npi,
        "status": line.status,
        "export_batch_id": line.export_batch_id,
        "void_batch_id": line.void_batch_id,
        "findings": [finding_dict(f, mrn or line.patient.mrn) for f in line.findings],
    }


def finding_dict(f: Finding, mrn: str | None) -> dict:
    return {"code": f.code, "severity": f.severity, "rule": f.rule, "patient_mrn": mrn, "message": f.message}


def _line_options():
    return (selectinload(BillingLine.patient), selectinload(BillingLine.findings))


def session_billing(session: ClassSession) -> dict:
    lines = db.session.scalars(
        sa.select(BillingLine).options(*_line_options())
        .where(BillingLine.session_id == session.id).order_by(BillingLine.id)
    ).all()
    findings = db.session.scalars(
        sa.select(Finding).options(selectinload(Finding.patient))
        .where(Finding.session_id == session.id).order_by(Finding.id)
    ).all()
    seen, top = set(), []
    for f in findings:
        key = (f.patient_id, f.code)
        if key not in seen:
            seen.add(key)
            top.append(finding_dict(f, f.patient.mrn if f.patient else None))
    return {
        "session_id": session.id,
        "status": session.status,
        "date_of_service": date_of_service(session).isoformat(),
        "lines": [line_dict(l) for l in lines],
        "findings": top,
    }


def lines_between(
    date_from: date, date_to: date, status: str | None = None, *, limit: int | None = None, offset: int = 0
) -> list[BillingLine]:
    """Lines by date of service (inclusive), in a stable order; ``limit``/``offset`` read one window."""
    stmt = (
        sa.select(BillingLine).options(*_line_options())
        .where(_in_range(date_from, date_to))
        .order_by(BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
    )
    if status:
        stmt = stmt.where(BillingLine.status == status)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(db.session.scalars(stmt))


MAX_RANGE_DAYS = 366 * 3


def range_problems(date_from: date, date_to: date) -> dict[str, str]:
    """What is wrong with a from-to range of dates of service (empty when nothing)."""
    if date_from > date_to:
        return {"to": "The range must end on or after its start."}
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        return {"to": "Choose a range of at most three years."}
    return {}


def parse_range(data_from, data_to) -> tuple[date, date]:
    errors = {}
    out = []
    for key, value in (("from", data_from), ("to", data_to)):
        try:
            out.append(date.fromisoformat(value) if isinstance(value, str) else None)
        except ValueError:
            out.append(None)
        if out[-1] is None:
            errors[key] = "A date written YYYY-MM-DD is required."
    if not errors:
        errors = range_problems(out[0], out[1])
    if errors:
        raise ServiceError("The date range is not valid.", errors)
    return out[0], out[1]


def _in_range(date_from: date, date_to: date):
    return sa.and_(BillingLine.date_of_service >= date_from, BillingLine.date_of_service <= date_to)
