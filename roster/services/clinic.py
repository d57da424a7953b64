"""The clinic's billing settings, payer list and fee schedule; control numbers.

Input is a plain dict (JSON or a form's text); every bad field is reported at
once and nothing is written. Blank settings are allowed (the preflight says
what a claim still needs); what is filled in must be right.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from roster.domain.npi import npi_is_valid
from roster.extensions import db
from roster.models import ClaimSettings, ControlCounter, Fee, Patient, Payer
from roster.services import Conflict, NotFound, ServiceError, audit, families, rows
from roster.services.rows import one

SETTINGS_ID = 1
SETTINGS_FIELDS = (
    "organization_name", "npi", "tax_id", "taxonomy", "address_line1", "address_city", "address_state",
    "address_zip", "contact_name", "contact_phone", "submitter_id", "receiver_id", "receiver_name",
    "x12_usage", "hl7_host", "hl7_port", "hl7_receiving_application", "hl7_receiving_facility",
)
PAYER_FIELDS = ("name", "payer_id", "claim_filing_indicator")
AUDITED_PAYER_FIELDS = PAYER_FIELDS + families.PROFILE_FIELDS  # the profile: rule book R17-R21
# X12 1032 claim filing indicator codes (5010).
FILING_INDICATORS = {
    "09": "Self-pay", "11": "Other non-federal programs", "12": "PPO", "13": "POS", "14": "EPO",
    "15": "Indemnity insurance", "16": "HMO Medicare risk (Medicare Advantage)", "17": "Dental maintenance",
    "AM": "Automobile medical", "BL": "Blue Cross/Blue Shield", "CH": "CHAMPUS (TRICARE)",
    "CI": "Commercial insurance", "DS": "Disability", "FI": "Federal employees program", "HM": "HMO",
    "LM": "Liability medical", "MA": "Medicare Part A", "MB": "Medicare Part B", "MC": "Medicaid",
    "OF": "Other federal program", "TV": "Title V", "VA": "Veterans Affairs plan", "WC": "Workers' compensation",
    "ZZ": "Mutually defined",
}
STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC "
    "ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI".split()
)
CODE_RE = re.compile(r"^[0-9A-Z]{5}$")
TAXONOMY_RE = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
X12_ID_RE = re.compile(r"^[A-Za-z0-9]{2,15}$")
HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,253})$")
TEXT_RE = re.compile(r"^[^*~:^|\\&\r\n]*$")  # no X12 or HL7 delimiters


def clean_text(data: dict, key: str, errors: dict, label: str, max_len: int) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[key] = f"{label} must be text."
        return ""
    value = " ".join(value.split())
    if len(value) > max_len:
        errors[key] = f"{label} must be at most {max_len} characters."
    elif not TEXT_RE.match(value):
        errors[key] = f"{label} may not hold any of * ~ : ^ | \\ & (claim files use them as separators)."
    return value


def clean_state(value: str, key: str, errors: dict) -> str:
    value = value.upper()
    if value and value not in STATES:
        errors[key] = "State must be a two-letter US state code, such as IL."
    return value


def clean_zip(value: str, key: str, errors: dict, *, nine: bool = False) -> str:
    digits = re.sub(r"[\s-]", "", value)
    if not value:
        return ""
    if nine and not re.fullmatch(r"[0-9]{9}", digits):
        errors[key] = "The billing provider's ZIP code needs all nine digits (ZIP+4), such as 60601-1234."
    elif not nine and not re.fullmatch(r"[0-9]{5}([0-9]{4})?", digits):
        errors[key] = "ZIP code must be 5 digits or ZIP+4 (9 digits)."
    return digits


# --------------------------------------------------------------------------- settings


def get_settings() -> ClaimSettings:
    """The settings row; a blank, unsaved one when the clinic has not set any yet."""
    row = db.session.get(ClaimSettings, SETTINGS_ID)
    if row is None:
        row = ClaimSettings(id=SETTINGS_ID, **{f: "" for f in SETTINGS_FIELDS if f != "hl7_port"})
        row.x12_usage, row.hl7_port = "T", None
    return row


def validate_settings(data: dict) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ServiceError("Send a JSON object.", {"body": "Expected an object."})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, label, size in (
        ("organization_name", "Organisation name", 60), ("address_line1", "Address", 55),
        ("address_city", "City", 30), ("contact_name", "Billing contact", 60),
        ("receiver_name", "Receiver name", 60), ("hl7_receiving_application", "Receiving application", 40),
        ("hl7_receiving_facility", "Receiving facility", 40),
    ):
        if key in data:
            out[key] = clean_text(data, key, errors, label, size)
    if "npi" in data:
        npi = clean_text(data, "npi", errors, "NPI", 10)
        if npi and not npi_is_valid(npi):
            errors["npi"] = "This NPI is not valid: 10 digits whose check digit is right (for example 1234567893)."
        out["npi"] = npi
    if "tax_id" in data:
        tax = re.sub(r"[\s-]", "", clean_text(data, "tax_id", errors, "Tax id", 12))
        if tax and not re.fullmatch(r"[0-9]{9}", tax):
            errors["tax_id"] = "Tax id (EIN) must be 9 digits, such as 36-1234567."
        out["tax_id"] = tax
    if "taxonomy" in data:
        tax = clean_text(data, "taxonomy", errors, "Taxonomy", 10).upper()
        if tax and not TAXONOMY_RE.match(tax):
            errors["taxonomy"] = "Taxonomy must be a 10-character provider taxonomy code, such as 225100000X."
        out["taxonomy"] = tax
    if "address_state" in data:
        out["address_state"] = clean_state(clean_text(data, "address_state", errors, "State", 2), "address_state", errors)
    if "address_zip" in data:
        out["address_zip"] = clean_zip(clean_text(data, "address_zip", errors, "ZIP code", 10), "address_zip",
                                       errors, nine=True)
    if "contact_phone" in data:
        phone = re.sub(r"[^0-9]", "", clean_text(data, "contact_phone", errors, "Phone", 20))
        if phone and len(phone) != 10:
            errors["contact_phone"] = "Phone must be a 10-digit US number, such as (312) 555-0100."
        out["contact_phone"] = phone
    for key, label in (("submitter_id", "Submitter id"), ("receiver_id", "Receiver id")):
        if key in data:
            value = clean_text(data, key, errors, label, 15)
            if value and not X12_ID_RE.match(value):
                errors[key] = f"{label} must be 2 to 15 letters or digits, as the clearinghouse gave it."
            out[key] = value
    if "x12_usage" in data:
        if data["x12_usage"] not in ("T", "P"):
            errors["x12_usage"] = "Choose T (test files) or P (production)."
        out["x12_usage"] = data["x12_usage"]
    if "hl7_host" in data:
        host = clean_text(data, "hl7_host", errors, "Interface engine host", 255)
        if host and not HOST_RE.match(host):
            errors["hl7_host"] = "Host must be a host name or IP address, such as engine.hospital.org."
        out["hl7_host"] = host
    if "hl7_port" in data:
        out["hl7_port"] = _port(data["hl7_port"], errors)
    for key in sorted(set(data) - set(SETTINGS_FIELDS)):
        errors[key] = "Unknown field."
    if errors:
        raise ServiceError("Some billing settings are not valid.", errors)
    return out


def _port(value: Any, errors: dict) -> int | None:
    if value is None or value == "":
        return None
    try:
        port = int(str(value).strip())
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        errors["hl7_port"] = "Port must be a whole number from 1 to 65535."
        return None
    return port


def update_settings(data: dict) -> ClaimSettings:
    clean = validate_settings(data)
    row = db.session.get(ClaimSettings, SETTINGS_ID)
    if row is None:
        row = get_settings()
        db.session.add(row)
        db.session.flush()
    audit.apply_changes(row, clean, SETTINGS_FIELDS, "settings.update", "clinic_settings")
    db.session.flush()
    return row


def settings_dict(row: ClaimSettings) -> dict:
    return {f: getattr(row, f) for f in SETTINGS_FIELDS}


# --------------------------------------------------------------------------- payers


def name_key(name: str) -> str:
    return " ".join(name.split()).lower()


def all_payers() -> list[Payer]:
    return list(db.session.scalars(sa.select(Payer).order_by(Payer.name_key)))


def payers_by_key() -> dict[str, Payer]:
    """The payer list by folded name: a patient's ``payer`` text finds its payer here."""
    return {p.name_key: p for p in all_payers()}


def payer_for(name: str | None) -> Payer | None:
    if not name:
        return None
    return db.session.scalar(sa.select(Payer).where(Payer.name_key == name_key(name)))


def validate_payer(data: dict, *, partial: bool = False) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ServiceError("Send a JSON object.", {"body": "Expected an object."})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if not partial or "name" in data:
        out["name"] = clean_text(data, "name", errors, "Payer name", 80)
        if not out["name"] and "name" not in errors:
            errors["name"] = "Payer name is required."
    if not partial or "payer_id" in data:
        value = clean_text(data, "payer_id", errors, "Payer id", 80)
        if value and not re.fullmatch(r"[A-Za-z0-9]{2,80}", value):
            errors["payer_id"] = "Payer id must be letters and digits, as the clearinghouse lists it."
        out["payer_id"] = value
    if not partial or "claim_filing_indicator" in data:
        value = clean_text(data, "claim_filing_indicator", errors, "Claim filing indicator", 2).upper()
        if value not in FILING_INDICATORS:
            errors["claim_filing_indicator"] = "Choose a claim filing indicator, such as MB (Medicare Part B)."
        out["claim_filing_indicator"] = value
    out.update(families.validate_profile(data, errors, partial=partial))  # telehealth, consent, families
    for key in sorted(set(data) - set(AUDITED_PAYER_FIELDS)):
        errors[key] = "Unknown field."
    if errors:
        raise ServiceError("Some payer fields are not valid.", errors)
    if "name" in out:
        out["name_key"] = name_key(out["name"])
    return out


def _name_taken(key: str, payer_id: int | None) -> None:
    stmt = sa.select(Payer.id).where(Payer.name_key == key)
    if payer_id is not None:
        stmt = stmt.where(Payer.id != payer_id)
    if db.session.scalar(stmt) is not None:
        raise Conflict("A payer with this name is already on the list.", {"name": "Already on the list."})


def create_payer(data: dict) -> Payer:
    clean = validate_payer(data)
    _name_taken(clean["name_key"], None)
    payer = rows.create(Payer, clean, "payer.create", lambda p: audit.snapshot(p, AUDITED_PAYER_FIELDS))
    families.reevaluate_payers(payer.name_key)  # its patients now follow its profile
    return payer


def update_payer(payer: Payer, data: dict) -> Payer:
    clean = validate_payer(data, partial=True)
    if "name_key" in clean:
        _name_taken(clean["name_key"], payer.id)
        if clean["name_key"] != payer.name_key:  # patients follow their payer's new name
            db.session.execute(
                sa.update(Patient).where(sa.func.lower(sa.func.trim(Patient.payer)) == payer.name_key)
                .values(payer=clean["name"]).execution_options(synchronize_session=False)
            )
    old_key = payer.name_key
    if audit.apply_changes(payer, clean, AUDITED_PAYER_FIELDS, "payer.update", "payer"):
        families.reevaluate_payers(old_key, payer.name_key)  # unexported lines follow the profile
    db.session.flush()
    return payer


def get_payer(payer_id: int) -> Payer:
    return one(Payer, payer_id)


def payer_dict(p: Payer) -> dict:
    return {"id": p.id, "name": p.name, "payer_id": p.payer_id, "claim_filing_indicator": p.claim_filing_indicator,
            **families.profile_dict(p)}


# --------------------------------------------------------------------------- fee schedule


def fee_schedule() -> dict[str, int]:
    """Charge per unit in cents, by code."""
    return dict(db.session.execute(sa.select(Fee.cpt, Fee.charge_cents)).tuples().all())


def parse_charge(value: Any, key: str, errors: dict) -> int | None:
    try:
        amount = Decimal(str(value).strip().lstrip("$").replace(",", ""))
    except (InvalidOperation, ValueError):
        amount = Decimal(-1)
    if not amount.is_finite() or amount <= 0 or amount >= 100000 or amount != amount.quantize(Decimal("0.01")):
        errors[key] = "Charge must be an amount in dollars above 0, such as 42.50."
        return None
    return int(amount * 100)


def set_fee(cpt: Any, charge: Any) -> Fee:
    errors: dict[str, str] = {}
    code = cpt.strip().upper() if isinstance(cpt, str) else ""
    if not CODE_RE.match(code):
        errors["cpt"] = "Code must be a five-character CPT or HCPCS code, such as 97552."
    cents = parse_charge(charge, "charge", errors)
    if errors:
        raise ServiceError("The fee is not valid.", errors)
    fee = db.session.scalar(sa.select(Fee).where(Fee.cpt == code))
    before = {"cpt": code, "charge_cents": fee.charge_cents} if fee else None
    if fee is None:
        fee = Fee(cpt=code, charge_cents=cents)
        db.session.add(fee)
    fee.charge_cents = cents
    db.session.flush()
    if before != {"cpt": code, "charge_cents": cents}:
        audit.record("fee.set", "fee", fee.id, before=before, after={"cpt": code, "charge_cents": cents})
    return fee


def remove_fee(cpt: str) -> None:
    fee = db.session.scalar(sa.select(Fee).where(Fee.cpt == cpt))
    if fee is None:
        raise NotFound(f"No fee for {cpt}.")
    audit.record("fee.remove", "fee", fee.id, before={"cpt": fee.cpt, "charge_cents": fee.charge_cents})
    db.session.delete(fee)
    db.session.flush()


# --------------------------------------------------------------------------- control numbers


def next_number(name: str) -> int:
    """The next value of a counter, taken atomically in the database: never the same twice."""
    return next_numbers(name, 1)[0]


def next_numbers(name: str, count: int) -> range:
    """``count`` consecutive values of a counter, taken at once: never the same twice.

    The row is made on first use (INSERT .. ON CONFLICT DO NOTHING), then one
    UPDATE .. RETURNING raises it by ``count``; a concurrent taker waits on the row lock.
    """
    if count < 1:
        return range(0)
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ControlCounter)
    db.session.execute(insert.values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"]))
    last = db.session.execute(
        sa.update(ControlCounter).where(ControlCounter.name == name)
        .values(value=ControlCounter.value + count).returning(ControlCounter.value)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return range(last - count + 1, last + 1)
