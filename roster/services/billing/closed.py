"""What the UPDATE that closes a session reads besides, in the same statement (PostgreSQL).

Once `lock_before_change` has locked the session's patients and then the session, the statement that
writes the closed session's row can read what its re-evaluation reads first (`facts_changed`): its
(patient, date) pairs and the held sessions billing them, and — when no other session bills them, the
usual close — what re-evaluation reads of that session alone (`stored`): two statements fewer.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import array

from roster.domain.statuses import LineStatus, SessionStatus
from roster.models import BillingLine, CheckIn, ClassSession
from roster.services.billing.statements import RawArray, Together
from roster.services.billing.stored import Stored, with_first
from roster.transactions import PREPARE_AT_ONCE


class PairsRead(NamedTuple):
    """The (patient, date of service) pairs of the sessions a change names (`_pairs_of`) and the held sessions
    with a live line for one of them (`_sessions_with_lines_for`), read in a statement that ran after those
    sessions were locked (`lock_before_change`): the UPDATE that closes a session (`closing_returns`)."""

    pairs: set[tuple[int, date]]
    sessions: set[int]
    stored: Stored | None = None  # read with them: what re-evaluation reads of the session alone (`stored`)


def closing_returns() -> list[sa.ColumnElement]:
    """PostgreSQL: what the UPDATE of a session that closes it (parameter ``session_id``) returns for `PairsRead`
    (`closed_pairs`): its check-ins' patients and its live lines' patients and dates (in id order). The held
    sessions with a live line for one of its pairs are read from them (`closing_read`, ``sessions``)."""
    session = sa.bindparam("session_id", type_=sa.Integer())
    own = BillingLine.__table__.alias("own")
    checked_in = sa.select(CheckIn.patient_id).where(CheckIn.session_id == session).distinct()
    live = (own.c.session_id == session, own.c.status != LineStatus.VOID)
    return [sa.func.array(stmt.scalar_subquery(), type_=RawArray(type_)).label(name) for name, stmt, type_ in (
        ("checked_in", checked_in, sa.Integer()),
        ("line_patients", sa.select(own.c.patient_id).where(*live).order_by(own.c.id), sa.Integer()),
        ("line_dates", sa.select(own.c.date_of_service).where(*live).order_by(own.c.id), sa.Date()))]


def _with_sessions(closed: sa.CTE) -> sa.CTE:
    """``closed``'s columns and ``sessions``: the held sessions with a live line for one of its (patient, date)
    pairs (parameter ``new_day``, its date of service now): its check-ins' patients on that day (its own row is
    held now: it bills its check-ins) and its live lines' own. One look-up by patient for all the pairs (a
    UNION of the check-ins' and the lines' joins, three scans of the lines, took PostgreSQL longer to plan)."""
    day = sa.bindparam("new_day", type_=sa.Date())
    days = sa.func.array_cat(sa.func.array_fill(day, array([sa.func.cardinality(closed.c.checked_in)])),
                             closed.c.line_dates)
    pair = (sa.func.unnest(sa.func.array_cat(closed.c.checked_in, closed.c.line_patients), days)
            .table_valued("patient_id", "day").render_derived(name="pair"))
    other, held = BillingLine.__table__.alias("other"), ClassSession.__table__.alias("held")
    sessions = (sa.select(other.c.session_id).distinct()
                .join(held, held.c.id == other.c.session_id)
                .join(pair, sa.and_(other.c.patient_id == pair.c.patient_id, other.c.date_of_service == pair.c.day))
                .where(other.c.status != LineStatus.VOID, held.c.status == SessionStatus.HELD))
    return sa.select(*closed.c, sa.func.array(sessions.scalar_subquery(), type_=RawArray(sa.Integer())).label(
        "sessions")).cte("paired")


def closed_pairs(returned: Sequence, day: date, read: Stored | None = None) -> PairsRead:
    """`PairsRead` from what `closing_returns` returned (``day``: the ``new_day`` it was given; ``read``: what
    re-evaluation reads of the session, read with it, `closing_read`)."""
    checked_in, patients, dates, sessions = returned
    return PairsRead({(patient, day) for patient in checked_in} | set(zip(patients, dates)), set(sessions), read)


def closing_read(update: sa.Update) -> Together:
    """PostgreSQL: ``update`` (a session's UPDATE returning `closing_returns` last), the sessions billing its pairs
    (`_with_sessions`) and what re-evaluation reads of that session (`stored.with_first`; parameters ``ids`` and
    ``sessions``: [the session]) as ONE statement.
    Its lines are locked and read only when no other session bills its pairs (else they would be locked
    before that session's row, against the order; re-evaluation then reads them all, under the locks)."""
    closed = _with_sessions(update.cte("closed"))
    alone = sa.exists(sa.select(1).select_from(closed).where(
        closed.c.sessions.contained_by(array([sa.bindparam("session_id", type_=sa.Integer())]))))
    return with_first(closed, alone, **{PREPARE_AT_ONCE: True})  # the longest of a close to plan (~1 ms quiet)
