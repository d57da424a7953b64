"""The roster rows of an export, read and kept in bulk (a fixed number of statements per batch).

`rows_of_batch` reads every claimed line of a batch with what its roster row
shows (patient, session, class, rendering facilitator) in one SELECT and the
caregivers who came in a second; `keep_rows` writes every row's JSON into
``billing_line.exported_row`` with ONE UPDATE whose single parameter is the
JSON array of rows (PostgreSQL ``json_to_recordset``, SQLite ``json_each``).
"""

from __future__ import annotations

import json
from collections import defaultdict

import sqlalchemy as sa

from roster.domain.roster_csv import RosterRow, row_to_json
from roster.extensions import db
from roster.models import BillingLine, Caregiver, CheckIn, ClassSession, Facilitator, GroupClass, Patient


def rows_of_batch(batch_id: int) -> list[RosterRow]:
    """The roster rows of the lines exported in this batch, from the current facts (two SELECTs).
    Read through the session's connection (Core rows): the ORM's row loading cost more than the
    query on a year's export."""
    conn = db.session.connection()
    lines = conn.execute(
        sa.select(
            BillingLine.id, BillingLine.date_of_service, BillingLine.session_id, BillingLine.patient_id,
            BillingLine.cpt, BillingLine.modifiers, BillingLine.units, BillingLine.diagnosis_codes,
            BillingLine.place_of_service, BillingLine.rendering_npi, GroupClass.title,
            # The claim identity the line was derived with (S6); the patient's own for older lines.
            sa.func.coalesce(BillingLine.patient_mrn, Patient.mrn).label("mrn"),
            sa.func.coalesce(BillingLine.patient_last_name, Patient.last_name).label("last_name"),
            sa.func.coalesce(BillingLine.patient_first_name, Patient.first_name).label("first_name"),
            sa.func.coalesce(BillingLine.patient_dob, Patient.dob).label("dob"),
            sa.func.coalesce(BillingLine.payer, Patient.payer).label("payer"),
            sa.func.coalesce(BillingLine.member_id, Patient.member_id).label("member_id"),
            Facilitator.name.label("rendering_name"), Facilitator.discipline.label("rendering_discipline"),
            ClassSession.actual_start, ClassSession.actual_end,
        )
        .join(Patient, Patient.id == BillingLine.patient_id)
        .join(ClassSession, ClassSession.id == BillingLine.session_id)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .outerjoin(Facilitator, Facilitator.id == BillingLine.facilitator_id)
        .where(BillingLine.export_batch_id == batch_id)
        .order_by(BillingLine.id)
    ).all()
    claimed = sa.select(BillingLine.session_id, BillingLine.patient_id).where(
        BillingLine.export_batch_id == batch_id).distinct().subquery()
    caregivers: dict[tuple[int, int], list[tuple[str, str, str]]] = defaultdict(list)
    for r in conn.execute(
        sa.select(CheckIn.session_id, CheckIn.patient_id, Caregiver.first_name, Caregiver.last_name,
                  CheckIn.relationship)  # as recorded at check-in (S9)
        .join(claimed, sa.and_(claimed.c.session_id == CheckIn.session_id, claimed.c.patient_id == CheckIn.patient_id))
        .join(Caregiver, Caregiver.id == CheckIn.caregiver_id)
        .order_by(CheckIn.session_id, CheckIn.patient_id, CheckIn.caregiver_id)
    ):
        caregivers[(r.session_id, r.patient_id)].append((r.first_name, r.last_name, r.relationship or ""))
    return [
        RosterRow(
            line_id=l.id, action="new", date_of_service=l.date_of_service, session_id=l.session_id,
            class_title=l.title, patient_mrn=l.mrn, patient_last_name=l.last_name,
            patient_first_name=l.first_name, patient_dob=l.dob, payer=l.payer, member_id=l.member_id,
            cpt=l.cpt, modifiers=tuple(l.modifiers or ()), units=l.units,
            diagnosis_codes=tuple(l.diagnosis_codes or ()), place_of_service=l.place_of_service,
            rendering_npi=l.rendering_npi, rendering_name=l.rendering_name,
            rendering_discipline=l.rendering_discipline,
            caregivers=tuple(caregivers[(l.session_id, l.patient_id)]), minutes=_minutes(l.actual_start, l.actual_end),
        )
        for l in lines
    ]


def _minutes(start, end) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() // 60)


_KEEP = {
    "postgresql": (
        "UPDATE billing_line AS b SET exported_row = x.row "
        "FROM json_to_recordset(CAST(:rows AS json)) AS x(id integer, row json) WHERE b.id = x.id"
    ),
    "sqlite": (
        "UPDATE billing_line SET exported_row = x.row FROM ("
        " SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.row') AS row"
        " FROM json_each(:rows)) AS x WHERE billing_line.id = x.id"
    ),
}


def keep_rows(rows: list[RosterRow]) -> None:
    """Keep each row as exported: one UPDATE for all of them, the rows passed as one JSON parameter."""
    if not rows:
        return
    payload = json.dumps([{"id": r.line_id, "row": row_to_json(r)} for r in rows])
    db.session.execute(sa.text(_KEEP[db.session.get_bind().dialect.name]), {"rows": payload})
