"""HL7 v2.5.1 DFT^P03 charge messages of an export batch, and the batch file.

A batch's messages are made once (one per patient visit), checked by
hl7apy and kept with their send status. A message the interface engine
rejected is rebuilt from the data as it is now, under a new control id,
when the biller re-sends it after a fix.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain import claim_preflight as pf
from roster.domain import hl7_dft as hl7
from roster.domain.hl7_check import check_batch, check_message
from roster.domain.statuses import MessageStatus
from roster.domain.x12_837p import split_name
from roster.extensions import db
from roster.models import Hl7Message
from roster.services import Conflict, NotFound, audit, clinic
from roster.services.claim_facts import BatchLine, batch_lines, clinic_facts, fix_charges
from roster.services.claims import FileCheckFailed, PreflightFailed, clinic_now, get_batch, preflight_batch
from roster.services.paging import Page, paginate


def _sender() -> hl7.Sender:
    s = clinic.get_settings()
    return hl7.Sender(s.organization_name, s.npi, s.hl7_receiving_application, s.hl7_receiving_facility)


def _charge(bl: BatchLine) -> hl7.Charge:
    last, first = split_name(bl.rendering_name)
    return hl7.Charge(bl.line.id, "CD" if bl.action == "void" else "CG", bl.facts.cpt, bl.modifiers, bl.units,
                      bl.facts.charge_cents, bl.facts.date_of_service, bl.facts.diagnosis_codes,
                      bl.facts.rendering_npi or "", last, first)


def _visit(group: list[BatchLine], control_id: str) -> hl7.Visit:
    f, p = group[0].facts, group[0].line.patient
    return hl7.Visit(
        control_id=control_id, visit_number=f"{f.patient_mrn}-{f.date_of_service:%Y%m%d}", mrn=f.patient_mrn,
        last_name=group[0].row["patient_last_name"], first_name=group[0].row["patient_first_name"], dob=f.dob,
        sex=f.sex, address_line1=p.address_line1, address_city=p.address_city, address_state=p.address_state,
        address_zip=p.address_zip, payer_name=f.payer.name, payer_id=f.payer.payer_id,
        filing_indicator=f.payer.filing_indicator or "ZZ", member_id=f.member_id,
        charges=tuple(_charge(bl) for bl in group),
    )


def _write(sender: hl7.Sender, group: list[BatchLine], when: datetime, number: int) -> tuple[str, str]:
    control_id = f"RH{number:08d}"
    text = hl7.write_message(sender, _visit(group, control_id), when)
    problems = check_message(text)
    if problems:
        raise FileCheckFailed("HL7 charge message", tuple(problems))
    return control_id, text


def _identity(bl: BatchLine) -> tuple:
    """The claim identity a line went out with (S6) and its payer: one message carries one PID and IN1."""
    f = bl.facts
    return (f.patient_mrn, bl.row["patient_last_name"], bl.row["patient_first_name"], f.dob, f.member_id,
            f.payer_name.casefold(), f.payer.payer_id if f.payer else None)


def _groups(lines: list[BatchLine]) -> dict[tuple[int, date, int], list[BatchLine]]:
    """Lines by (patient, date of service, part): a visit whose lines carry different claim identities
    (a credit of what was sent before a correction, a charge under the corrected identity) is one
    message per identity, in the order of their first lines."""
    by_identity: dict[tuple, list[BatchLine]] = defaultdict(list)
    for bl in lines:
        by_identity[(bl.facts.patient_id, bl.facts.date_of_service, _identity(bl))].append(bl)
    groups: dict[tuple[int, date, int], list[BatchLine]] = {}
    parts: dict[tuple[int, date], int] = defaultdict(int)
    for (patient_id, dos, _), group in by_identity.items():
        groups[(patient_id, dos, parts[(patient_id, dos)])] = group
        parts[(patient_id, dos)] += 1
    return groups


def ensure_messages(batch_id: int, now: datetime | None = None) -> list[Hl7Message]:
    """The batch's charge messages, made (and kept) the first time. Raises PreflightFailed."""
    batch = get_batch(batch_id)
    kept = messages_of(batch.id)
    if kept:
        return kept
    problems = preflight_batch(batch.id, pf.HL7)
    if problems:
        raise PreflightFailed(problems, pf.HL7)
    lines = batch_lines(batch.id)
    when = clinic_now(now)
    groups = _groups(lines)
    sender, keys = _sender(), sorted(groups, key=lambda k: (k[1], groups[k][0].line.patient.mrn, k[2]))
    rows = []
    for key, number in zip(keys, clinic.next_numbers("hl7", len(keys))):  # one UPDATE for every control id
        control_id, text = _write(sender, groups[key], when, number)
        rows.append({"export_batch_id": batch.id, "patient_id": key[0], "date_of_service": key[1], "part": key[2],
                     "control_id": control_id, "content": text, "status": MessageStatus.PENDING,
                     "line_ids": [bl.line.id for bl in groups[key]]})
    if rows:
        db.session.execute(sa.insert(Hl7Message.__table__), rows)  # one statement for every message
    fix_charges([bl for bl in lines if bl.action == "new"])
    db.session.flush()
    audit.record("hl7.messages", "export_batch", batch.id, after={"messages": len(groups)})
    return messages_of(batch.id)


MESSAGES_PER_PAGE = 50


def messages_page(batch_id: int, page: int | None) -> Page[Hl7Message]:
    """One page of the batch's charge messages, in the order they were made (a year's batch makes one per
    patient visit: tens of thousands)."""
    stmt = sa.select(Hl7Message).where(Hl7Message.export_batch_id == batch_id).order_by(Hl7Message.id)
    return paginate(stmt, page, MESSAGES_PER_PAGE, options=(selectinload(Hl7Message.patient),))


def messages_of(batch_id: int) -> list[Hl7Message]:
    return list(db.session.scalars(
        sa.select(Hl7Message).options(selectinload(Hl7Message.patient))
        .where(Hl7Message.export_batch_id == batch_id).order_by(Hl7Message.id)))


def batch_file(batch_id: int, now: datetime | None = None) -> str:
    """The FHS/BHS batch file of the batch's messages (as they stand: a rebuilt message is the new one)."""
    messages = ensure_messages(batch_id, now)
    text = hl7.write_batch(_sender(), [m.content for m in messages], f"RB{batch_id}", clinic_now(now))
    problems = check_batch(text)
    if problems:
        raise FileCheckFailed("HL7 batch file", tuple(problems))
    return text


def rebuild(message_id: int, now: datetime | None = None) -> Hl7Message:
    """A rejected message made again from today's data, under a new control id, to be sent again."""
    message = db.session.get(Hl7Message, message_id)
    if message is None:
        raise NotFound(f"No HL7 message {message_id}.")
    if message.status != MessageStatus.REJECTED:
        raise Conflict("Only a message the interface engine rejected is sent again.",
                       {"status": f"This message is {message.status}."})
    wanted = set(message.line_ids)
    lines = [bl for bl in batch_lines(message.export_batch_id) if bl.line.id in wanted]
    problems = pf.preflight(clinic_facts(clinic.get_settings()), [bl.facts for bl in lines], pf.HL7)
    if problems:
        raise PreflightFailed(problems, pf.HL7)
    before = {"control_id": message.control_id, "status": message.status, "error": message.error}
    message.control_id, message.content = _write(_sender(), lines, clinic_now(now), clinic.next_number("hl7"))
    message.status, message.error = MessageStatus.PENDING, None
    db.session.flush()
    audit.record("hl7.rebuild", "hl7_message", message.id, before=before,
                 after={"control_id": message.control_id, "status": MessageStatus.PENDING})
    return message
