"""Claim preflight: what keeps a line off a valid 837P claim or HL7 charge message.

Pure: facts in, problems out. Each problem names the line (or the clinic),
says what is missing in words a biller understands, and says where it is
fixed (``fix``: a kind and an id the pages turn into a link).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from roster.domain.npi import npi_is_valid

X12 = "837"
HL7 = "hl7"


@dataclass(frozen=True)
class ClinicFacts:
    organization_name: str
    npi: str
    tax_id: str
    taxonomy: str
    address_line1: str
    address_city: str
    address_state: str
    address_zip: str
    contact_name: str
    contact_phone: str
    submitter_id: str
    receiver_id: str
    receiver_name: str


@dataclass(frozen=True)
class PayerFacts:
    """A payer as a claim names it (also the 837P's payer, 2010BB); ``id`` is its row in the payer
    list, for fix links (None on a claim read back from what was sent)."""

    id: int | None
    name: str
    payer_id: str
    filing_indicator: str


@dataclass(frozen=True)
class LineFacts:
    line_id: int
    patient_id: int
    patient_mrn: str
    patient_name: str
    date_of_service: date
    cpt: str
    dob: date | None
    sex: str | None
    member_id: str
    address_line1: str
    address_city: str
    address_state: str
    address_zip: str
    payer_name: str
    payer: PayerFacts | None
    charge_cents: int | None  # per line (units x fee), None when the code has no fee
    diagnosis_codes: tuple[str, ...]
    rendering_npi: str | None
    facilitator_id: int | None


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    fix_kind: str  # settings, patient, payer, payer_list, fee, facilitator
    fix_id: int | str | None
    line_id: int | None = None
    patient_mrn: str | None = None
    date_of_service: date | None = None
    cpt: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "line_id": self.line_id,
                "patient_mrn": self.patient_mrn, "cpt": self.cpt,
                "date_of_service": self.date_of_service.isoformat() if self.date_of_service else None}


_CLINIC_LABELS_837 = (
    ("organization_name", "organisation name"), ("npi", "a valid organisation NPI"), ("tax_id", "tax id"),
    ("taxonomy", "taxonomy code"), ("address_line1", "street address"), ("address_city", "city"),
    ("address_state", "state"), ("address_zip", "nine-digit ZIP code"), ("contact_name", "billing contact"),
    ("contact_phone", "contact phone"), ("submitter_id", "submitter id"), ("receiver_id", "receiver id"),
    ("receiver_name", "receiver name"),
)
_CLINIC_LABELS_HL7 = (("organization_name", "organisation name"),)


def clinic_problems(clinic: ClinicFacts, purpose: str = X12) -> list[Problem]:
    labels = _CLINIC_LABELS_837 if purpose == X12 else _CLINIC_LABELS_HL7
    missing = []
    for key, label in labels:
        value = getattr(clinic, key)
        if key == "npi":
            ok = npi_is_valid(value)
        elif key == "address_zip":
            ok = bool(re.fullmatch(r"[0-9]{9}", value or ""))
        else:
            ok = bool(value)
        if not ok:
            missing.append(label)
    if not missing:
        return []
    return [Problem("CLINIC_INCOMPLETE", "The clinic's billing settings lack: " + ", ".join(missing) + ".",
                    "settings", None)]


# What a patient's record lacks, by code: the rules run on each line here and, for a page of a
# whole batch, as SQL in services/preflight_summary.py (tests/claims/test_preflight_summary.py holds
# the two to the same counts on every rule).
PATIENT_MESSAGES = {
    "NO_ADDRESS": "{who} has no complete home address (street, city, state, ZIP).",
    "NO_SEX": "{who} has no sex recorded.",
    "NO_DOB": "{who} has no date of birth.",
    "NO_MEMBER_ID": "{who} has no member id.",
    "NO_PAYER": "{who} has no payer.",
    "NO_DIAGNOSIS": "{who} has no diagnosis on this line.",
}
FEE_MESSAGE = "Code {cpt} has no fee on the clinic's fee schedule."
RENDERING_MESSAGE = "The line has no valid rendering NPI (the facilitator's)."


def who(name: str, mrn: str) -> str:
    return f"{name} ({mrn})"


def payer_problems(payer: PayerFacts, purpose: str = X12) -> list[tuple[str, str]]:
    """(code, message) of what a payer on the list lacks for a claim (``purpose``)."""
    out = []
    if not payer.payer_id:
        out.append(("PAYER_WITHOUT_ID", f"Payer {payer.name} has no payer id."))
    if purpose == X12 and not payer.filing_indicator:
        out.append(("PAYER_WITHOUT_FILING_INDICATOR", f"Payer {payer.name} has no claim filing indicator."))
    return out


def rendering_npi_ok(npi: str | None) -> bool:
    return bool(npi) and npi_is_valid(npi)


def line_problems(line: LineFacts, purpose: str = X12) -> list[Problem]:
    out: list[str] = []
    fixes: list[tuple[str, str, int | str | None]] = []

    def add(code: str, message: str, kind: str, fix_id) -> None:
        out.append(code)
        fixes.append((message, kind, fix_id))

    def patient(code: str) -> None:
        add(code, PATIENT_MESSAGES[code].format(who=name), "patient", line.patient_id)

    name = who(line.patient_name, line.patient_mrn)
    address = (line.address_line1, line.address_city, line.address_state, line.address_zip)
    if not all(address):
        patient("NO_ADDRESS")
    if line.sex not in ("F", "M", "U"):
        patient("NO_SEX")
    if line.dob is None:
        patient("NO_DOB")
    if not line.member_id:
        patient("NO_MEMBER_ID")
    if not line.payer_name:
        patient("NO_PAYER")
    elif line.payer is None:
        add("PAYER_NOT_ON_LIST", f"{name}'s payer \u201c{line.payer_name}\u201d is not on the clinic's payer list.",
            "payer_list", None)
    else:
        for code, message in payer_problems(line.payer, purpose):
            add(code, message, "payer", line.payer.id)
    if line.charge_cents is None:
        add("NO_FEE", FEE_MESSAGE.format(cpt=line.cpt), "fee", line.cpt)
    if not line.diagnosis_codes:
        patient("NO_DIAGNOSIS")
    if not rendering_npi_ok(line.rendering_npi):
        add("NO_RENDERING_NPI", RENDERING_MESSAGE, "facilitator", line.facilitator_id)
    return [Problem(code, message, kind, fix_id, line.line_id, line.patient_mrn, line.date_of_service, line.cpt)
            for code, (message, kind, fix_id) in zip(out, fixes)]


def preflight(clinic: ClinicFacts, lines: list[LineFacts], purpose: str = X12) -> list[Problem]:
    """Every problem: the clinic's first, then each line's in the order given."""
    problems = clinic_problems(clinic, purpose)
    for line in lines:
        problems.extend(line_problems(line, purpose))
    return problems
