"""What claims are made of, read from the database in a fixed number of queries.

An export batch is read through the rows it froze at export time (identity,
payer, member id, codes, units, modifiers, diagnoses, rendering NPI: what the
CSV said), plus what the roster does not carry (the patient's address and
sex, the payer list, the fee schedule). Lines not yet exported are read as
they are now (the preflight before an export).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain import claim_preflight as pf
from roster.extensions import db
from roster.models import BillingLine, ClaimSettings, LineCharge, Patient, Payer
from roster.services import clinic


@dataclass(frozen=True)
class BatchLine:
    """One row of an export batch, with what a claim or charge message needs of it."""

    line: BillingLine
    action: str  # "new" or "void"
    row: dict  # the frozen roster row (or the line as it is, for lines exported before rows were kept)
    facts: pf.LineFacts
    modifiers: tuple[str, ...]
    units: int
    place_of_service: str
    rendering_name: str


def clinic_facts(row: ClaimSettings) -> pf.ClinicFacts:
    return pf.ClinicFacts(**{f: getattr(row, f) or "" for f in pf.ClinicFacts.__dataclass_fields__})


def _payer(payers: dict[str, Payer], name: str) -> pf.PayerFacts | None:
    payer = payers.get(clinic.name_key(name or ""))
    if payer is None:
        return None
    return pf.PayerFacts(payer.id, payer.name, payer.payer_id, payer.claim_filing_indicator)


def _charges(line_ids: list[int]) -> dict[int, int]:
    if not line_ids:
        return {}
    return dict(db.session.execute(
        sa.select(LineCharge.billing_line_id, LineCharge.charge_cents)
        .where(LineCharge.billing_line_id.in_(line_ids))).tuples().all())


def _charge(line_id: int, cpt: str, units: int, fixed: dict[int, int], fees: dict[str, int]) -> int | None:
    if line_id in fixed:
        return fixed[line_id]
    return units * fees[cpt] if cpt in fees else None


def _snapshot(line: BillingLine, name: str, patient_name: str | None = None):
    """The claim identity the line was derived with (S6); the patient's own for lines older than that."""
    value = getattr(line, name)
    return value if value is not None else getattr(line.patient, patient_name or name)


def _current_row(line: BillingLine) -> dict:
    dob = _snapshot(line, "patient_dob", "dob")
    return {
        "patient_mrn": _snapshot(line, "patient_mrn", "mrn"),
        "patient_last_name": _snapshot(line, "patient_last_name", "last_name"),
        "patient_first_name": _snapshot(line, "patient_first_name", "first_name"),
        "patient_dob": dob.isoformat() if dob else None, "payer": _snapshot(line, "payer"),
        "member_id": _snapshot(line, "member_id"),
        "cpt": line.cpt, "modifiers": list(line.modifiers or []), "units": line.units,
        "diagnosis_codes": list(line.diagnosis_codes or []), "place_of_service": line.place_of_service,
        "rendering_npi": line.rendering_npi,
        "rendering_name": line.facilitator.name if line.facilitator else None,
        "date_of_service": line.date_of_service.isoformat(),
    }


def _batch_line(line: BillingLine, action: str, row: dict, payers, fees, fixed) -> BatchLine:
    p: Patient = line.patient
    dob = row.get("patient_dob")
    facts = pf.LineFacts(
        line_id=line.id, patient_id=p.id, patient_mrn=row["patient_mrn"],
        patient_name=f"{row['patient_first_name']} {row['patient_last_name']}",
        date_of_service=date.fromisoformat(row["date_of_service"]), cpt=row["cpt"],
        dob=date.fromisoformat(dob) if dob else None, sex=p.sex, member_id=row.get("member_id") or "",
        address_line1=p.address_line1, address_city=p.address_city, address_state=p.address_state,
        address_zip=p.address_zip, payer_name=row.get("payer") or "", payer=_payer(payers, row.get("payer")),
        charge_cents=_charge(line.id, row["cpt"], int(row["units"]), fixed, fees),
        diagnosis_codes=tuple(row.get("diagnosis_codes") or ()), rendering_npi=row.get("rendering_npi"),
        facilitator_id=line.facilitator_id,
    )
    return BatchLine(line, action, row, facts, tuple(row.get("modifiers") or ()), int(row["units"]),
                     row["place_of_service"], row.get("rendering_name") or "")


def batch_lines(batch_id: int) -> list[BatchLine]:
    """The batch's new and void rows, by date of service, session and line."""
    lines = list(db.session.scalars(
        sa.select(BillingLine)
        .options(selectinload(BillingLine.patient), selectinload(BillingLine.facilitator))
        .where(sa.or_(BillingLine.export_batch_id == batch_id, BillingLine.void_batch_id == batch_id))
        .order_by(BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
    ))
    payers, fees, fixed = clinic.payers_by_key(), clinic.fee_schedule(), _charges([l.id for l in lines])
    return [
        _batch_line(l, "void" if l.void_batch_id == batch_id else "new", l.exported_row or _current_row(l),
                    payers, fees, fixed)
        for l in lines
    ]


def ready_lines(date_from: date, date_to: date) -> list[BatchLine]:
    """The ready lines of a range as they would be exported now."""
    lines = list(db.session.scalars(
        sa.select(BillingLine)
        .options(selectinload(BillingLine.patient), selectinload(BillingLine.facilitator))
        .where(BillingLine.status == "ready", BillingLine.date_of_service >= date_from,
               BillingLine.date_of_service <= date_to)
        .order_by(BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
    ))
    payers, fees = clinic.payers_by_key(), clinic.fee_schedule()
    return [_batch_line(l, "new", _current_row(l), payers, fees, {}) for l in lines]


def fix_charges(lines: list[BatchLine]) -> None:
    """Keep each line's charge from now on (the first claim or message that carries it fixes it)."""
    fixed = _charges([bl.line.id for bl in lines])
    new = [{"billing_line_id": bl.line.id, "charge_cents": bl.facts.charge_cents}
           for bl in lines if bl.line.id not in fixed and bl.facts.charge_cents is not None]
    if new:
        db.session.execute(sa.insert(LineCharge), new)
