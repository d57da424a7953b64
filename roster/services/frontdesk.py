"""Read models for the front desk: a day's sessions, a session's check-in list, walk-in search,
closing and the end-of-day list.

Each loads everything its page shows in a fixed number of queries, so the
templates never lazy-load and a class of 30 sets costs what a class of 3 does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.recurrence import utc_to_local
from roster.extensions import db
from roster.models import (
    Caregiver,
    CaregiverLink,
    CheckIn,
    ClassSession,
    Enrollment,
    EnrollmentCaregiver,
    Facilitator,
    GroupClass,
    Patient,
    PatientPresence,
    User,
)
from roster.services import NotFound, attendance, billing, clock, scheduling, search

OPEN_SESSIONS_LIMIT = 200


def _session_options():
    return (
        selectinload(ClassSession.group_class).selectinload(GroupClass.facilitator),
        selectinload(ClassSession.planned_facilitator),
        selectinload(ClassSession.actual_facilitator),
    )


def load_session(session_id: int) -> ClassSession:
    session = db.session.scalar(
        sa.select(ClassSession).options(*_session_options()).where(ClassSession.id == session_id)
    )
    if session is None:
        raise NotFound(f"No session {session_id}.")
    return session


def facilitator_of(session: ClassSession) -> Facilitator | None:
    """Who ran it (once held and recorded), else who is planned."""
    if session.status == "held" and session.actual_facilitator is not None:
        return session.actual_facilitator
    return session.effective_facilitator


def _arrivals(session_ids: list[int]) -> dict[int, int]:
    """Distinct caregivers checked in, per session."""
    if not session_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(CheckIn.session_id, sa.func.count(sa.distinct(CheckIn.caregiver_id)))
            .where(CheckIn.session_id.in_(session_ids))
            .group_by(CheckIn.session_id)
        ).all()
    )


# --------------------------------------------------------------------------- a day


@dataclass
class DayRow:
    session: ClassSession
    facilitator: Facilitator | None
    sets: int  # enrolled caregiver sets
    expected: int  # enrolled caregivers
    checked_in: int  # distinct caregivers checked in (walk-ins too)


def day_sessions(day: date, tz: str, facilitator_id: int | None = None) -> list[DayRow]:
    """The sessions of a local day in zone ``tz``, with enrolment and arrival counts.

    With ``facilitator_id``: only the sessions that facilitator runs (planned, or recorded once held).
    """
    start, end = scheduling.local_day_bounds(day, tz)
    sessions = scheduling.sessions_between(start, end)
    if facilitator_id is not None:
        sessions = [s for s in sessions if (f := facilitator_of(s)) is not None and f.id == facilitator_id]
    seats = _enrolled_counts({s.class_id for s in sessions})
    arrived = _arrivals([s.id for s in sessions])
    return [
        DayRow(s, facilitator_of(s), *seats.get(s.class_id, (0, 0)), arrived.get(s.id, 0))
        for s in sessions
    ]


def _enrolled_counts(class_ids: set[int]) -> dict[int, tuple[int, int]]:
    if not class_ids:
        return {}
    rows = db.session.execute(
        sa.select(Enrollment.class_id, sa.func.count(sa.distinct(Enrollment.id)),
                  sa.func.count(EnrollmentCaregiver.id))
        .outerjoin(EnrollmentCaregiver, EnrollmentCaregiver.enrollment_id == Enrollment.id)
        .where(Enrollment.class_id.in_(class_ids), Enrollment.status == "enrolled")
        .group_by(Enrollment.class_id)
    ).all()
    return {class_id: (sets, caregivers) for class_id, sets, caregivers in rows}


# --------------------------------------------------------------------------- a session's check-in list


@dataclass
class Row:
    """One caregiver who may come for one patient."""

    caregiver: Caregiver
    patient: Patient
    checkin: CheckIn | None
    enrolled: bool
    also_for: list[Patient] = field(default_factory=list)  # other patients of this class they care for
    shared: bool = False  # more than one way to check this caregiver in: say whom for

    @property
    def key(self) -> str:
        return f"{self.caregiver.id}-{self.patient.id}"


@dataclass
class PatientSet:
    patient: Patient
    enrolled: bool
    present: bool
    rows: list[Row] = field(default_factory=list)


@dataclass
class CheckinPage:
    session: ClassSession
    facilitator: Facilitator | None
    sets: list[PatientSet]
    expected: int
    checked_in: int
    timing: str = attendance.TODAY  # the session's day against today: later_day, today or past_day
    day_label: str = ""  # "Tue, Feb 3"

    @property
    def open(self) -> bool:
        """Attendance can be entered: not cancelled, and not on a later day than today."""
        return self.session.status != "cancelled" and self.timing != attendance.LATER_DAY

    @property
    def after_the_fact(self) -> bool:
        """Attendance entered now is back-entry (from the paper sheet) for a past day."""
        return self.session.status != "cancelled" and self.timing == attendance.PAST_DAY

    @property
    def rows(self) -> list[Row]:
        return [row for s in self.sets for row in s.rows]

    def focus_id(self, focus: str | None, after: str | None) -> str | None:
        """The element to focus: the next caregiver still to come after ``after`` was checked in, else
        ``focus`` if it is on the page, else the search (e.g. an undone walk-in's row is gone)."""
        if not self.open:
            return None
        if after:
            return self._next_open_after(after)
        if not focus:
            return None
        return focus if focus in self._focusable_ids() else "walkin-q"

    def _focusable_ids(self) -> set[str]:
        ids = {f"present-{s.patient.id}" for s in self.sets}
        for row in self.rows:
            ids.add(f"{'undo' if row.checkin else 'checkin'}-{row.key}")
            ids.update(f"checkin-{row.caregiver.id}-{p.id}" for p in row.also_for)
        return ids

    def _next_open_after(self, key: str) -> str:
        rows = self.rows
        keys = [r.key for r in rows]
        start = keys.index(key) + 1 if key in keys else 0
        for row in rows[start:] + rows[:start]:
            if row.checkin is None:
                return f"checkin-{row.key}"
        return "walkin-q"


def checkin_page(session_id: int) -> CheckinPage:
    session = load_session(session_id)
    enrollments = db.session.scalars(
        sa.select(Enrollment)
        .options(
            selectinload(Enrollment.patient),
            selectinload(Enrollment.members).selectinload(EnrollmentCaregiver.caregiver),
        )
        .where(Enrollment.class_id == session.class_id, Enrollment.status == "enrolled")
    ).all()
    checkins = attendance.session_checkins(session.id)
    marks = db.session.scalars(
        sa.select(PatientPresence).options(selectinload(PatientPresence.patient))
        .where(PatientPresence.session_id == session.id)
    ).all()
    sets = _build_sets(enrollments, checkins, marks)
    _offer_other_patients(sets)
    return CheckinPage(
        session=session,
        facilitator=facilitator_of(session),
        sets=sets,
        expected=sum(len(e.members) for e in enrollments),
        checked_in=len({c.caregiver_id for c in checkins}),
        timing=attendance.timing(session),
        day_label=clock.day_label(billing.date_of_service(session)),
    )


def _name_key(person) -> tuple:
    return (person.last_name.lower(), person.first_name.lower(), person.id)


def _build_sets(enrollments, checkins, marks) -> list[PatientSet]:
    """Enrolled sets first (by patient name), then patients seen only through a walk-in or a present mark."""
    present = {m.patient_id for m in marks}
    by_pair = {(c.caregiver_id, c.patient_id): c for c in checkins}
    sets: dict[int, PatientSet] = {}
    for e in sorted(enrollments, key=lambda e: _name_key(e.patient)):
        ps = sets[e.patient_id] = PatientSet(e.patient, True, e.patient_id in present)
        for member in sorted(e.members, key=lambda m: _name_key(m.caregiver)):
            ps.rows.append(Row(member.caregiver, e.patient, by_pair.pop((member.caregiver_id, e.patient_id), None), True))
    extra: dict[int, PatientSet] = {}
    for c in by_pair.values():  # walk-ins, in the order they arrived
        ps = sets.get(c.patient_id) or extra.setdefault(
            c.patient_id, PatientSet(c.patient, False, c.patient_id in present))
        ps.rows.append(Row(c.caregiver, c.patient, c, False))
    for m in marks:
        if m.patient_id not in sets and m.patient_id not in extra:
            extra[m.patient_id] = PatientSet(m.patient, False, True)
    return list(sets.values()) + sorted(extra.values(), key=lambda s: _name_key(s.patient))


def _offer_other_patients(sets: list[PatientSet]) -> None:
    """A caregiver who also cares for another patient on this page may come for them instead, or too."""
    rows = [row for s in sets for row in s.rows]
    if not rows:
        return
    patients = {s.patient.id: s.patient for s in sets}
    links = db.session.execute(
        sa.select(CaregiverLink.caregiver_id, CaregiverLink.patient_id).where(
            CaregiverLink.caregiver_id.in_({r.caregiver.id for r in rows}),
            CaregiverLink.patient_id.in_(patients),
        )
    ).all()
    shown = {(r.caregiver.id, r.patient.id) for r in rows}
    for row in rows:
        row.also_for = sorted(
            (patients[pid] for cid, pid in links
             if cid == row.caregiver.id and (cid, pid) not in shown),
            key=_name_key,
        )
    rows_per_caregiver = Counter(r.caregiver.id for r in rows)
    for row in rows:
        row.shared = rows_per_caregiver[row.caregiver.id] + len(row.also_for) > 1


# --------------------------------------------------------------------------- walk-in search


@dataclass
class SearchOption:
    patient: Patient
    checkin: CheckIn | None
    enrolled: bool


@dataclass
class SearchHit:
    caregiver: Caregiver
    options: list[SearchOption]


def walk_in_search(session: ClassSession, query: str) -> list[SearchHit]:
    """Caregivers matching the query, each with a check-in option per linked patient."""
    caregivers = search.search_caregivers(query)
    ids = [c.id for c in caregivers]
    if not ids:
        return []
    checkins = {
        (c.caregiver_id, c.patient_id): c
        for c in db.session.scalars(
            sa.select(CheckIn).where(CheckIn.session_id == session.id, CheckIn.caregiver_id.in_(ids))
        )
    }
    enrolled = set(
        db.session.execute(
            sa.select(EnrollmentCaregiver.caregiver_id, Enrollment.patient_id)
            .join(Enrollment, Enrollment.id == EnrollmentCaregiver.enrollment_id)
            .where(Enrollment.class_id == session.class_id, Enrollment.status == "enrolled",
                   EnrollmentCaregiver.caregiver_id.in_(ids))
        ).all()
    )
    return [
        SearchHit(c, [
            SearchOption(link.patient, checkins.get((c.id, link.patient_id)), (c.id, link.patient_id) in enrolled)
            for link in sorted(c.links, key=lambda link: _name_key(link.patient))
        ])
        for c in caregivers
    ]


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
    held = session.status == "held"
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


# --------------------------------------------------------------------------- end of day


@dataclass
class OpenRow:
    session: ClassSession
    facilitator: Facilitator | None
    checked_in: int
    problem: str


def open_sessions(now: datetime) -> tuple[list[OpenRow], bool]:
    """Sessions that started and were never closed, and held ones with no facilitator recorded.

    Most recent first; at most OPEN_SESSIONS_LIMIT (the flag says whether more were left out).
    """
    sessions = db.session.scalars(
        sa.select(ClassSession)
        .options(*_session_options())
        .where(sa.or_(
            sa.and_(ClassSession.status == "scheduled", ClassSession.starts_at < now),
            sa.and_(ClassSession.status == "held", ClassSession.actual_facilitator_id.is_(None)),
        ))
        .order_by(ClassSession.starts_at.desc(), ClassSession.id.desc())
        .limit(OPEN_SESSIONS_LIMIT + 1)
    ).all()
    more = len(sessions) > OPEN_SESSIONS_LIMIT
    sessions = sessions[:OPEN_SESSIONS_LIMIT]
    arrived = _arrivals([s.id for s in sessions])
    return [
        OpenRow(s, facilitator_of(s), arrived.get(s.id, 0),
                "Not closed" if s.status == "scheduled" else "No facilitator recorded")
        for s in sessions
    ], more
