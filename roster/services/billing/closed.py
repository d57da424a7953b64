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


class PairsRead(NamedTuple):
    """The (patient, date of service) pairs of the sessions a change names (`_pairs_of`) and the held sessions
    with a live line for one of them (`_sessions_with_lines_for`), read in a statement that ran after those
    sessions were locked (`lock_before_change`): the UPDATE that closes a session (`closing_returns`)."""

    pairs: set[tuple[int, date]]
    sessions: set[int]
    stored: Stored | None = None  # read with them: what re-evaluation reads of the session alone (`stored`)


def closing_returns() -> list[sa.ColumnElement]:
    """PostgreSQL: what the UPDATE of a session that closes it (parameters ``session_id`` and ``new_day``, its
    date of service now) returns for `PairsRead` (`closed_pairs`): its check-ins' patients, its live lines'
    patients and dates (in id order), and the held sessions with a live line for one of those pairs (the
    check-ins' patients on the new day, the lines' own). Its own row is held now: it bills its check-ins."""
    session, day = sa.bindparam("session_id", type_=sa.Integer()), sa.bindparam("new_day", type_=sa.Date())
    own, other, held = BillingLine.__table__.alias("own"), BillingLine.__table__.alias("other"), ClassSession.__table__.alias("held")
    checked_in = sa.select(CheckIn.patient_id).where(CheckIn.session_id == session).distinct()
    live = (own.c.session_id == session, own.c.status != LineStatus.VOID)
    of_held = (other.c.status != LineStatus.VOID, held.c.status == SessionStatus.HELD)
    sessions = sa.union(
        sa.select(other.c.session_id).join(held, held.c.id == other.c.session_id)
        .where(other.c.patient_id == sa.any_(sa.func.array(checked_in.scalar_subquery())),
               other.c.date_of_service == day, *of_held),
        sa.select(other.c.session_id).select_from(own).join(other, sa.and_(
            other.c.patient_id == own.c.patient_id, other.c.date_of_service == own.c.date_of_service))
        .join(held, held.c.id == other.c.session_id).where(*live, *of_held),
    )
    return [sa.func.array(stmt.scalar_subquery(), type_=RawArray(type_)).label(name) for name, stmt, type_ in (
        ("checked_in", checked_in, sa.Integer()),
        ("line_patients", sa.select(own.c.patient_id).where(*live).order_by(own.c.id), sa.Integer()),
        ("line_dates", sa.select(own.c.date_of_service).where(*live).order_by(own.c.id), sa.Date()),
        ("sessions", sessions, sa.Integer()))]


def closed_pairs(returned: Sequence, day: date, read: Stored | None = None) -> PairsRead:
    """`PairsRead` from what `closing_returns` returned (``day``: the ``new_day`` it was given; ``read``: what
    re-evaluation reads of the session, read with it, `closing_read`)."""
    checked_in, patients, dates, sessions = returned
    return PairsRead({(patient, day) for patient in checked_in} | set(zip(patients, dates)), set(sessions), read)


def closing_read(update: sa.Update) -> Together:
    """PostgreSQL: ``update`` (a session's UPDATE returning `closing_returns` last) and what re-evaluation reads
    of that session (`stored.with_first`; parameters ``ids`` and ``sessions``: [the session]) as ONE statement.
    Its lines are locked and read only when no other session bills its pairs (else they would be locked
    before that session's row, against the order; re-evaluation then reads them all, under the locks)."""
    closed = update.cte("closed")
    alone = sa.exists(sa.select(1).select_from(closed).where(
        closed.c.sessions.contained_by(array([sa.bindparam("session_id", type_=sa.Integer())]))))
    return with_first(closed, alone)
