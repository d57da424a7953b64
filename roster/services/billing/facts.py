"""Billing facts: map held sessions and their rows to the pure core's frozen facts."""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

import sqlalchemy as sa

from roster.domain import billing as rules
from roster.domain.families import PayerProfile, payer_key
from roster.domain.recurrence import utc_to_local
from roster.extensions import db
from roster.models import CheckIn, ClassSession, Facilitator, GroupClass, Patient, PatientPresence
from roster.services.billing.policy import payer_profiles
from roster.services.billing.statements import one_of, per_kind, run


# What billing reads from the class, kept on the session when it is held (S8):
# session column -> class attribute. A new class fact billing needs is added here.
HELD_FROM_CLASS = {
    "held_modality": "modality",
    "held_place_of_service": "place_of_service",
    "held_timezone": "timezone",
    "held_needs": "needs",
    "held_training": "training",  # the code family (R17-R21)
}


def class_facts_to_keep(session: ClassSession) -> dict:
    """What a session being held stores of what billing reads from its class (S8): column -> value."""
    cls = session.group_class
    return {column: list(value or []) if isinstance(value := getattr(cls, attribute), list) else value
            for column, attribute in HELD_FROM_CLASS.items()}


def forget_class_facts(session: ClassSession) -> None:
    """A session no longer held follows its class again."""
    for column in HELD_FROM_CLASS:
        setattr(session, column, None)


def class_fact(session: ClassSession, attribute: str):
    """The class fact a session is billed with: as held (S8), or the class's while not held."""
    for column, name in HELD_FROM_CLASS.items():
        if name == attribute:
            value = getattr(session, column)
            return value if value is not None else getattr(session.group_class, attribute)
    return getattr(session.group_class, attribute)  # a class fact not (yet) kept on the session


def session_timezone(session: ClassSession) -> str:
    return class_fact(session, "timezone")


def date_of_service(session: ClassSession) -> date:
    moment = session.actual_start or session.starts_at
    return utc_to_local(moment, session_timezone(session)).date()


def sort_key(moment: datetime) -> tuple:
    """A session's place in its day (R9, S3), from its actual (else scheduled) start instant;
    the pure core breaks ties by session id."""
    return (moment.astimezone(timezone.utc),)


def _minutes(session: ClassSession | HeldSession) -> int | None:
    if session.actual_start is None or session.actual_end is None:
        return None
    return int((session.actual_end - session.actual_start).total_seconds() // 60)


# What billing reads of a patient (`_patient_facts`).
PATIENT_FACTS = ("id", "mrn", "first_name", "last_name", "dob", "payer", "member_id", "needs", "diagnosis_codes",
                 "consent_date", "consent_kind", "poc_discipline", "poc_start", "poc_end")
_PatientRow = namedtuple("_PatientRow", PATIENT_FACTS)


def _patient_facts(row: sa.Row, profiles: Mapping[str, PayerProfile]) -> rules.PatientFacts:
    """A patient's facts from its row of `ATTENDANCE` (two NULLs, then `PATIENT_FACTS`)."""
    p = _PatientRow._make(row[2:])
    return rules.PatientFacts(
        id=p.id, mrn=p.mrn, first_name=p.first_name, last_name=p.last_name,
        needs=frozenset(p.needs or []), diagnosis_codes=tuple(p.diagnosis_codes or []),
        consent_date=p.consent_date, consent_kind=p.consent_kind,
        poc_discipline=p.poc_discipline, poc_start=p.poc_start, poc_end=p.poc_end,
        dob=p.dob, payer=p.payer or "", member_id=p.member_id or "",
        payer_profile=profiles.get(payer_key(p.payer)),  # not on the payer list: Medicare's answers
    )


def _facilitator_facts(f: Facilitator | None) -> rules.FacilitatorFacts | None:
    if f is None:
        return None
    return rules.FacilitatorFacts(id=f.id, name=f.name, discipline=f.discipline, npi=f.npi)


@dataclass(frozen=True)
class HeldSession:
    """What billing reads of a session: its own columns, the class facts it is billed with
    (as held, S8, else its class's) and its actual facilitator. Read as one row per session
    (`held_sessions`), or made from a loaded session (`of`)."""

    id: int
    status: str
    starts_at: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    actual_facilitator_id: int | None
    facilitator: rules.FacilitatorFacts | None
    modality: str
    place_of_service: str
    timezone: str
    needs: list | None
    training: str

    @classmethod
    def of(cls, s: ClassSession) -> "HeldSession":
        return cls(s.id, s.status, s.starts_at, s.actual_start, s.actual_end, s.actual_facilitator_id,
                   _facilitator_facts(s.actual_facilitator),
                   **{name: class_fact(s, name) for name in HELD_FROM_CLASS.values()})


def held_sessions_select(kind: str) -> sa.Select:
    """One row per session (`held_session_rows` reads them; add the WHERE): its columns, its actual
    facilitator's, and per class fact the value kept when it was held and its class's. On PostgreSQL the class is read per session by its key (a LATERAL
    … LIMIT 1: a plain join hash-joined a scan of every class, 0.7 -> 0.25 ms for 51 sessions)."""
    cls: sa.FromClause = GroupClass.__table__
    if kind == "postgresql":
        cls = (sa.select(*(GroupClass.__table__.c[name] for name in HELD_FROM_CLASS.values()))
               .where(GroupClass.__table__.c.id == ClassSession.class_id).limit(1).lateral("class_facts"))
        joined = sa.join(ClassSession, cls, sa.true())
    else:
        joined = sa.join(ClassSession, cls, cls.c.id == ClassSession.class_id)
    return (
        sa.select(ClassSession.id, ClassSession.status, ClassSession.starts_at, ClassSession.actual_start,
                  ClassSession.actual_end, ClassSession.actual_facilitator_id, Facilitator.id, Facilitator.name,
                  Facilitator.discipline, Facilitator.npi,
                  *(c for column, name in HELD_FROM_CLASS.items() for c in (getattr(ClassSession, column), cls.c[name])))
        .select_from(joined.outerjoin(Facilitator, Facilitator.id == ClassSession.actual_facilitator_id))
    )


_HELD_SESSIONS = per_kind(lambda kind: held_sessions_select(kind).where(one_of(kind, ClassSession.id, "ids")))


def attendance_select(kind: str) -> sa.CompoundSelect:
    """Check-ins (session, caregiver, patient), patients present (session, NULL, patient) and the
    facts of every patient of either (NULL, NULL, the patient's columns) in one statement."""
    patient = Patient.__table__
    blank = [sa.cast(sa.null(), patient.c[name].type).label(name) for name in PATIENT_FACTS[1:]]  # named: read
    # as a subquery too (`billing.stored`)
    no_id = sa.cast(sa.null(), sa.Integer())
    involved = sa.union(sa.select(CheckIn.patient_id).where(one_of(kind, CheckIn.session_id, "ids")),
                        sa.select(PatientPresence.patient_id).where(one_of(kind, PatientPresence.session_id, "ids")))
    # on PostgreSQL the patients by their key (= ANY(ARRAY(…)), as the held sessions of a patient)
    of_involved = (patient.c.id == sa.any_(sa.func.array(involved.scalar_subquery())) if kind == "postgresql"
                   else patient.c.id.in_(involved))
    return sa.union_all(
        sa.select(CheckIn.session_id, CheckIn.caregiver_id, CheckIn.patient_id, *blank)
        .where(one_of(kind, CheckIn.session_id, "ids")),
        sa.select(PatientPresence.session_id, no_id, PatientPresence.patient_id, *blank)
        .where(one_of(kind, PatientPresence.session_id, "ids")),
        sa.select(no_id, no_id, *(patient.c[name] for name in PATIENT_FACTS)).where(of_involved),
    )


ATTENDANCE = per_kind(attendance_select)


def held_sessions(ids: list[int]) -> list[HeldSession]:
    """These sessions as billing reads them, as stored now, in one statement (no ORM objects)."""
    return held_session_rows(run(_HELD_SESSIONS, {"ids": ids}).tuples().all())


def held_session_rows(rows) -> list[HeldSession]:
    """The sessions of these rows of a `held_sessions_select`."""
    out = []
    for row in rows:
        sid, status, starts_at, actual_start, actual_end, facilitator_id, fid, name, discipline, npi = row[:10]
        held = row[10:]
        out.append(HeldSession(
            sid, status, starts_at, actual_start, actual_end, facilitator_id,
            None if fid is None else rules.FacilitatorFacts(id=fid, name=name, discipline=discipline, npi=npi),
            **{name: held[2 * i] if held[2 * i] is not None else held[2 * i + 1]  # as class_fact
               for i, name in enumerate(HELD_FROM_CLASS.values())},
        ))
    return out


def load_facts(sessions: list[ClassSession] | list[HeldSession],
               profiles: Mapping[str, PayerProfile] | None = None,
               attendance: list | None = None) -> dict[int, rules.SessionFacts]:
    """SessionFacts for many sessions in a fixed number of queries (``profiles``: the payer list's,
    ``attendance``: the rows of `ATTENDANCE`, when the caller has read them)."""
    sessions = [s if isinstance(s, HeldSession) else HeldSession.of(s) for s in sessions]
    ids = [s.id for s in sessions]
    if not ids:
        return {}
    by_session_checkins: dict[int, list] = defaultdict(list)
    by_session_present: dict[int, set] = defaultdict(set)
    patient_rows = []  # rows, not objects: what is stored now (committed before our locks), never an older read
    for row in run(ATTENDANCE, {"ids": ids}).all() if attendance is None else attendance:
        session_id, caregiver_id, patient_id = row[:3]
        if session_id is None:
            patient_rows.append(row)
        elif caregiver_id is None:
            by_session_present[session_id].add(patient_id)
        else:
            by_session_checkins[session_id].append(rules.CheckInFacts(caregiver_id, patient_id))
    if profiles is None:
        profiles = payer_profiles() if patient_rows else {}
    patients = {row[2]: _patient_facts(row, profiles) for row in patient_rows}
    facts = {}
    for s in sessions:
        ci = sorted(by_session_checkins[s.id], key=lambda c: (c.patient_id, c.caregiver_id))
        involved = {c.patient_id for c in ci} | by_session_present[s.id]
        moment = s.actual_start or s.starts_at
        facts[s.id] = rules.SessionFacts(
            session_id=s.id,
            status=s.status,
            date_of_service=utc_to_local(moment, s.timezone).date(),
            minutes=_minutes(s),
            modality=s.modality,
            place_of_service=s.place_of_service,
            class_needs=frozenset(s.needs or []),
            facilitator=s.facilitator,
            patients={pid: patients[pid] for pid in sorted(involved)},
            checkins=tuple(ci),
            present_patient_ids=frozenset(by_session_present[s.id]),
            sort_key=sort_key(moment),
            training=s.training,
        )
    return facts


def _utc_midnight(day: date) -> datetime:
    """A UTC bound; callers widen ranges by a day or more to cover every time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.utc)
