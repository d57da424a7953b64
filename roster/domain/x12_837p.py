"""The X12 837P professional claim (005010X222A1), written from plain dataclasses.

One interchange (ISA/IEA) holding one functional group (GS/GE) holding one
transaction set (ST/SE). The clinic is the billing provider (2000A/2010AA);
each claim is a patient's date of service under its own subscriber level
(2000B: the patient is the subscriber), with the payer (2010BB), the claim
(2300: CLM, REF*F8 for a replacement or void, HI diagnoses), the rendering
provider (2310B) when it is not the billing provider, and a service line per
roster line (2400: LX, SV1, DTP*472).

Pure: the caller passes the control numbers and the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from roster.domain.claim_preflight import PayerFacts
from roster.domain.statuses import ClaimFrequency

IMPLEMENTATION = "005010X222A1"
SEGMENT_END = "~"
ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
FREQUENCY_LABELS = {f.value: f.name.lower() for f in ClaimFrequency}  # "1": "original", ...


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str


@dataclass(frozen=True)
class BillingProvider:
    name: str
    npi: str
    tax_id: str
    taxonomy: str
    address: Address
    contact_name: str
    contact_phone: str


@dataclass(frozen=True)
class Envelope:
    submitter_id: str
    receiver_id: str
    receiver_name: str
    usage: str  # "T" test, "P" production
    control_number: int  # ISA13 = GS06 = ST02, never used twice
    created_at: datetime  # the clinic's wall clock when the file was made
    reference: str  # BHT03, the batch's own reference


@dataclass(frozen=True)
class Patient:
    last_name: str
    first_name: str
    dob: date
    sex: str
    member_id: str
    address: Address


@dataclass(frozen=True)
class Rendering:
    npi: str
    last_name: str
    first_name: str


@dataclass(frozen=True)
class ServiceLine:
    line_id: int
    cpt: str
    modifiers: tuple[str, ...]
    units: int
    charge_cents: int  # units x charge per unit
    place_of_service: str
    date_of_service: date
    diagnosis_codes: tuple[str, ...]
    rendering: Rendering | None = None  # 2420A when it differs from the claim's rendering provider


@dataclass(frozen=True)
class Claim:
    control_number: str  # CLM01, kept by Roster per claim
    frequency_code: str  # 1 original, 7 replacement, 8 void
    original_control_number: str | None  # the claim a 7 or 8 corrects
    patient: Patient
    payer: PayerFacts
    rendering: Rendering | None
    lines: tuple[ServiceLine, ...] = field(default_factory=tuple)

    @property
    def total_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)

    @property
    def diagnosis_codes(self) -> tuple[str, ...]:
        """Every line's codes, first seen first; the first is the principal diagnosis."""
        seen: list[str] = []
        for line in self.lines:
            for code in line.diagnosis_codes:
                if code not in seen:
                    seen.append(code)
        return tuple(seen[:MAX_DIAGNOSES])


def money(cents: int) -> str:
    """An X12 decimal amount: no trailing zeros, no thousands separator (3550 -> 35.5)."""
    whole, part = divmod(cents, 100)
    return f"{whole}.{part:02d}".rstrip("0").rstrip(".") if part else str(whole)


_UNSAFE = re.compile(r"[*~:^\r\n]")


def text(value: str, size: int | None = None) -> str:
    """A data element: delimiters removed, spaces collapsed, upper case, cut to its size."""
    clean = " ".join(_UNSAFE.sub(" ", value or "").split()).upper()
    return clean[:size] if size else clean


def icd10(code: str) -> str:
    return code.replace(".", "").upper()


def split_name(name: str) -> tuple[str, str]:
    """("Dana Reyes, PT") -> ("Reyes", "Dana"): credentials after a comma are left out."""
    words = name.split(",")[0].split()
    if not words:
        return "", ""
    return words[-1], " ".join(words[:-1])


class _Writer:
    def __init__(self) -> None:
        self.segments: list[str] = []

    def seg(self, *elements: str) -> None:
        parts = list(elements)
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()  # no trailing empty elements
        self.segments.append(ELEMENT.join(parts))


def write_837p(envelope: Envelope, provider: BillingProvider, claims: list[Claim]) -> str:
    """The whole interchange as one string, one segment per line (``~`` then a newline)."""
    if not claims:
        raise ValueError("a claim file needs at least one claim")
    w = _Writer()
    n = envelope.control_number
    when = envelope.created_at
    w.seg("ISA", "00", " " * 10, "00", " " * 10, "ZZ", envelope.submitter_id.ljust(15), "ZZ",
          envelope.receiver_id.ljust(15), when.strftime("%y%m%d"), when.strftime("%H%M"), REPETITION, "00501",
          f"{n:09d}", "0", envelope.usage, COMPONENT)
    w.seg("GS", "HC", envelope.submitter_id, envelope.receiver_id, when.strftime("%Y%m%d"), when.strftime("%H%M"),
          str(n), "X", IMPLEMENTATION)
    st_index = len(w.segments)
    w.seg("ST", "837", f"{n:04d}", IMPLEMENTATION)
    w.seg("BHT", "0019", "00", text(envelope.reference, 50), when.strftime("%Y%m%d"), when.strftime("%H%M"), "CH")
    _submitter_and_receiver(w, envelope, provider)
    _billing_provider(w, provider)
    for number, claim in enumerate(claims, start=2):
        _claim(w, number, claim, provider)
    count = len(w.segments) - st_index + 1
    w.seg("SE", str(count), f"{n:04d}")
    w.seg("GE", "1", str(n))
    w.seg("IEA", "1", f"{n:09d}")
    return "".join(s + SEGMENT_END + "\n" for s in w.segments)


def _submitter_and_receiver(w: _Writer, envelope: Envelope, provider: BillingProvider) -> None:
    w.seg("NM1", "41", "2", text(provider.name, 60), "", "", "", "", "46", envelope.submitter_id)
    w.seg("PER", "IC", text(provider.contact_name, 60), "TE", provider.contact_phone)
    w.seg("NM1", "40", "2", text(envelope.receiver_name, 60), "", "", "", "", "46", envelope.receiver_id)


def _address(w: _Writer, address: Address) -> None:
    w.seg("N3", text(address.line1, 55))
    w.seg("N4", text(address.city, 30), address.state, address.zip)


def _billing_provider(w: _Writer, provider: BillingProvider) -> None:
    w.seg("HL", "1", "", "20", "1")
    w.seg("PRV", "BI", "PXC", provider.taxonomy)
    w.seg("NM1", "85", "2", text(provider.name, 60), "", "", "", "", "XX", provider.npi)
    _address(w, provider.address)
    w.seg("REF", "EI", provider.tax_id)


def _claim(w: _Writer, hl: int, claim: Claim, provider: BillingProvider) -> None:
    p = claim.patient
    w.seg("HL", str(hl), "1", "22", "0")
    w.seg("SBR", "P", "18", "", "", "", "", "", "", claim.payer.filing_indicator)
    w.seg("NM1", "IL", "1", text(p.last_name, 60), text(p.first_name, 35), "", "", "", "MI", text(p.member_id, 80))
    _address(w, p.address)
    w.seg("DMG", "D8", p.dob.strftime("%Y%m%d"), p.sex)
    w.seg("NM1", "PR", "2", text(claim.payer.name, 60), "", "", "", "", "PI", claim.payer.payer_id)
    place = claim.lines[0].place_of_service
    w.seg("CLM", claim.control_number, money(claim.total_cents), "", "",
          COMPONENT.join((place, "B", claim.frequency_code)), "Y", "A", "Y", "Y")
    if claim.frequency_code in (ClaimFrequency.REPLACEMENT, ClaimFrequency.VOID):
        w.seg("REF", "F8", claim.original_control_number or "")
    codes = claim.diagnosis_codes
    w.seg("HI", *(COMPONENT.join(("ABK" if i == 0 else "ABF", icd10(code))) for i, code in enumerate(codes)))
    if claim.rendering is not None and claim.rendering.npi != provider.npi:
        r = claim.rendering
        w.seg("NM1", "82", "1", text(r.last_name, 60), text(r.first_name, 35), "", "", "", "XX", r.npi)
    for number, line in enumerate(claim.lines, start=1):
        pointers = [str(codes.index(c) + 1) for c in line.diagnosis_codes if c in codes][:MAX_POINTERS]
        w.seg("LX", str(number))
        w.seg("SV1", COMPONENT.join(("HC", line.cpt, *line.modifiers[:4])), money(line.charge_cents), "UN",
              str(line.units), line.place_of_service if line.place_of_service != place else "", "",
              COMPONENT.join(pointers))
        w.seg("DTP", "472", "D8", line.date_of_service.strftime("%Y%m%d"))
        r = line.rendering
        if r is not None and r.npi != (claim.rendering.npi if claim.rendering else provider.npi):
            w.seg("NM1", "82", "1", text(r.last_name, 60), text(r.first_name, 35), "", "", "", "XX", r.npi)
