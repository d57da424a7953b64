"""HL7 v2.5.1 DFT^P03 charge messages and the FHS/BHS batch file that carries them.

One message per patient visit (a patient's date of service in an export
batch): MSH, EVN, PID, PV1, one FT1 per roster line (``CG`` charge for a new
line, ``CD`` credit for a void row, repeating the charge it cancels), DG1 for
each diagnosis and IN1 for the payer. Segments end with a carriage return,
as HL7 wants. Pure: the caller passes the control ids and the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

VERSION = "2.5.1"
SEGMENT_END = "\r"
SENDING_APPLICATION = "ROSTER"


@dataclass(frozen=True)
class Sender:
    facility: str  # the clinic's name
    facility_npi: str
    receiving_application: str
    receiving_facility: str


@dataclass(frozen=True)
class Charge:
    line_id: int
    transaction_type: str  # "CG" charge, "CD" credit (a void)
    cpt: str
    modifiers: tuple[str, ...]
    units: int
    charge_cents: int
    date_of_service: date
    diagnosis_codes: tuple[str, ...]
    rendering_npi: str
    rendering_last: str
    rendering_first: str


@dataclass(frozen=True)
class Visit:
    control_id: str  # MSH-10, never used twice
    visit_number: str  # PV1-19
    mrn: str
    last_name: str
    first_name: str
    dob: date
    sex: str
    address_line1: str
    address_city: str
    address_state: str
    address_zip: str
    payer_name: str
    payer_id: str
    filing_indicator: str
    member_id: str
    charges: tuple[Charge, ...]


_UNSAFE = re.compile(r"[|^~\\&\r\n]")


def text(value: str | None, size: int | None = None) -> str:
    clean = " ".join(_UNSAFE.sub(" ", value or "").split())
    return clean[:size] if size else clean


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def _seg(*fields: str) -> str:
    parts = list(fields)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return "|".join(parts)


def _msh(sender: Sender, when: datetime, control_id: str) -> str:
    return _seg("MSH", "^~\\&", SENDING_APPLICATION, f"{text(sender.facility, 20)}^{sender.facility_npi}^NPI",
                text(sender.receiving_application, 20), text(sender.receiving_facility, 20), _ts(when), "",
                "DFT^P03^DFT_P03", control_id, "P", VERSION)


def write_message(sender: Sender, visit: Visit, when: datetime) -> str:
    """One DFT^P03 message, segments ended by CR."""
    v = visit
    codes: list[str] = []
    for c in v.charges:
        codes.extend(code for code in c.diagnosis_codes if code not in codes)
    first = v.charges[0]
    segments = [
        _msh(sender, when, v.control_id),
        _seg("EVN", "P03", _ts(when)),
        _seg("PID", "1", "", f"{text(v.mrn, 20)}^^^{SENDING_APPLICATION}^MR", "",
             f"{text(v.last_name, 50)}^{text(v.first_name, 30)}", "", v.dob.strftime("%Y%m%d"), v.sex, "", "",
             f"{text(v.address_line1, 50)}^^{text(v.address_city, 30)}^{v.address_state}^{v.address_zip}"),
        _seg("PV1", "1", "O", f"^^^{text(sender.facility, 20)}", "", "", "",
             f"{first.rendering_npi}^{text(first.rendering_last, 40)}^{text(first.rendering_first, 30)}"
             f"^^^^^^NPI", "", "", "", "", "", "", "", "", "", "", "", f"{v.visit_number}^^^{SENDING_APPLICATION}^VN",
             "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
             first.date_of_service.strftime("%Y%m%d")),
    ]
    for number, c in enumerate(v.charges, start=1):
        segments.append(_seg(
            "FT1", str(number), str(c.line_id), "", c.date_of_service.strftime("%Y%m%d"), _ts(when),
            c.transaction_type, f"{c.cpt}^^CPT4", "", "", str(c.units), f"{money(c.charge_cents)}&USD",
            f"{money(c.charge_cents // c.units if c.units else c.charge_cents)}&USD", "", "", "", "", "", "",
            "~".join(f"{code}^^I10" for code in c.diagnosis_codes),
            f"{c.rendering_npi}^{text(c.rendering_last, 40)}^{text(c.rendering_first, 30)}^^^^^^NPI",
            "", "", "", "", f"{c.cpt}^^CPT4", "~".join(f"{m}^^CPT4" for m in c.modifiers),
        ))
    for number, code in enumerate(codes, start=1):
        segments.append(_seg("DG1", str(number), "", f"{code}^^I10", "", "", "F"))
    segments.append(_seg(
        "IN1", "1", f"{v.filing_indicator}^^HL70072", f"{text(v.payer_id, 20)}^^^^NIIP", text(v.payer_name, 50),
        "", "", "", "", "", "", "", "", "", "", "", f"{text(v.last_name, 50)}^{text(v.first_name, 30)}",
        "SEL^^HL70063", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", text(v.member_id, 20),
    ))
    return SEGMENT_END.join(segments) + SEGMENT_END


def write_batch(sender: Sender, messages: list[str], batch_control_id: str, when: datetime) -> str:
    """The FHS/BHS batch file holding the messages, with BTS/FTS counts."""
    head = ("^~\\&", SENDING_APPLICATION, f"{text(sender.facility, 20)}^{sender.facility_npi}^NPI",
            text(sender.receiving_application, 20), text(sender.receiving_facility, 20), _ts(when))
    lines = [_seg("FHS", *head, "", "", "", batch_control_id), _seg("BHS", *head, "", "", "", batch_control_id)]
    body = "".join(messages)
    out = SEGMENT_END.join(lines) + SEGMENT_END + body
    return out + _seg("BTS", str(len(messages))) + SEGMENT_END + _seg("FTS", "1") + SEGMENT_END
