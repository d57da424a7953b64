"""Export: take ready lines and pending voids into a batch, keep each row as exported (R16)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.roster_csv import RosterRow, iter_csv, row_from_json, row_to_json
from roster.extensions import db
from roster.models import BillingLine, Caregiver, CaregiverLink, CheckIn, ClassSession, ExportBatch, User
from roster.services import audit
from roster.services.billing.facts import _minutes
from roster.services.paging import clamp, page_count

CSV_CHUNK = 500


def export_range(date_from: date, date_to: date, user: User | None) -> ExportBatch:
    """Take every ready, unexported line of the range and every pending void, in one transaction.

    The UPDATEs only take rows still unexported, so two billers exporting at
    once never put a line in two batches (PostgreSQL re-checks the condition
    after waiting for the other transaction's row locks; SQLite has one writer).
    """
    batch = ExportBatch(date_from=date_from, date_to=date_to,
                        created_by_id=user.id if user is not None and user.is_authenticated else None)
    db.session.add(batch)
    db.session.flush()
    in_range = sa.and_(BillingLine.date_of_service >= date_from, BillingLine.date_of_service <= date_to)
    new_ids = db.session.scalars(
        sa.update(BillingLine)
        .where(in_range, BillingLine.status == "ready", BillingLine.export_batch_id.is_(None))
        .values(status="exported", export_batch_id=batch.id)
        .returning(BillingLine.id)
        .execution_options(synchronize_session=False)
    ).all()
    void_ids = db.session.scalars(
        sa.update(BillingLine)
        .where(in_range, BillingLine.status == "void", BillingLine.export_batch_id.is_not(None),
               BillingLine.void_batch_id.is_(None))
        .values(void_batch_id=batch.id)
        .returning(BillingLine.id)
        .execution_options(synchronize_session=False)
    ).all()
    for start in range(0, len(new_ids), CSV_CHUNK):  # keep each row as exported, a chunk at a time
        rows = _rows_for(sorted(new_ids)[start:start + CSV_CHUNK])
        db.session.execute(sa.update(BillingLine), [{"id": r.line_id, "exported_row": row_to_json(r)} for r in rows])
    batch.row_count = len(new_ids) + len(void_ids)
    db.session.flush()
    db.session.expire_all()
    audit.record(
        "export.create", "export_batch", batch.id,
        before={"lines": sorted(new_ids), "status": "ready", "voids_pending": sorted(void_ids)},
        after={"status": "exported", "rows": batch.row_count, "from": date_from.isoformat(),
               "to": date_to.isoformat()},
    )
    return batch


def export_history(limit: int = 100, offset: int = 0) -> list[ExportBatch]:
    """Export batches, newest first, with who made them."""
    return list(db.session.scalars(
        sa.select(ExportBatch).options(selectinload(ExportBatch.created_by))
        .order_by(ExportBatch.id.desc()).limit(limit).offset(offset)
    ))


@dataclass(frozen=True)
class ExportPage:
    batches: list[ExportBatch]
    page: int
    pages: int


def export_page(page: int, per_page: int) -> ExportPage:
    """One page of the export history, newest first (three queries)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ExportBatch))
    pages = page_count(total, per_page)
    page = clamp(page, pages)
    return ExportPage(export_history(per_page, (page - 1) * per_page), page, pages)


def iter_batch_csv(batch_id: int) -> Iterator[str]:
    """The batch's roster CSV, built a chunk of lines at a time."""
    return iter_csv(_batch_rows(batch_id))


def _batch_rows(batch_id: int) -> Iterator[RosterRow]:
    """The rows kept at export time: a later download, and a void row, repeat them unchanged."""
    stmt = (
        sa.select(BillingLine.exported_row, BillingLine.void_batch_id)
        .where(sa.or_(BillingLine.export_batch_id == batch_id, BillingLine.void_batch_id == batch_id))
        .order_by(BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
        .execution_options(yield_per=CSV_CHUNK)
    )
    for row in db.session.execute(stmt):
        yield row_from_json(row.exported_row, "void" if row.void_batch_id == batch_id else "new")


def _rows_for(ids: list[int]) -> list[RosterRow]:
    """Roster rows for these lines from the current facts (at export time)."""
    lines = {
        l.id: l for l in db.session.scalars(
            sa.select(BillingLine).where(BillingLine.id.in_(ids)).options(
                selectinload(BillingLine.patient),
                selectinload(BillingLine.facilitator),
                selectinload(BillingLine.session).selectinload(ClassSession.group_class),
            )
        )
    }
    pairs = {(l.session_id, l.patient_id) for l in lines.values()}
    session_ids = {s for s, _ in pairs}
    caregivers: dict[tuple[int, int], list[tuple[str, str, str]]] = defaultdict(list)
    if session_ids:
        rows = db.session.execute(
            sa.select(CheckIn.session_id, CheckIn.patient_id, CheckIn.caregiver_id,
                      CaregiverLink.relationship)
            .join(CaregiverLink, sa.and_(CaregiverLink.caregiver_id == CheckIn.caregiver_id,
                                         CaregiverLink.patient_id == CheckIn.patient_id), isouter=True)
            .where(CheckIn.session_id.in_(session_ids))
            .order_by(CheckIn.caregiver_id)
        ).all()
        names = {c.id: c for c in db.session.scalars(
            sa.select(Caregiver).where(Caregiver.id.in_({r.caregiver_id for r in rows})))} if rows else {}
        for r in rows:
            if (r.session_id, r.patient_id) in pairs:
                c = names[r.caregiver_id]
                caregivers[(r.session_id, r.patient_id)].append((c.first_name, c.last_name, r.relationship or ""))
    out = []
    for line_id in ids:
        line = lines[line_id]
        s, p, f = line.session, line.patient, line.facilitator
        out.append(RosterRow(
            line_id=line.id, action="new", date_of_service=line.date_of_service, session_id=s.id,
            class_title=s.group_class.title, patient_mrn=p.mrn, patient_last_name=p.last_name,
            patient_first_name=p.first_name, patient_dob=p.dob, payer=p.payer, member_id=p.member_id,
            cpt=line.cpt, modifiers=tuple(line.modifiers or ()), units=line.units,
            diagnosis_codes=tuple(line.diagnosis_codes or ()), place_of_service=line.place_of_service,
            rendering_npi=line.rendering_npi, rendering_name=f.name if f else None,
            rendering_discipline=f.discipline if f else None,
            caregivers=tuple(caregivers[(s.id, p.id)]), minutes=_minutes(s),
        ))
    return out
