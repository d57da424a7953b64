"""The desk's busiest pages' own first read, made in their user's statement (``page_user.with_user``): one round
trip for the signed-in user and
- the walk-in search fragment: the session with its class's zone, which on PostgreSQL also asks for the walk-in
  statement's generic plan when it will want one (``search.plan_once``);
- the today page: the clinic's sessions of the day asked for (``sessions.day_statement``), all of them (a
  facilitator who sees only their own reads those on their own).

``auth.sessions.read_with_user`` runs the reader's statement for the request's user; the view takes the rows
(``auth.sessions.taken``) once. A view run again finds none and reads on its own.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Request, current_app, g

from roster.domain.validators import session_window
from roster.models import ClassSession
from roster.services import clock, search
from roster.services.frontdesk.sessions import (
    DESK_SESSION_COLUMNS, DESK_SESSION_FROM, GENERIC_PLANS, DayRow, DeskSession, day_params, day_statement,
    desk_session,
)
from roster.services.validation import parse_date
from roster.services.page_user import USER_COLUMNS, with_user

_ON_SESSION = ClassSession.__table__.c.id == sa.bindparam("session_id")
FRAGMENT_READ = with_user(list(DESK_SESSION_COLUMNS), DESK_SESSION_FROM, _ON_SESSION)
FRAGMENT_READ_GENERIC = FRAGMENT_READ.add_columns(GENERIC_PLANS)
_SESSION_END = USER_COLUMNS + len(DESK_SESSION_COLUMNS)


def fragment(request: Request) -> tuple[sa.Select, dict]:
    """The fragment's read: its session, and the walk-in's generic plan if its statement will want one."""
    found = search.walk_in_ids(request.args.get("q", "").strip())
    generic = found is not None and search.generic_plan(found[0])
    return (FRAGMENT_READ_GENERIC if generic else FRAGMENT_READ), {"session_id": request.view_args["session_id"]}


def session_of(rows: list) -> DeskSession | None:
    return desk_session(rows[0][USER_COLUMNS:_SESSION_END])


_DAY = day_statement(False).subquery("day")
TODAY_READ = with_user(list(_DAY.c), _DAY, sa.true()).order_by(_DAY.c.starts_at, _DAY.c.id)


def asked_day(request: Request, errors: dict) -> date:
    """The day the today page shows: its ``date`` (a bad one goes into ``errors``), else the clinic's today."""
    day = parse_date(request.args.get("date"), "date", errors, "Date", session_window)
    return day or clock.today_in(current_app.config["CLINIC_TIMEZONE"])


def today(request: Request) -> tuple[sa.Select, dict]:
    """The today page's read: the clinic's sessions of the day it will show."""
    day = g.today_read = asked_day(request, {})
    return TODAY_READ, day_params(day, current_app.config["CLINIC_TIMEZONE"])


def day_of(rows: list | None, day: date) -> list[DayRow] | None:
    """The day's rows the user's statement read (None: it read none, or another day than ``day``)."""
    if rows is None or g.pop("today_read", None) != day:
        return None
    return [DayRow._make(row[USER_COLUMNS:]) for row in rows if row[USER_COLUMNS] is not None]
