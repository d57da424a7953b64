"""Reading and judging claim files in tests: pyx12 and hl7apy called directly (not through Roster)."""

from __future__ import annotations

import io
import logging

import pyx12.params
import pyx12.x12n_document
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

import roster.domain.x12_check  # noqa: F401  pyx12's maps are parsed once per process (see there)

ADDRESS = {"sex": "F", "address_line1": "12 Elm St", "address_city": "Chicago", "address_state": "IL",
           "address_zip": "60613"}
SETTINGS = {
    "organization_name": "Lakeshore Rehabilitation Clinic", "npi": "1555012347", "tax_id": "361234567",
    "taxonomy": "261QR0400X", "address_line1": "200 N Michigan Ave", "address_city": "Chicago",
    "address_state": "IL", "address_zip": "606011234", "contact_name": "Billie Biller",
    "contact_phone": "3125550100", "submitter_id": "LAKESHORE01", "receiver_id": "CLEARHOUSE01",
    "receiver_name": "Prairie Claims", "x12_usage": "T", "hl7_receiving_application": "HBS",
    "hl7_receiving_facility": "LMC",
}
FEES = {"97550": 9500, "97551": 4500, "97552": 3550, "G0539": 9000, "G0540": 4000, "G0541": 9000,
        "G0542": 4000, "G0543": 3000, "96202": 8550, "96203": 3000}


def set_up_clinic(admin) -> None:
    assert admin.patch("/billing/settings", json=SETTINGS).status_code == 200
    assert admin.post("/billing/payers", json={"name": "Medicare", "payer_id": "06102",
                                               "claim_filing_indicator": "MB"}).status_code == 201
    for cpt, cents in FEES.items():
        assert admin.post("/billing/fees", json={"cpt": cpt, "charge": f"{cents / 100:.2f}"}).status_code == 200


def pyx12_verdict(text: str) -> tuple[bool, str]:
    """(pyx12 found no error, its 999) for an X12 file."""
    ack = io.StringIO()
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), ack, None)
    return bool(ok), ack.getvalue()


def assert_pyx12_accepts(text: str) -> None:
    ok, ack = pyx12_verdict(text)
    segments = [s.strip() for s in ack.split("~")]
    assert ok, ack
    assert "IK5*A" in segments and any(s.startswith("AK9*A*1*1*1") for s in segments), ack


def segments(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def claims_of(text: str) -> list[dict]:
    """Each claim of an 837P: subscriber (member id, name, birth date), payer name, CLM, REF*F8,
    rendering NPI and service lines."""
    out: list[dict] = []
    claim = None
    pending_line = None
    for seg in segments(text):
        tag = seg[0]
        if tag == "HL" and seg[3] == "22":
            claim = {"lines": [], "f8": None, "rendering": None}
            out.append(claim)
        elif claim is None:
            continue
        elif tag == "NM1" and seg[1] == "IL":
            claim["member_id"], claim["last_name"], claim["first_name"] = seg[9], seg[3], seg[4]
        elif tag == "DMG":
            claim["dob"] = f"{seg[2][:4]}-{seg[2][4:6]}-{seg[2][6:]}"
        elif tag == "NM1" and seg[1] == "PR":
            claim["payer"] = seg[3]
        elif tag == "CLM":
            claim["clm01"], claim["clm02"] = seg[1], seg[2]
            claim["pos"], _, claim["frequency"] = seg[5].split(":")
        elif tag == "REF" and seg[1] == "F8":
            claim["f8"] = seg[2]
        elif tag == "NM1" and seg[1] == "82" and not claim["lines"]:
            claim["rendering"] = seg[9]
        elif tag == "SV1":
            code = seg[1].split(":")
            pending_line = {"cpt": code[1], "modifiers": code[2:], "charge": seg[2], "units": int(seg[4])}
            claim["lines"].append(pending_line)
        elif tag == "DTP" and seg[1] == "472":
            pending_line["dos"] = f"{seg[3][:4]}-{seg[3][4:6]}-{seg[3][6:]}"
            claim["dos"] = pending_line["dos"]
    return out


def money(cents: int) -> str:
    whole, part = divmod(cents, 100)
    return f"{whole}.{part:02d}".rstrip("0").rstrip(".") if part else str(whole)


def hl7_messages(batch: str) -> tuple[list[str], list[str]]:
    """(envelope segments, messages) of a FHS/BHS batch file."""
    envelope, messages = [], []
    for seg in (s for s in batch.split("\r") if s):
        if seg[:3] in ("FHS", "BHS", "BTS", "FTS"):
            envelope.append(seg)
        elif seg.startswith("MSH"):
            messages.append(seg + "\r")
        else:
            messages[-1] += seg + "\r"
    return envelope, messages


def hl7apy_validates(message: str):
    parsed = parse_message(message, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert parsed.name == "DFT_P03" and parsed.msh.msh_9.value == "DFT^P03^DFT_P03"
    assert parsed.validate()
    return parsed


def hl7_identity(message: str) -> dict:
    """The claim identity a DFT message carries: PID-3 MRN, PID-5 name, PID-7 birth date; IN1-4 payer,
    IN1-16 insured's name and IN1-36 member id."""
    out = {}
    for seg in message.split("\r"):
        f = seg.split("|")
        if f[0] == "PID":
            out.update(mrn=f[3].split("^")[0], name=f[5], dob=f[7])
        elif f[0] == "IN1":
            out.update(payer=f[4], insured=f[16], member_id=f[36] if len(f) > 36 else "")
    return out


def ft1s(message: str) -> list[dict]:
    out = []
    for seg in message.split("\r"):
        f = seg.split("|")
        if f[0] == "FT1":
            out.append({"type": f[6], "cpt": f[7].split("^")[0], "units": int(f[10]),
                        "amount": f[11].split("&")[0], "modifiers": [m.split("^")[0] for m in f[26].split("~")]
                        if len(f) > 26 and f[26] else [], "npi": f[20].split("^")[0]})
    return out
