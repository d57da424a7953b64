"""Reading billing: line and finding dictionaries, a session's billing, lines of a range."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.extensions import db
from roster.models import BillingLine, ClassSession, Finding, Patient
from roster.services import ServiceError
from roster.services.billing.facts import date_of_service
from roster.services.billing.statements import Together


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


_L, _F, _P = BillingLine.__table__, Finding.__table__, Patient.__table__
_SHOWN = ("id", "session_id", "date_of_service", "cpt", "units", "modifiers", "place_of_service", "diagnosis_codes",
          "rendering_npi", "status", "export_batch_id", "void_batch_id")  # of a line, with its patient's MRN
_FINDING = ("id", "line_id", "patient_id", "code", "severity", "rule", "message")  # with its patient's MRN


def _session_billing_parts(kind: str) -> list[sa.Select]:
    session = sa.bindparam("session", type_=sa.Integer())
    return [
        sa.select(*(_L.c[name] for name in _SHOWN), _P.c.mrn).join(_P, _P.c.id == _L.c.patient_id)
        .where(_L.c.session_id == session),
        sa.select(*(_F.c[name] for name in _FINDING), _P.c.mrn).outerjoin(_P, _P.c.id == _F.c.patient_id)
        .where(_F.c.session_id == session),
    ]


# a session's lines and findings with their patients' MRNs: one statement of the columns shown
_SESSION_BILLING = Together(_session_billing_parts)


def session_billing(session: ClassSession) -> dict:
    """A session's billing as the API answers it: its lines (void ones too) with their findings, and
    its findings once per patient and code, all in id order; each with its patient's MRN as it is now."""
    line_rows, finding_rows = _SESSION_BILLING.apart({"session": session.id})
    return billing_answer(session, sorted(line_rows), [row[1:] for row in sorted(finding_rows)])


def billing_answer(session: ClassSession, lines: list[tuple], findings: list[tuple]) -> dict:
    """`session_billing`'s answer from the session's lines ((id, session, date, cpt, units, modifiers, place,
    diagnoses, npi, status, export batch, void batch, its patient's MRN), in id order) and findings ((line,
    patient, code, severity, rule, message, its patient's MRN), in id order)."""
    on_line: dict[int, list[dict]] = {}
    seen, top = set(), []
    for line_id, patient_id, code, severity, rule, message, mrn in findings:
        shown = {"code": code, "severity": severity, "rule": rule, "patient_mrn": mrn, "message": message}
        if line_id is not None:
            on_line.setdefault(line_id, []).append(shown)
        if (patient_id, code) not in seen:
            seen.add((patient_id, code))
            top.append(shown)
    out = []
    for line_id, session_id, day, cpt, units, modifiers, place, diagnoses, npi, status, batch, void_batch, mrn in lines:
        out.append({
            "id": line_id, "session_id": session_id, "date_of_service": day.isoformat(), "patient_mrn": mrn,
            "cpt": cpt, "units": units, "modifiers": list(modifiers or []), "place_of_service": place,
            "diagnosis_codes": list(diagnoses or []), "rendering_npi": npi, "status": status,
            "export_batch_id": batch, "void_batch_id": void_batch,
            # a line's findings name the line's patient (a finding on a line is about its patient)
            "findings": [shown | {"patient_mrn": mrn} for shown in on_line.get(line_id, [])],
        })
    return {
        "session_id": session.id,
        "status": session.status,
        "date_of_service": date_of_service(session).isoformat(),
        "lines": out,
        "findings": top,
    }


class SessionAnswer:
    """One session's billing as `session_billing` answers it, made from what a re-evaluation of the session
    read and wrote (`facts_changed(answer=…)`: the API close) instead of read back. Re-evaluation hands over
    the session's lines and findings as they now stand, in id order, each with its patient (`fill`), and the
    MRNs of the patients it read (their facts: as stored now, read in this transaction); another patient's
    (a void line's, no longer attending) is asked for. Not filled (the session was not evaluated): read."""

    def __init__(self, session: ClassSession) -> None:
        self.session = session
        self._filled: tuple[list[tuple], list[tuple], dict[int, str]] | None = None

    def fill(self, lines: list[tuple], findings: list[tuple], mrns: dict[int, str]) -> None:
        """``lines`` as `billing_answer` takes them and ``findings`` without their MRNs, each ending with its
        patient's id instead (a finding's may be None); ``mrns``: patient -> MRN."""
        self._filled = (lines, findings, mrns)

    def billing(self) -> dict:
        if self._filled is None:
            return session_billing(self.session)
        lines, findings, mrns = self._filled
        missing = {row[-1] for row in lines + findings if row[-1] is not None} - mrns.keys()
        if missing:
            mrns = mrns | dict(db.session.execute(sa.select(Patient.id, Patient.mrn).where(Patient.id.in_(missing))).tuples().all())
        return billing_answer(self.session, [row[:-1] + (mrns[row[-1]],) for row in lines],
                              [row[:-1] + (None if row[-1] is None else mrns[row[-1]],) for row in findings])


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
