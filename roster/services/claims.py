"""Claims from export batches: preflight, claim identity, the 837P file.

A batch's claims are made once, the first time its claim file is asked
for, and kept: one claim per patient per date of service, numbered from a
counter (CLM01). A patient's date of service that already went out on a
claim is corrected, never claimed twice: a later batch that voids some of
its lines or adds lines sends a replacement (frequency 7) carrying every line
that still holds, or a void (8) repeating the claim when none holds, both
naming the claim they correct (REF*F8). The 837P interchange of a batch is
written once, checked by pyx12, and kept: a later download repeats it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask import current_app

from roster.domain import claim_preflight as pf
from roster.domain import x12_837p as x12
from roster.domain.statuses import ClaimFrequency
from roster.domain.x12_check import check_837p
from roster.extensions import db
from roster.models import BillingLine, Claim, ClaimFile, ExportBatch, User, utcnow
from roster.services import Conflict, audit, clinic
from roster.services.claim_facts import BatchLine, batch_lines, clinic_facts, fix_charges, ready_lines
from roster.services.rows import one


ORIGINAL, REPLACEMENT, VOID = ClaimFrequency.ORIGINAL, ClaimFrequency.REPLACEMENT, ClaimFrequency.VOID

class PreflightFailed(Conflict):
    """Some lines lack what a claim needs; ``problems`` lists each one."""

    code = "claim_preflight"

    def __init__(self, problems: list[pf.Problem], purpose: str = pf.X12):
        n = len(problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} keep{'s' if n == 1 else ''} these lines off a "
                         f"valid claim file; fix them and ask again.")
        self.problems = problems
        self.purpose = purpose  # what the lines were checked for: the 837P (X12) or charge messages (HL7)


class FileCheckFailed(Conflict):
    code = "file_check_failed"

    def __init__(self, what: str, errors: tuple[str, ...]):
        super().__init__(f"The {what} did not pass its check, so it is not offered: " + "; ".join(errors[:5]),
                         {})
        self.errors = errors


# --------------------------------------------------------------------------- preflight


def preflight_range(date_from: date, date_to: date, purpose: str = pf.X12) -> list[pf.Problem]:
    """Problems of the ready lines of a range, before they are exported."""
    return pf.preflight(clinic_facts(clinic.get_settings()), [bl.facts for bl in ready_lines(date_from, date_to)],
                        purpose)


def preflight_batch(batch_id: int, purpose: str = pf.X12) -> list[pf.Problem]:
    """Problems of a batch's rows (void rows already on a kept claim need nothing more)."""
    claimed = _claimed_line_ids(batch_id) if purpose == pf.X12 else set()
    lines = [bl.facts for bl in batch_lines(batch_id) if not (bl.action == "void" and bl.line.id in claimed)]
    return pf.preflight(clinic_facts(clinic.get_settings()), lines, purpose)


def _claimed_line_ids(batch_id: int) -> set[int]:
    """Lines that went out on a kept claim of another batch, read from the claims of the patients' dates
    of service this batch voids lines of (and no other claim)."""
    voided_visits = (
        sa.select(Claim.id)
        .join(BillingLine, sa.and_(BillingLine.patient_id == Claim.patient_id,
                                   BillingLine.date_of_service == Claim.date_of_service))
        .where(BillingLine.void_batch_id == batch_id, Claim.export_batch_id != batch_id)
    )
    out: set[int] = set()
    for content in db.session.scalars(sa.select(Claim.content).where(Claim.id.in_(voided_visits))):
        out.update(l["line_id"] for l in content["lines"])
    return out


def get_batch(batch_id: int) -> ExportBatch:
    return one(ExportBatch, batch_id)


# --------------------------------------------------------------------------- claims


def _line_content(bl: BatchLine) -> dict:
    return {
        "line_id": bl.line.id, "cpt": bl.facts.cpt, "modifiers": list(bl.modifiers), "units": bl.units,
        "charge_cents": bl.facts.charge_cents, "place_of_service": bl.place_of_service,
        "date_of_service": bl.facts.date_of_service.isoformat(), "diagnosis_codes": list(bl.facts.diagnosis_codes),
        "rendering_npi": bl.facts.rendering_npi, "rendering_name": bl.rendering_name,
    }


def _party_content(bl: BatchLine) -> dict:
    f, p = bl.facts, bl.line.patient
    last, first = bl.row["patient_last_name"], bl.row["patient_first_name"]
    return {
        "patient": {"mrn": f.patient_mrn, "last_name": last, "first_name": first,
                    "dob": f.dob.isoformat(), "sex": f.sex, "member_id": f.member_id,
                    "address": {"line1": p.address_line1, "city": p.address_city, "state": p.address_state,
                                "zip": p.address_zip}},
        "payer": {"name": f.payer.name, "payer_id": f.payer.payer_id, "filing_indicator": f.payer.filing_indicator},
    }


def ensure_claims(batch_id: int) -> list[Claim]:
    """The batch's claims, made now (and kept) when they were not made yet. Raises PreflightFailed."""
    kept = _claims_of(batch_id)
    if kept:
        return kept
    problems = preflight_batch(batch_id)
    if problems:
        raise PreflightFailed(problems)
    lines = batch_lines(batch_id)
    for earlier in sorted({bl.line.export_batch_id for bl in lines if bl.action == "void"}):
        if earlier is not None and earlier != batch_id:
            ensure_claims(earlier)  # the claims these voids correct
    groups: dict[tuple[int, date], list[BatchLine]] = defaultdict(list)
    for bl in lines:
        groups[(bl.facts.patient_id, bl.facts.date_of_service)].append(bl)
    priors = _latest_claims(batch_id, {k[0] for k in groups})
    voided = _voided_by(batch_id, [l["line_id"] for c in priors.values() for l in c.content["lines"]])
    plans = [plan for key in sorted(groups, key=lambda k: (k[1], groups[k][0].facts.patient_mrn))
             for plan in _claims_for(groups[key], priors.get(key), voided)]
    numbers = clinic.next_numbers("claim", len(plans))  # one UPDATE for every CLM01 of the batch
    rows = [{"export_batch_id": batch_id, "patient_id": group[0].facts.patient_id,
             "date_of_service": group[0].facts.date_of_service, "frequency_code": frequency,
             "control_number": f"RC{number:08d}", "original_claim_id": prior.id if prior is not None else None,
             "total_cents": sum(l["charge_cents"] for l in claimed), "content": {**parties, "lines": claimed}}
            for (group, frequency, claimed, parties, prior), number in zip(plans, numbers)]
    if rows:
        db.session.execute(sa.insert(Claim.__table__), rows)  # one statement (Core: the ORM splits by None)
        replaces = {p[4].id: p[4].control_number for p in plans if p[4] is not None}
        audit.record("claims.create", "export_batch", batch_id, after={"claims": [
            {"control_number": r["control_number"], "frequency_code": r["frequency_code"],
             "replaces": replaces.get(r["original_claim_id"]), "lines": [l["line_id"] for l in r["content"]["lines"]],
             "total_cents": r["total_cents"]} for r in rows]})
    fix_charges([bl for bl in lines if bl.action == "new"])
    db.session.flush()
    return _claims_of(batch_id) if rows else []


def _claims_of(batch_id: int) -> list[Claim]:
    return list(db.session.scalars(
        sa.select(Claim).options(selectinload(Claim.original))
        .where(Claim.export_batch_id == batch_id).order_by(Claim.control_number)))


def _latest_claims(batch_id: int, patient_ids: set[int]) -> dict[tuple[int, date], Claim]:
    latest: dict[tuple[int, date], Claim] = {}
    if not patient_ids:
        return latest
    for c in db.session.scalars(sa.select(Claim).where(Claim.patient_id.in_(patient_ids),
                                                       Claim.export_batch_id != batch_id).order_by(Claim.id)):
        latest[(c.patient_id, c.date_of_service)] = c
    return latest


def _voided_by(batch_id: int, line_ids: list[int]) -> set[int]:
    """Of these lines, those voided by this batch or an earlier one."""
    if not line_ids:
        return set()
    return set(db.session.scalars(sa.select(BillingLine.id).where(
        BillingLine.id.in_(line_ids), BillingLine.void_batch_id.is_not(None), BillingLine.void_batch_id <= batch_id)))


def _identity(parties: dict) -> tuple:
    """Who and to whom a claim is: the claim identity (S6) and the payer it went to."""
    p, payer = parties["patient"], parties["payer"]
    return (p["mrn"], p["last_name"], p["first_name"], p["dob"], p["member_id"],
            clinic.name_key(payer["name"] or ""), payer["payer_id"])


_Plan = tuple  # (group, frequency, lines, parties, prior claim or None)


def _claims_for(group: list[BatchLine], prior: Claim | None, voided: set[int]) -> list[_Plan]:
    """The claims a patient's date of service needs in this batch (none, one, or a void and a new one)."""
    new = [_line_content(bl) for bl in group if bl.action == "new"]
    if prior is not None and prior.frequency_code == VOID:
        prior = None  # what was sent is already voided: what comes now is a new claim
    if prior is None:
        return [(group, ORIGINAL, new, _party_content(_first_new(group)), None)] if new else []
    sent = {k: prior.content[k] for k in ("patient", "payer")}
    still = [l for l in prior.content["lines"] if l["line_id"] not in voided]
    parties = _party_content(_first_new(group)) if new else sent
    if _identity(parties) != _identity(sent):
        # The claim identity was corrected (S6): a replacement cannot move a claim to another member or
        # payer, so the claim as sent is voided (with the identity it carried) and the lines go anew.
        return [(group, VOID, prior.content["lines"], sent, prior), (group, ORIGINAL, still + new, parties, None)]
    if still or new:
        return [(group, REPLACEMENT, still + new, parties, prior)]
    return [(group, VOID, prior.content["lines"], sent, prior)]


def _first_new(group: list[BatchLine]) -> BatchLine:
    return next(bl for bl in group if bl.action == "new")


# --------------------------------------------------------------------------- the 837P file


def _address(data: dict) -> x12.Address:
    return x12.Address(data["line1"], data["city"], data["state"], data["zip"])


def claim_record(claim: Claim) -> x12.Claim:
    c, p, payer = claim.content, claim.content["patient"], claim.content["payer"]
    lines = tuple(
        x12.ServiceLine(l["line_id"], l["cpt"], tuple(l["modifiers"]), l["units"], l["charge_cents"],
                        l["place_of_service"], date.fromisoformat(l["date_of_service"]), tuple(l["diagnosis_codes"]),
                        x12.Rendering(l["rendering_npi"], *x12.split_name(l["rendering_name"])))
        for l in c["lines"]
    )
    return x12.Claim(
        claim.control_number, claim.frequency_code, claim.original.control_number if claim.original else None,
        x12.Patient(p["last_name"], p["first_name"], date.fromisoformat(p["dob"]), p["sex"], p["member_id"],
                    _address(p["address"])),
        pf.PayerFacts(None, payer["name"], payer["payer_id"], payer["filing_indicator"]), lines[0].rendering, lines,
    )


def _provider() -> tuple[x12.BillingProvider, object]:
    s = clinic.get_settings()
    provider = x12.BillingProvider(s.organization_name, s.npi, s.tax_id, s.taxonomy,
                                   x12.Address(s.address_line1, s.address_city, s.address_state, s.address_zip),
                                   s.contact_name, s.contact_phone)
    return provider, s


def clinic_now(now: datetime | None = None) -> datetime:
    return (now or utcnow()).astimezone(ZoneInfo(current_app.config["CLINIC_TIMEZONE"])).replace(tzinfo=None)


def claim_file(batch_id: int, user: User | None = None, now: datetime | None = None) -> ClaimFile:
    """The batch's 837P, written and checked the first time, then kept. Raises PreflightFailed or
    FileCheckFailed (then nothing is kept and no number is used up)."""
    batch = get_batch(batch_id)
    kept = db.session.scalar(sa.select(ClaimFile).where(ClaimFile.export_batch_id == batch.id))
    if kept is not None:
        return kept
    claims = ensure_claims(batch.id)  # raises PreflightFailed when the claims are not made yet and cannot be
    if not claims:
        raise Conflict("This batch holds no claim: its rows only void lines that never went out on a claim.")
    provider, s = _provider()
    number = clinic.next_number("x12")
    envelope = x12.Envelope(s.submitter_id, s.receiver_id, s.receiver_name, s.x12_usage, number,
                            clinic_now(now), f"ROSTER-B{batch.id}")
    text = x12.write_837p(envelope, provider, [claim_record(c) for c in claims])
    check = check_837p(text)
    if not check.ok:
        raise FileCheckFailed("837P claim file", check.errors)
    kept = ClaimFile(export_batch_id=batch.id, interchange_number=number, content=text,
                     created_by_id=user.id if user is not None and user.is_authenticated else None)
    db.session.add(kept)
    db.session.flush()
    audit.record("claims.file", "export_batch", batch.id, after={
        "interchange": number, "claims": [c.control_number for c in claims],
        "total_cents": sum(c.total_cents for c in claims)})
    return kept


def claim_file_name(batch: ExportBatch, kind: str) -> str:
    return f"roster-{batch.date_from.isoformat()}-{batch.date_to.isoformat()}-batch{batch.id}.{kind}"
