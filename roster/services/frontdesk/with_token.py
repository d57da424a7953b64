"""The API check-in's and undo's own first read, made in their token's statement: one round trip for the
token and its user (``tokens.TOKEN_AND_USER``), the session with its class's zone, and for a check-in the
caregiver with their linked patients (each a round trip of its own before, with SQLAlchemy's work for each).

``roster.api.read_with_token`` runs the reader's statement for the call's token; the view takes the rows
(``taken``) once. A view run again after a lost race (a new transaction) finds none and reads on its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Request, g, request

from roster.extensions import db
from roster.models import ClassSession
from roster.services.billing.locks import entered_gate, gate
from roster.services.checkin_people import CAREGIVER_COLUMNS, CAREGIVER_FROM, ORDER_BY, caregiver_param, on_caregiver
from roster.services.frontdesk.sessions import DESK_SESSION_COLUMNS, DESK_SESSION_FROM, DeskSession, desk_session
from roster.services.tokens import TOKEN_COLUMNS, with_token

_ON_SESSION = ClassSession.__table__.c.id == sa.bindparam("session_id")
_SESSION_END = TOKEN_COLUMNS + len(DESK_SESSION_COLUMNS)

UNDO_READ = with_token(list(DESK_SESSION_COLUMNS), DESK_SESSION_FROM, _ON_SESSION)
CHECKIN_READ = UNDO_READ.add_columns(*CAREGIVER_COLUMNS).outerjoin(CAREGIVER_FROM, on_caregiver).order_by(ORDER_BY)
# PostgreSQL: the same reads take the session's attendance gate (`billing.locks.SESSION_GATE`, shared) in
# their round trip: the check-in's or undo's own statement, next, reads the session's status after it.
_GATE = (sa.select(*gate(sa.bindparam("session_id", type_=sa.Integer), exclusive=False))
         .cte("session_gate").prefix_with("MATERIALIZED"))
_READS = {  # dialect -> (undo's read, check-in's read)
    "postgresql": (UNDO_READ.join(_GATE, sa.true()), CHECKIN_READ.join(_GATE, sa.true())),
    "sqlite": (UNDO_READ, CHECKIN_READ),
}


def _reads() -> tuple[sa.Select, sa.Select]:
    return _READS[db.session.get_bind().dialect.name]


def undo(request: Request) -> tuple[sa.Select, dict]:
    """An undo's read: its session."""
    return _reads()[0], {"session_id": request.view_args["session_id"]}


def check_in(request: Request) -> tuple[sa.Select, dict]:
    """A check-in's read: its session, and the caregiver its body names with their linked patients."""
    data = request.get_json(silent=True)
    caregiver_id = data.get("caregiver_id") if isinstance(data, dict) else None
    return _reads()[1], {"session_id": request.view_args["session_id"],
                                 "caregiver_id": caregiver_param(caregiver_id)}


def taken() -> list[sa.Row] | None:
    """The rows read with the call's token, once (None: read again, on its own); with them, on PostgreSQL,
    the session's gate was taken (`entered_gate`)."""
    rows = g.pop("api_rows", None)
    if rows:
        entered_gate([request.view_args["session_id"]], exclusive=False)
    return rows


def session_of(rows: list[sa.Row]) -> DeskSession | None:
    return desk_session(rows[0][TOKEN_COLUMNS:_SESSION_END])


def caregiver_rows(rows: list[sa.Row]) -> list[tuple]:
    """``checkin_people.CAREGIVER_COLUMNS``' values of each row."""
    return [row[_SESSION_END:] for row in rows]
