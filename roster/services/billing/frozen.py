"""The roster rows of an export, built and kept by the database in the statement that claims the lines.

`claim_ready_lines` is ONE ``UPDATE ... FROM (SELECT ...) RETURNING``: it takes
every ready, unexported line of the range into the batch and keeps, in
``billing_line.exported_row``, the JSON picture of its roster row
(`roster_csv.row_to_json`: the line's coding and claim identity, the class, the
rendering facilitator, who came as recorded at check-in, the minutes held),
built in SQL (``json_object`` on SQLite, ``json_build_object`` on PostgreSQL).
No row passes through Python and every line gets one new version, not two.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from roster.domain.roster_csv import COLUMNS
from roster.domain.statuses import LineStatus
from roster.extensions import db
from roster.models import BillingExportTotal, BillingLine

# A roster column -> its SQL over bl (the line), p (patient), cs (session), gc (class), f (facilitator).
# {…} parts differ by database (_DIALECT). The identity is the one the line was derived with (S6),
# the patient's own for older lines; caregivers as recorded at check-in (S9), by caregiver id.
_COLUMN_SQL = {
    "line_id": "bl.id",
    "date_of_service": "bl.date_of_service",
    "session_id": "bl.session_id",
    "class_title": "gc.title",
    "patient_mrn": "coalesce(bl.patient_mrn, p.mrn)",
    "patient_last_name": "coalesce(bl.patient_last_name, p.last_name)",
    "patient_first_name": "coalesce(bl.patient_first_name, p.first_name)",
    "patient_dob": "coalesce(bl.patient_dob, p.dob)",
    "payer": "coalesce(bl.payer, p.payer)",
    "member_id": "coalesce(bl.member_id, p.member_id)",
    "cpt": "bl.cpt",
    "modifiers": "{modifiers}",
    "units": "bl.units",
    "diagnosis_codes": "{diagnosis_codes}",
    "place_of_service": "bl.place_of_service",
    "rendering_npi": "bl.rendering_npi",
    "rendering_name": "f.name",
    "rendering_discipline": "f.discipline",
    "caregivers": "{caregivers}",
    "minutes": "{minutes}",
}
assert tuple(_COLUMN_SQL) == tuple(c for c in COLUMNS if c != "action"), "one SQL expression per kept column"

_CAME = ("FROM check_in ci JOIN caregiver cg ON cg.id = ci.caregiver_id"
         " WHERE ci.session_id = bl.session_id AND ci.patient_id = bl.patient_id")

# SQLite: dates are kept as ISO text; datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (minutes are floored
# from whole microseconds, as Python's timedelta does); the caregivers are aggregated from a subquery
# ordered by caregiver (SQLite keeps that order: it does not flatten an ordered subquery under an
# aggregate).
_SQLITE_MICROS = ("(CAST(strftime('%s', cs.actual_end) AS INTEGER) - CAST(strftime('%s', cs.actual_start) AS INTEGER))"
                  " * 1000000 + CAST(substr(cs.actual_end, 21) AS INTEGER) - CAST(substr(cs.actual_start, 21) AS INTEGER)")
_DIALECT = {
    "sqlite": {
        "object": "json_object",
        "modifiers": "CASE json_type(bl.modifiers) WHEN 'array' THEN json(bl.modifiers) ELSE json_array() END",
        "diagnosis_codes": ("CASE json_type(bl.diagnosis_codes) WHEN 'array' THEN json(bl.diagnosis_codes)"
                            " ELSE json_array() END"),
        "caregivers": ("json((SELECT json_group_array(json_array(c.first_name, c.last_name, c.relationship)) FROM"
                       " (SELECT cg.first_name, cg.last_name, coalesce(ci.relationship, '') AS relationship "
                       + _CAME + " ORDER BY ci.caregiver_id) AS c))"),
        # Unary + keeps SQLite (no table statistics) from walking every unexported line by the
        # export_batch_id index instead of the range's lines by date.
        "unclaimed": "+bl.export_batch_id IS NULL",
        # A held session ends after it starts (ck_class_session_actual_order): truncating is flooring.
        "minutes": f"({_SQLITE_MICROS}) / 60000000",
    },
    "postgresql": {
        "object": "json_build_object",
        "modifiers": "CASE json_typeof(bl.modifiers) WHEN 'array' THEN bl.modifiers ELSE '[]'::json END",
        "diagnosis_codes": ("CASE json_typeof(bl.diagnosis_codes) WHEN 'array' THEN bl.diagnosis_codes"
                            " ELSE '[]'::json END"),
        "caregivers": ("(SELECT coalesce(json_agg(json_build_array(cg.first_name, cg.last_name,"
                       " coalesce(ci.relationship, '')) ORDER BY ci.caregiver_id), '[]'::json) " + _CAME + ")"),
        "unclaimed": "bl.export_batch_id IS NULL",
        "minutes": "CAST(floor(EXTRACT(EPOCH FROM cs.actual_end - cs.actual_start) / 60) AS integer)",
    },
}


def _rows_sql(dialect: str) -> str:
    parts = _DIALECT[dialect]
    pairs = ", ".join(f"'{column}', {sql.format(**parts)}" for column, sql in _COLUMN_SQL.items())
    return (
        f"SELECT bl.id AS id, {parts['object']}({pairs}) AS kept FROM billing_line bl"
        " JOIN patient p ON p.id = bl.patient_id"
        " JOIN class_session cs ON cs.id = bl.session_id"
        " JOIN group_class gc ON gc.id = cs.class_id"
        " LEFT OUTER JOIN facilitator f ON f.id = bl.facilitator_id"
        " WHERE bl.date_of_service >= :date_from AND bl.date_of_service <= :date_to"
        f" AND bl.status = :ready AND {parts['unclaimed']}"
    )


def claim_ready_lines(batch_id: int, date_from: date, date_to: date) -> list[int]:
    """Take every ready, unexported line of the range into the batch, each keeping its roster row
    as exported; the ids taken (one statement). On PostgreSQL the same statement adds what it took to
    the batch's sums for the review (``BillingExportTotal``, as `day_totals.record_export` reads them
    back on SQLite, which has no UPDATE in a WITH): a range's parts are whole days, so each part's
    sums are rows of their own.

    The claim's conditions are on the updated rows themselves, so a line another transaction took
    meanwhile is skipped (PostgreSQL re-checks them after waiting for its row lock; SQLite has one
    writer)."""
    conn = db.session.connection()  # rows, not ORM objects (54,000 ids cost the ORM 0.4 s)
    rows = (
        sa.text(_rows_sql(conn.dialect.name))
        .bindparams(sa.bindparam("date_from", date_from, type_=sa.Date),
                    sa.bindparam("date_to", date_to, type_=sa.Date), ready=LineStatus.READY)
        .columns(id=sa.Integer, kept=sa.JSON)
        .subquery("x")
    )
    claim = (
        sa.update(BillingLine)
        .where(BillingLine.id == rows.c.id, BillingLine.date_of_service >= date_from,
               BillingLine.date_of_service <= date_to, BillingLine.status == LineStatus.READY,
               BillingLine.export_batch_id.is_(None))
        .values(status=LineStatus.EXPORTED, export_batch_id=batch_id, exported_row=rows.c.kept)
    )
    if conn.dialect.name != "postgresql":
        return list(conn.scalars(claim.returning(BillingLine.id)).all())
    # (the sums from the claimed rows themselves: reading a year's 54,770 lines back by the batch's
    # index and sorting them cost PostgreSQL more than a tenth of the claim)
    taken = claim.returning(BillingLine.id, BillingLine.date_of_service, BillingLine.cpt,
                            sa.func.coalesce(BillingLine.facilitator_id, 0).label("facilitator_id"),
                            BillingLine.units).cte("taken")
    key = (taken.c.date_of_service, taken.c.cpt, taken.c.facilitator_id)
    sums = sa.insert(BillingExportTotal).from_select(
        ["export_batch_id", "date_of_service", "cpt", "facilitator_id", "lines", "units"],
        sa.select(sa.literal(batch_id, sa.Integer), *key, sa.func.count(), sa.func.sum(taken.c.units)).group_by(*key),
    ).cte("sums")
    return list(conn.scalars(sa.select(taken.c.id).add_cte(sums)).all())
