"""The clinic's answers to the code-family rules: unit caps (R21) and payer profiles.

Billing reads them through `roster.services.billing.policy`; this module changes
the caps and checks the payer-profile fields the clinic service stores with a
payer. Every change is audited and re-evaluates the held sessions whose
unexported lines it touches, through billing's one entry point `facts_changed`
(exported lines are left alone unless that re-evaluation corrects them, R16).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from roster.domain.families import FAMILY_OF_CODE, MEDICARE, TRAININGS, payer_key
from roster.extensions import db
from roster.models import BillingLine, ClassSession, LineStatus, Patient, Payer, UnitCap
from roster.services import Conflict, NotFound, ServiceError, audit, billing

MAX_CAP = 99
CAP_FIELDS = ("cpt", "max_units")
UNEXPORTED = (LineStatus.READY, LineStatus.HELD)
CAP_LOCK = 0x52_21  # advisory-lock class of unit caps (PostgreSQL), "R21"


# --------------------------------------------------------------------------- unit caps


def unit_caps() -> list[UnitCap]:
    return list(db.session.scalars(sa.select(UnitCap).order_by(UnitCap.cpt)))


def cap_dict(cap: UnitCap) -> dict:
    return {"cpt": cap.cpt, "max_units": cap.max_units}


def validate_cap(data: dict) -> tuple[str, int]:
    """(code, units) of a cap: one of the caregiver-training codes (any case), 1 to 99 units."""
    errors: dict[str, str] = {}
    cpt, units = data.get("cpt"), data.get("max_units")
    code = cpt.strip().upper() if isinstance(cpt, str) else ""
    if code not in FAMILY_OF_CODE:
        errors["cpt"] = f"Choose one of the caregiver-training codes: {', '.join(sorted(FAMILY_OF_CODE))}."
    if isinstance(units, str) and units.strip().isdigit():
        units = int(units.strip())
    if not isinstance(units, int) or isinstance(units, bool) or not 1 <= units <= MAX_CAP:
        errors["max_units"] = f"The cap is a whole number of units from 1 to {MAX_CAP}."
    for key in sorted(set(data) - set(CAP_FIELDS)):
        errors[key] = "Unknown field."
    if errors:
        raise ServiceError("The unit cap is not valid.", errors)
    return code, units


def set_unit_cap(data: dict) -> UnitCap:
    """Set (or change) a code's cap; re-evaluates the unexported lines of that code.

    Races end in the database: on PostgreSQL every change of one code's cap first takes a
    transaction-scoped advisory lock on that code (SQLite's single write lock does the same), so a
    change reads the row, locked, after the one before it committed: the audit's "before" is the
    value this change replaced, and a removal meanwhile cannot make it miss both the row and the
    insert (it used to give up after three such misses)."""
    code, units = validate_cap(data)
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(CAP_LOCK, zlib.crc32(code.encode()) - 2**31)))
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(UnitCap)
    before = db.session.scalar(sa.select(UnitCap.max_units).where(UnitCap.cpt == code).with_for_update())
    if before is None:
        if db.session.scalar(insert.values(cpt=code, max_units=units)
                             .on_conflict_do_nothing(index_elements=["cpt"]).returning(UnitCap.id)) is None:
            raise Conflict("The cap was changed at the same moment; send it again.", {"cpt": "Changed meanwhile."})
    else:
        db.session.execute(sa.update(UnitCap).where(UnitCap.cpt == code).values(max_units=units)
                           .execution_options(synchronize_session=False))
    cap = db.session.scalars(sa.select(UnitCap).where(UnitCap.cpt == code)
                             .execution_options(populate_existing=True)).one()
    if before != units:
        audit.record("unit_cap.set", "unit_cap", cap.id,
                     before=None if before is None else {"cpt": code, "max_units": before}, after=cap_dict(cap))
        reevaluate_codes([code])
    return cap


def remove_unit_cap(cpt: str) -> None:
    """Remove a code's cap in one DELETE .. RETURNING (two desks removing it: one 404s)."""
    code = (cpt or "").strip().upper()
    removed = db.session.execute(sa.delete(UnitCap).where(UnitCap.cpt == code)
                                 .returning(UnitCap.id, UnitCap.max_units)
                                 .execution_options(synchronize_session=False)).first()
    if removed is None:
        raise NotFound(f"No unit cap for {cpt}.")
    audit.record("unit_cap.remove", "unit_cap", removed.id, before={"cpt": code, "max_units": removed.max_units})
    reevaluate_codes([code])


# --------------------------------------------------------------------------- payer profiles

PROFILE_FIELDS = ("telehealth_from", "verbal_consent_from", "families")
PROFILE_DATES = (("telehealth_from", "Telehealth covered from", MEDICARE.telehealth_from),
                 ("verbal_consent_from", "Verbal consent counts from", MEDICARE.verbal_consent_from))


def validate_profile(data: dict, errors: dict[str, str], *, partial: bool) -> dict[str, Any]:
    """A payer's profile fields: a date (YYYY-MM-DD) or null/empty (never) for telehealth and
    verbal consent, and the list of families it covers. Left out of a new payer: Medicare's answers."""
    out: dict[str, Any] = {}
    for key, label, medicare in PROFILE_DATES:
        if key not in data:
            if not partial:
                out[key] = medicare
            continue
        value = data[key]
        out[key] = None if value in (None, "") else _iso_date(value)
        if value not in (None, "") and out[key] is None:
            errors[key] = f"{label} is a date written YYYY-MM-DD, or empty for never."
    if "families" in data:
        chosen = data["families"]
        if not isinstance(chosen, list) or not all(isinstance(f, str) and f in TRAININGS for f in chosen):
            errors["families"] = f"Training covered is a list of {', '.join(TRAININGS)} (or empty for none)."
        else:
            out["families"] = [f for f in TRAININGS if f in chosen]
    elif not partial:
        out["families"] = list(TRAININGS)
    return out


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def profile_dict(payer: Payer) -> dict:
    return {
        "telehealth_from": payer.telehealth_from.isoformat() if payer.telehealth_from else None,
        "verbal_consent_from": payer.verbal_consent_from.isoformat() if payer.verbal_consent_from else None,
        "families": list(payer.families or []),
    }


def reevaluate_payers(*name_keys: str) -> list[int]:
    """Re-evaluate the held sessions with an unexported line of a patient whose payer matches
    one of these keys (patients name their payer in free text: matched as billing matches them)."""
    keys = {k for k in name_keys if k}
    ids = [pid for pid, payer in db.session.execute(sa.select(Patient.id, Patient.payer).where(Patient.payer != ""))
           if payer_key(payer) in keys]
    return _reevaluate(BillingLine.patient_id.in_(ids)) if ids else []


# --------------------------------------------------------------------------- re-evaluation


def reevaluate_codes(codes: Iterable[str]) -> list[int]:
    """Re-evaluate the held sessions with an unexported line of one of these codes."""
    return _reevaluate(BillingLine.cpt.in_(list(codes)))


def _reevaluate(which) -> list[int]:
    session_ids = db.session.scalars(
        sa.select(BillingLine.session_id).join(ClassSession, ClassSession.id == BillingLine.session_id)
        .where(which, BillingLine.status.in_(UNEXPORTED), ClassSession.status == "held").distinct()
    ).all()
    return billing.facts_changed(session_ids=session_ids)
