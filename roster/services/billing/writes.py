"""On PostgreSQL the writes that end a re-evaluation go to the database as ONE statement.

Once the new lines are in (their ids are known), what is left — the lines' updates, the review's
sums by day (`day_totals`), the audit records, the findings no longer found and the new ones —
touches five different sets of rows with nothing between them to order: one statement of
data-modifying CTEs (``WITH … AS (UPDATE …), … SELECT``) writes them all, each part with its rows
as one JSON parameter (`services/bulk.py`; a part with no rows gets ``[]`` and writes nothing), and
answers the new lines' ids (`reconcile` hands them to the API close's answer).
Four round trips fewer per re-evaluation, and the sums a day's closes all add to are locked by the
last statement before the commit, for the shortest time (each upsert locks its keys in key order).

The statement's text is compiled once per dialect and run through the driver (``exec_driver_sql``):
it never changes, so psycopg prepares it, and SQLAlchemy does not compile the upsert again (it
never caches an ``ON CONFLICT`` construct). SQLite keeps a statement per kind (in-process, cheap).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import sqlalchemy as sa

from roster.models import AuditEvent, BillingLine, Finding, utcnow
from roster.services import audit, bulk
from roster.services.billing import day_totals
from roster.services.billing.statements import one_of

_LINE, _FINDING, _EVENT = BillingLine.__table__, Finding.__table__, AuditEvent.__table__
UPDATED = ("status", "date_of_service", "units", "modifiers", "place_of_service", "diagnosis_codes",
           "rendering_npi", "facilitator_id", "patient_mrn", "patient_last_name", "patient_first_name",
           "patient_dob", "payer", "member_id")
NEW_FINDING = ("session_id", "line_id", "patient_id", "code", "severity", "rule", "message", "date_of_service")
NEW_LINE = ("session_id", "patient_id", "cpt") + UPDATED  # what a new line is written with


class NewLine(NamedTuple):
    """A line this statement adds, by its key (one live line per session, patient and code), where its id,
    not known before, is asked for (an audit record's entity, a finding's line)."""

    session_id: int
    patient_id: int
    cpt: str


_KEY = (("new_session_id", sa.Integer()), ("new_patient_id", sa.Integer()), ("new_cpt", sa.String()))


def keyed(row: dict, column: str) -> dict:
    """A row whose ``column`` may hold a `NewLine`: that line's key goes in the row's own key columns and
    ``column`` is left to the statement (the new line's id)."""
    value = row[column]
    if isinstance(value, NewLine):
        return row | {column: None} | {name: part for (name, _), part in zip(_KEY, value)}
    return row | dict.fromkeys(name for name, _ in _KEY)


def _insert_keyed(table: sa.Table, names: tuple[str, ...], column: str, param: str) -> sa.Insert:
    """`bulk.insert_from_json` of rows made by `keyed`: ``column`` is the row's, else the id of the line the
    statement adds (``new_written``) under the row's key."""
    rows = bulk._recordset(table, names, "added", param, _KEY)
    new = sa.table("new_written", *(sa.column(name) for name in ("id", "session_id", "patient_id", "cpt")))
    found = sa.and_(new.c.session_id == rows.c.new_session_id, new.c.patient_id == rows.c.new_patient_id,
                    new.c.cpt == rows.c.new_cpt)
    values = [sa.func.coalesce(rows.c[n], new.c.id) if n == column else bulk._value(table, rows, n) for n in names]
    select = sa.select(*values).select_from(rows.outerjoin(new, found)).order_by(rows.c[bulk._POSITION])
    return sa.insert(table).from_select(list(names), select)


# (name of the CTE, its statement): each part's rows come in the parameter of the same name
_PARTS = (
    ("new", bulk.insert_from_json(_LINE, NEW_LINE, "new").returning(
        _LINE.c.id, _LINE.c.session_id, _LINE.c.patient_id, _LINE.c.cpt)),
    ("updates", bulk.update_from_json(_LINE, "id", UPDATED, "updates")),
    ("sums", day_totals.upsert("sums")),
    ("events", _insert_keyed(_EVENT, audit.EVENT_COLUMNS, "entity_id", "events")),
    ("stale", sa.delete(_FINDING).where(one_of("postgresql", _FINDING.c.id, "stale"))),
    ("findings", _insert_keyed(_FINDING, NEW_FINDING, "line_id", "findings")),
)


@cache
def _sql(dialect: sa.Dialect) -> str:
    def text(stmt: sa.Executable) -> str:
        return stmt.compile(dialect=dialect).string
    parts = ", ".join(f"{name}_written AS ({text(stmt)})" for name, stmt in _PARTS)
    return f"WITH {parts} SELECT id, session_id, patient_id, cpt FROM new_written"


def write_all(connection: sa.Connection, *, new: list[dict], updates: list[dict], sums: list[dict],
              events: list[dict], stale: list[int], findings: list[dict]) -> list[tuple[int, int, int, str]]:
    """Lines added (rows of `NEW_LINE`, in their order), lines updated (rows with ``line_id`` and the
    `UPDATED` columns), day sums moved (`day_totals.Moves.rows`), audit records (`audit.record_all`'s
    dicts, made by `keyed` on ``entity_id``), findings deleted (ids) and added (rows of `NEW_FINDING`, made
    by `keyed` on ``line_id``): one statement, nothing sent when there is nothing to write. Returns the new
    lines' (id, session, patient, code)."""
    if not (new or updates or sums or events or stale or findings):
        return []
    key, now = tuple(name for name, _ in _KEY), utcnow()
    return connection.exec_driver_sql(_sql(connection.dialect), {
        "new": bulk.rows_json(_LINE, new, NEW_LINE),
        "created_at": now,  # the new lines' defaults
        "updates": bulk.rows_json(_LINE, updates, ("id",) + UPDATED, {"id": "line_id"}),
        "updated_at": now,  # the lines' onupdate, as SQLAlchemy sets it (and the new lines' default)
        "sums": bulk.rows_json(day_totals.TABLE, sums, day_totals.NAMES),
        "events": bulk.rows_json(_EVENT, audit.event_rows(events), audit.EVENT_COLUMNS + key),
        "stale": stale,
        "findings": bulk.rows_json(_FINDING, findings, NEW_FINDING + key),
    }).all()
