"""On PostgreSQL the writes that end a re-evaluation go to the database as ONE statement.

Once the new lines are in (their ids are known), what is left — the lines' updates, the review's
sums by day (`day_totals`), the audit records, the findings no longer found and the new ones —
touches five different sets of rows with nothing between them to order: one statement of
data-modifying CTEs (``WITH … AS (UPDATE …), … INSERT …``) writes them all, each part with its rows
as one JSON parameter (`services/bulk.py`; a part with no rows gets ``[]`` and writes nothing).
Four round trips fewer per re-evaluation, and the sums a day's closes all add to are locked by the
last statement before the commit, for the shortest time (each upsert locks its keys in key order).

The statement's text is compiled once per dialect and run through the driver (``exec_driver_sql``):
it never changes, so psycopg prepares it, and SQLAlchemy does not compile the upsert again (it
never caches an ``ON CONFLICT`` construct). SQLite keeps a statement per kind (in-process, cheap).
"""

from __future__ import annotations

from functools import cache

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

# (name of the CTE, its statement): each part's rows come in the parameter of the same name
_PARTS = (
    ("updates", bulk.update_from_json(_LINE, "id", UPDATED, "updates")),
    ("sums", day_totals.upsert("sums")),
    ("events", bulk.insert_from_json(_EVENT, audit.EVENT_COLUMNS, "events")),
    ("stale", sa.delete(_FINDING).where(one_of("postgresql", _FINDING.c.id, "stale"))),
)
_LAST = ("findings", bulk.insert_from_json(_FINDING, NEW_FINDING, "findings"))


@cache
def _sql(dialect: sa.Dialect) -> str:
    def text(stmt: sa.Executable) -> str:
        return stmt.compile(dialect=dialect).string
    parts = ", ".join(f"{name}_written AS ({text(stmt)})" for name, stmt in _PARTS)
    return f"WITH {parts} {text(_LAST[1])}"


def write_all(connection: sa.Connection, *, updates: list[dict], sums: list[dict], events: list[dict],
              stale: list[int], findings: list[dict]) -> None:
    """Lines updated (rows with ``line_id`` and the `UPDATED` columns), day sums moved
    (`day_totals.Moves.rows`), audit records (`audit.record_all`'s dicts), findings deleted (ids) and
    added (rows of `NEW_FINDING`): one statement, nothing sent when there is nothing to write."""
    if not (updates or sums or events or stale or findings):
        return
    connection.exec_driver_sql(_sql(connection.dialect), {
        "updates": bulk.rows_json(_LINE, updates, ("id",) + UPDATED, {"id": "line_id"}),
        "updated_at": utcnow(),  # the lines' onupdate, as SQLAlchemy sets it
        "sums": bulk.rows_json(day_totals.TABLE, sums, day_totals.NAMES),
        "events": bulk.rows_json(_EVENT, audit.event_rows(events), audit.EVENT_COLUMNS),
        "stale": stale,
        "findings": bulk.rows_json(_FINDING, findings, NEW_FINDING),
    })
