"""Closing a session: what the close form shows and the defaults it offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import sqlalchemy as sa

from roster.domain.recurrence import utc_to_local
from roster.domain.statuses import SessionStatus
from roster.extensions import db
from roster.models import ClassSession, Facilitator, Patient, User
from roster.services import billing
from roster.services.frontdesk.checkin import CheckinPage, checkin_page


# --------------------------------------------------------------------------- closing


@dataclass
class ClosePage:
    checkin: CheckinPage
    facilitators: list[Facilitator]
    default_facilitator_id: int | None
    default_start: time
    default_end: time
    closed_by: User | None
    billing: dict | None

    @property
    def session(self) -> ClassSession:
        return self.checkin.session

    @property
    def patients(self) -> list[Patient]:
        return [s.patient for s in self.checkin.sets]

    @property
    def present_mrns(self) -> list[str]:
        return [s.patient.mrn for s in self.checkin.sets if s.present]

    @property
    def names_by_mrn(self) -> dict[str, str]:
        return {p.mrn: p.full_name for p in self.patients}


def close_page(session_id: int, with_billing: bool) -> ClosePage:
    """What the close form needs; defaults are what was recorded, else what was planned."""
    page = checkin_page(session_id)
    session = page.session
    tz = session.group_class.timezone
    held = session.status == SessionStatus.HELD
    start = session.actual_start if held and session.actual_start else session.starts_at
    end = session.actual_end if held and session.actual_end else session.ends_at
    fid = session.actual_facilitator_id if held else session.effective_facilitator_id
    facilitators = db.session.scalars(
        sa.select(Facilitator)
        .where(sa.or_(Facilitator.active.is_(True), Facilitator.id == fid))
        .order_by(Facilitator.name, Facilitator.id)
    ).all()
    return ClosePage(
        checkin=page,
        facilitators=list(facilitators),
        default_facilitator_id=fid,
        default_start=utc_to_local(start, tz).time(),
        default_end=utc_to_local(end, tz).time(),
        closed_by=db.session.get(User, session.closed_by_id) if held and session.closed_by_id else None,
        billing=billing.session_billing(session) if held and with_billing else None,
    )


def local_moment(session: ClassSession, clock: time) -> datetime:
    """A wall-clock time on the session's own local date (naive, the class's zone)."""
    return datetime.combine(utc_to_local(session.starts_at, session.group_class.timezone).date(), clock)
