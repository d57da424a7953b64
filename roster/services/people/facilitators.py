"""Facilitators: validation, NPI warnings, writes and the list."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from roster.domain.npi import npi_has_shape, npi_is_valid
from roster.extensions import db
from roster.models import DISCIPLINES, Facilitator
from roster.services import ServiceError, audit, billing
from roster.services.validation import reject_unknown, require_object, text

FACILITATOR_AUDIT_FIELDS = ("name", "discipline", "npi", "active")


def validate_facilitator(data: dict, *, partial: bool = False) -> dict[str, Any]:
    require_object(data)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if not partial or "name" in data:
        out["name"] = text(data, "name", errors, required=True, max_len=120, label="Name")
    if not partial or "discipline" in data:
        discipline = data.get("discipline")
        if discipline not in DISCIPLINES:
            errors["discipline"] = f"Discipline must be one of {' '.join(DISCIPLINES)}."
        out["discipline"] = discipline
    if not partial or "npi" in data:
        npi = data.get("npi")
        npi = npi.strip() if isinstance(npi, str) else npi
        if not isinstance(npi, str) or not npi_has_shape(npi):
            errors["npi"] = "NPI must be exactly 10 digits."
        out["npi"] = npi
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = "Active must be true or false."
        out["active"] = data["active"]
    reject_unknown(data, {"name", "discipline", "npi", "active"}, errors)
    if errors:
        raise ServiceError("Some facilitator fields are not valid.", errors)
    return out


def npi_warning(npi: str | None) -> str | None:
    """A warning (not an error) for an NPI whose check digit fails: billing will hold its lines."""
    if npi and npi_has_shape(npi) and not npi_is_valid(npi):
        return (
            f"NPI {npi} fails the NPI check digit. It is saved, but billing will hold this "
            "facilitator's lines (INVALID_NPI) until it is corrected."
        )
    return None


def create_facilitator(data: dict) -> Facilitator:
    clean = validate_facilitator(data)
    facilitator = Facilitator(**clean)
    db.session.add(facilitator)
    db.session.flush()
    audit.record(
        "facilitator.create", "facilitator", facilitator.id,
        after=audit.snapshot(facilitator, FACILITATOR_AUDIT_FIELDS),
    )
    return facilitator


def update_facilitator(facilitator: Facilitator, data: dict) -> Facilitator:
    clean = validate_facilitator(data, partial=True)
    if audit.apply_changes(facilitator, clean, FACILITATOR_AUDIT_FIELDS, "facilitator.update", "facilitator"):
        billing.facts_changed(facilitator_ids=[facilitator.id])
    return facilitator


def all_facilitators(active_only: bool = False) -> list[Facilitator]:
    stmt = sa.select(Facilitator).order_by(Facilitator.name)
    if active_only:
        stmt = stmt.where(Facilitator.active.is_(True))
    return list(db.session.scalars(stmt))
