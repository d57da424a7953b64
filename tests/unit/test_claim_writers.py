"""The pure claim writers and checks: 837P (pyx12), DFT^P03 (hl7apy), and the preflight."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from roster.domain import claim_preflight as pf
from roster.domain import hl7_dft as hl7
from roster.domain import x12_837p as x12
from roster.domain.hl7_check import check_batch, check_message
from roster.domain.x12_check import check_837p

PROVIDER = x12.BillingProvider("Lakeshore Rehabilitation Clinic", "1555012347", "361234567", "261QR0400X",
                               x12.Address("200 N Michigan Ave", "Chicago", "IL", "606011234"),
                               "Billie Biller", "3125550100")
ENVELOPE = x12.Envelope("LAKESHORE01", "CLEARHOUSE01", "Prairie Claims", "T", 42, datetime(2026, 2, 4, 9, 30), "B1")
PATIENT = x12.Patient("O'Neil", "Walter", date(1950, 4, 2), "M", "1EG4TE5MK73",
                      x12.Address("12 Elm St*", "Chicago", "IL", "60613"))
PAYER = pf.PayerFacts(None, "Medicare", "06102", "MB")
DANA = x12.Rendering("1234567893", "Reyes", "Dana")
LEE = x12.Rendering("1456789019", "Park", "Lee")
GROUP = x12.ServiceLine(1, "97552", ("GP",), 1, 3550, "11", date(2026, 2, 3), ("I69.351", "R26.89"), DANA)
TELE = x12.ServiceLine(2, "97550", ("GN", "95"), 1, 9500, "02", date(2026, 2, 3), ("R13.12",), LEE)


def _file(*claims: x12.Claim) -> str:
    return x12.write_837p(ENVELOPE, PROVIDER, list(claims))


def test_an_original_a_replacement_and_a_void_pass_pyx12_with_the_values_we_wrote():
    text = _file(x12.Claim("RC00000001", "1", None, PATIENT, PAYER, DANA, (GROUP, TELE)),
                 x12.Claim("RC00000002", "7", "RC00000001", PATIENT, PAYER, DANA, (GROUP,)),
                 x12.Claim("RC00000003", "8", "RC00000002", PATIENT, PAYER, DANA, (GROUP,)))
    check = check_837p(text)
    assert check.ok and check.accepted, check.errors
    lines = text.split("~\n")
    assert lines[0].split("*")[13] == "000000042" and lines[1].split("*")[6] == "42" and lines[2] == "ST*837*0042*005010X222A1"
    assert "CLM*RC00000001*130.5***11:B:1*Y*A*Y*Y" in lines
    assert "CLM*RC00000002*35.5***11:B:7*Y*A*Y*Y" in lines and "CLM*RC00000003*35.5***11:B:8*Y*A*Y*Y" in lines
    assert lines.count("REF*F8*RC00000001") == 1 and lines.count("REF*F8*RC00000002") == 1
    assert "HI*ABK:I69351*ABF:R2689*ABF:R1312" in lines
    assert "SV1*HC:97552:GP*35.5*UN*1***1:2" in lines and "SV1*HC:97550:GN:95*95*UN*1*02**3" in lines
    assert "NM1*82*1*REYES*DANA****XX*1234567893" in lines and "NM1*82*1*PARK*LEE****XX*1456789019" in lines
    assert "N3*12 ELM ST" in lines and "NM1*IL*1*O'NEIL*WALTER****MI*1EG4TE5MK73" in lines
    se = next(i for i, l in enumerate(lines) if l.startswith("SE*"))
    assert lines[se] == f"SE*{se - 2 + 1}*0042" and lines[-2] == "IEA*1*000000042"


def test_the_billing_provider_as_rendering_provider_is_not_repeated():
    text = _file(x12.Claim("RC1", "1", None, PATIENT, PAYER, x12.Rendering("1555012347", "Clinic", ""),
                           (replace(GROUP, rendering=None),)))
    assert "NM1*82" not in text and check_837p(text).ok


def test_pyx12_catches_a_broken_file():
    good = _file(x12.Claim("RC1", "1", None, PATIENT, PAYER, DANA, (GROUP,)))
    bad = good.replace("SBR*P*18*******MB", "SBR*P*18*******QQ").replace("DMG*D8*19500402*M", "DMG*D8*19500402*X")
    check = check_837p(bad)
    assert not check.ok and not check.accepted and len(check.errors) == 2
    assert not check_837p(good.replace("SE*", "SE*9", 1)).ok


SENDER = hl7.Sender("Lakeshore Rehabilitation Clinic", "1555012347", "HBS", "LMC")
VISIT = hl7.Visit("RH00000001", "A1001-20260203", "A1001", "Ames", "Walter", date(1950, 4, 2), "M", "12 Elm St",
                  "Chicago", "IL", "60613", "Medicare", "06102", "MB", "1EG4TE5MK73", (
                      hl7.Charge(7, "CG", "97552", ("GP",), 1, 3550, date(2026, 2, 3), ("I69.351",), "1234567893",
                                 "Reyes", "Dana"),
                      hl7.Charge(3, "CD", "97550", ("GP", "95"), 1, 9500, date(2026, 2, 3), ("I69.351", "R26.89"),
                                 "1234567893", "Reyes", "Dana")))


def test_a_dft_p03_message_and_its_batch_pass_hl7apy():
    message = hl7.write_message(SENDER, VISIT, datetime(2026, 2, 4, 9, 30))
    assert check_message(message) == []
    segments = message.split("\r")
    ft1 = [s.split("|") for s in segments if s.startswith("FT1")]
    assert [(f[6], f[7], f[10], f[11], f[26]) for f in ft1] == [
        ("CG", "97552^^CPT4", "1", "35.50&USD", "GP^^CPT4"), ("CD", "97550^^CPT4", "1", "95.00&USD", "GP^^CPT4~95^^CPT4")]
    assert [s for s in segments if s.startswith("DG1")] == ["DG1|1||I69.351^^I10|||F", "DG1|2||R26.89^^I10|||F"]
    batch = hl7.write_batch(SENDER, [message, message.replace("RH00000001", "RH00000002")], "RB1",
                            datetime(2026, 2, 4, 9, 30))
    assert check_batch(batch) == []
    assert check_batch(batch.replace("BTS|2", "BTS|3")) != []


def test_hl7apy_catches_a_broken_message():
    message = hl7.write_message(SENDER, VISIT, datetime(2026, 2, 4, 9, 30))
    assert check_message(message.replace("|||F\r", "|||\r", 1)) != []
    assert check_message("\r".join(s for s in message.split("\r") if not s.startswith("EVN"))) != []


CLINIC = pf.ClinicFacts("Lakeshore", "1555012347", "361234567", "261QR0400X", "200 N Michigan Ave", "Chicago", "IL",
                        "606011234", "Billie", "3125550100", "LAKESHORE01", "CLEARHOUSE01", "Prairie")
MEDICARE = pf.PayerFacts(1, "Medicare", "06102", "MB")
LINE = pf.LineFacts(1, 5, "A1001", "Walter Ames", date(2026, 2, 3), "97552", date(1950, 4, 2), "M", "1EG",
                    "12 Elm St", "Chicago", "IL", "60613", "Medicare", MEDICARE, 3550, ("I69.351",), "1234567893", 9)


def test_the_preflight_names_what_each_line_and_the_clinic_lack():
    assert pf.preflight(CLINIC, [LINE]) == []
    broken = replace(LINE, address_zip="", sex=None, payer=replace(MEDICARE, payer_id=""), charge_cents=None,
                     rendering_npi="1234567890")
    codes = [p.code for p in pf.preflight(replace(CLINIC, npi="1555012340", address_zip="60601"), [broken])]
    assert codes == ["CLINIC_INCOMPLETE", "NO_ADDRESS", "NO_SEX", "PAYER_WITHOUT_ID", "NO_FEE", "NO_RENDERING_NPI"]
    off_list = pf.line_problems(replace(LINE, payer=None, payer_name="Acme"))
    assert [(p.code, p.fix_kind) for p in off_list] == [("PAYER_NOT_ON_LIST", "payer_list")]
    # HL7 needs no clearinghouse ids
    assert pf.preflight(replace(CLINIC, submitter_id="", tax_id=""), [LINE], pf.HL7) == []
