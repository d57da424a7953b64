"""A session's check-in list (enrolled caregiver sets, walk-ins, patients present) and the walk-in search.

A class of 30 sets costs the same number of queries as a class of 3.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.statuses import EnrollmentStatus, SessionStatus
from roster.extensions import db
from roster.models import Caregiver, CaregiverLink, CheckIn, ClassSession, Enrollment, EnrollmentCaregiver
from roster.models import Facilitator, Patient, PatientPresence
from roster.services import attendance, billing, clock, search
from roster.services.checkin_people import Person
from roster.services.frontdesk import with_user
from roster.services.frontdesk.sessions import (
    DeskSession, facilitator_of, found_desk_session, load_session, load_session_and_class,
)


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
        return self.session.status != SessionStatus.CANCELLED and self.timing != attendance.LATER_DAY

    @property
    def after_the_fact(self) -> bool:
        """Attendance entered now is back-entry (from the paper sheet) for a past day."""
        return self.session.status != SessionStatus.CANCELLED and self.timing == attendance.PAST_DAY

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
        .where(Enrollment.class_id == session.class_id, Enrollment.status == EnrollmentStatus.ENROLLED)
    ).all()
    checkins = _session_checkins(session.id)
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


def _session_checkins(session_id: int) -> list[CheckIn]:
    return list(
        db.session.scalars(
            sa.select(CheckIn)
            .options(selectinload(CheckIn.caregiver), selectinload(CheckIn.patient),
                     selectinload(CheckIn.checked_in_by))
            .where(CheckIn.session_id == session_id)
            .order_by(CheckIn.checked_in_at, CheckIn.id)
        )
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


class SearchOption(NamedTuple):
    patient: Person
    checked_in_at: datetime | None  # this session's check-in of the pair, if any
    enrolled: bool


class SearchHit(NamedTuple):
    """A caregiver found and how they may be checked in. A value: the results are remembered by what they
    show (``templating.cached_macro``)."""
    caregiver: Person
    options: tuple[SearchOption, ...]


@lru_cache(maxsize=64)
def _walk_in_rows(ids: sa.Select) -> sa.Select:
    """The found caregivers with each linked patient, this session's check-in of the pair and whether the
    pair is enrolled in this class; built once per shape of search (``ids`` is reused per shape). Only the
    columns the results show, run as Core: plain rows (ORM objects of every column cost more than the read)."""
    hits = ids.subquery("walk_in")
    cg, link, p, ci = (model.__table__ for model in (Caregiver, CaregiverLink, Patient, CheckIn))
    enrolment, member = Enrollment.__table__, EnrollmentCaregiver.__table__
    enrolled = (
        sa.select(member.c.id)
        .join(enrolment, enrolment.c.id == member.c.enrollment_id)
        .where(enrolment.c.class_id == sa.bindparam("class_id"), enrolment.c.status == EnrollmentStatus.ENROLLED,
               member.c.caregiver_id == cg.c.id, enrolment.c.patient_id == p.c.id)
        .exists()
    )
    return (
        sa.select(cg.c.id, cg.c.first_name, cg.c.last_name, cg.c.phone, p.c.id, p.c.first_name, p.c.last_name,
                  ci.c.id, ci.c.checked_in_at, enrolled)
        .join_from(cg, hits, hits.c.id == cg.c.id)
        .outerjoin(link, link.c.caregiver_id == cg.c.id)
        .outerjoin(p, p.c.id == link.c.patient_id)
        .outerjoin(ci, sa.and_(ci.c.session_id == sa.bindparam("session_id"),
                               ci.c.caregiver_id == cg.c.id, ci.c.patient_id == p.c.id))
        .order_by(cg.c.last_name, cg.c.first_name, cg.c.id)
    )


def walk_in_search(session: ClassSession | DeskSession, query: str) -> list[SearchHit]:
    """Caregivers matching the query (the first ten by name), each with a check-in option per linked
    patient, in one statement: the search's ids, cut in SQL, joined to what the desk needs."""
    found = search.walk_in_ids(query)
    if found is None:
        return []
    search.plan_once(found[0])
    return _walk_in_hits(session, *found)


def walk_in_fragment(session_id: int, query: str, rows: list | None = None) -> tuple[DeskSession, list[SearchHit]]:
    """The search fragment's session (``NotFound`` when there is none) and ``walk_in_search``'s hits: on
    PostgreSQL the session's read asks for the generic plan ``search.plan_once`` would (one round trip fewer
    a keystroke). ``rows``: what the user's statement read for the fragment (``with_user.fragment``: the
    session, and the generic plan asked for); None: the session is read here."""
    found = search.walk_in_ids(query)
    if rows is None:
        session = load_session_and_class(session_id, generic_plans=found is not None and search.generic_plan(found[0]))
    else:
        session = found_desk_session(session_id, with_user.session_of(rows))
    return session, [] if found is None else _walk_in_hits(session, *found)


def _walk_in_hits(session: ClassSession | DeskSession, stmts: list[sa.Select], params: dict) -> list[SearchHit]:
    params = {**params, "session_id": session.id, "class_id": session.class_id}
    connection = db.session.connection()
    for ids in stmts:  # usually one; a query of short words first tries the first names in order
        rows = connection.execute(_walk_in_rows(ids), params).all()
        if len({row[0] for row in rows}) >= params["limit"]:
            break
    hits: dict[int, tuple[Person, list[SearchOption]]] = {}
    for cg_id, cg_first, cg_last, phone, p_id, p_first, p_last, checkin_id, checked_in_at, is_enrolled in rows:
        hit = hits.get(cg_id)
        if hit is None:
            hit = hits[cg_id] = (Person(cg_id, cg_first, cg_last, phone=phone), [])
        if p_id is not None:
            hit[1].append(SearchOption(Person(p_id, p_first, p_last),
                                       checked_in_at if checkin_id is not None else None, bool(is_enrolled)))
    return [SearchHit(caregiver, tuple(sorted(options, key=lambda option: _name_key(option.patient))))
            for caregiver, options in hits.values()]


# what a desk types, one statement shape each: a surname's start, "Surname, First", phone digits (matching nobody)
_SHAPES_TYPED = ("zzz", "zzz yyy", "00000")


def warm_walk_in_search() -> None:
    """Build, compile and run once the walk-in statement of each shape a desk types (the caller rolls back). A server
    calls it before it serves (`roster/warmup.py`): SQLAlchemy compiles a shape's statement the first time it runs (~10
    ms of CPU), which the first desk to type that shape in each worker's life would otherwise wait for."""
    for query in _SHAPES_TYPED:
        stmts, params = search.walk_in_ids(query)
        search.plan_once(stmts)
        for ids in stmts:
            db.session.connection().execute(_walk_in_rows(ids), {**params, "session_id": 0, "class_id": 0}).all()
