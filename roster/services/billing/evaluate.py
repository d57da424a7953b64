"""Re-evaluation: exactly the held sessions a change touches, locked, then evaluated (R9, S3).

`facts_changed` is the one entry point every service calls after changing a
fact billing reads. It re-evaluates

- the sessions named (their attendance, times, facilitator or status changed),
- every held session of the patients named (consent, plan of care, diagnoses,
  needs, claim identity), and of the facilitators named,
- and the held sessions that share a patient and a date of service with the
  sessions named, for the date their lines had before (old) and the date they
  have now (new), so R9's `DUPLICATE_SAME_DAY` never stays behind (S3).

Nothing else is read or written: a consent change for a patient with 50 held
sessions evaluates those 50 sessions.

On PostgreSQL the patients of the (patient, date) pairs concerned are locked first,
then the sessions (both ``FOR NO KEY UPDATE``, in id order), before any fact is
read: two desks re-evaluating one session run one after the other and the second
reads what the first committed, and so do two desks changing two different
sessions of one patient's day (R9: they share no session, only the patient). The
``NO KEY`` strength lets other transactions keep inserting check-ins and lines that
reference the rows. Services that update a session row before re-evaluating it
(closing, re-opening, cancelling) take the same locks first (``lock_before_change``),
so every writer locks patients, then sessions, then lines, and none deadlocks.
SQLite has one writer at a time (BEGIN IMMEDIATE): nothing to lock.
"""

from __future__ import annotations

from datetime import date
from typing import Iterable

import sqlalchemy as sa

from roster.domain import billing as rules
from roster.domain.recurrence import utc_to_local
from roster.domain.statuses import LineStatus, SessionStatus
from roster.extensions import db
from roster.models import BillingLine, CheckIn, ClassSession, GroupClass, Patient, PatientPresence
from roster.services import audit
from roster.services.billing import locks
from roster.services.billing.facts import (HeldSession, held_session_rows, held_sessions, held_sessions_select,
                                           load_facts, sort_key)
from roster.services.billing import stored
from roster.services.billing.closed import PairsRead
from roster.services.billing.reading import SessionAnswer
from roster.services.billing.reconcile import Reconciliation
from roster.services.billing.statements import kind, one_of, per_kind, run

# How often the set of sessions may grow while its locks are taken before we settle for it.
LOCK_ROUNDS = 5

# What the evaluation of other patients' lines reads of a patient (R11's names, their order).
SHOWN_TO_OTHERS = ("mrn", "first_name", "last_name")


def facts_changed(
    *,
    session_ids: Iterable[int] = (),
    patient_ids: Iterable[int] = (),
    patient_dates: Iterable[tuple[int, date]] = (),
    facilitator_ids: Iterable[int] = (),
    own_facts_of: Iterable[int] = (),
    audit_events: Iterable[dict] = (),
    written: Iterable[ClassSession] = (),
    answer: SessionAnswer | None = None,
    pairs_read: PairsRead | None = None,
) -> list[int]:
    """Re-derive the lines of the sessions these changes touch; returns the ids evaluated.

    ``patient_dates`` are (patient_id, date of service) pairs whose held sessions
    must be re-evaluated (for a change known to concern one date). ``own_facts_of`` are
    patients whose own facts changed, none of `SHOWN_TO_OTHERS`: named alone, only their
    lines and findings in their held sessions are derived again and compared. ``audit_events``:
    the change's own audit records (`audit.record_all`'s dicts), written first with those of the lines
    (on PostgreSQL in the one statement that ends the re-evaluation, `writes`). ``written``: named
    sessions the caller has just changed and flushed under their lock (`lock_before_change`): billing
    takes their facts from them as they stand (`HeldSession.of`) instead of reading them again.
    ``answer``: a named session's billing as the API answers it, filled from what is read and written here.
    ``pairs_read``: the named sessions' (patient, date) pairs and neighbours, read under their locks (`PairsRead`).
    """
    db.session.flush()
    direct = set(session_ids)
    patient_ids = set(patient_ids)
    facilitator_ids = set(facilitator_ids)
    pairs = set(patient_dates)
    own = set(own_facts_of)
    only = frozenset(own) if own and not (direct or patient_ids or facilitator_ids or pairs) else None
    patient_ids |= own
    events = list(audit_events)
    if not (direct or patient_ids or facilitator_ids or pairs):
        audit.record_all(events)
        return []
    targets: set[int] = set()
    found: set[tuple[int, date]] = set()
    loaded: dict[int, HeldSession | None] = {}
    read_first = None  # what the caller read of its one named session, with the pairs (`PairsRead.stored`)
    for _ in range(LOCK_ROUNDS):
        # The named sessions already locked (by lock_before_change, or the round before; on SQLite
        # everything is): their lines and times read below cannot move, and this round settles it.
        # (A check-in another desk inserts meanwhile is evaluated again by that desk, which waits
        # for our locks.)
        settled = not locks.unlocked(ClassSession, direct)
        near_read = None
        if pairs_read is not None and settled:
            (own_pairs, near_read, read_first), lines_near, pairs_read = pairs_read, None, None
        else:
            own_pairs, lines_near = _pairs_and_lines_near(direct)
        found = pairs | own_pairs
        concerned = {p for p, _ in found}
        # The patients before the sessions: two desks changing two different sessions of one
        # patient's day (R9) share no session, only the patient; the one that waits here then
        # sees the other's committed lines and re-evaluates both sessions. Which sessions bill a
        # (patient, date) only changes under that patient's lock, so the targets read below hold;
        # so do the lines read with the pairs when every patient of theirs was locked already
        # (lock_before_change; SQLite), else they are read again below, under the lock.
        neighbours = None
        if (lines_near, near_read) != (None, None) and not pairs and not locks.unlocked(Patient, concerned):
            neighbours = near_read if near_read is not None else {
                sid for sid, pid, day in lines_near if (pid, day) in found}
        locks.lock(Patient, patient_ids | concerned)
        targets, loaded = _targets(direct, patient_ids, facilitator_ids, found, neighbours)
        locks.lock(ClassSession, targets)
        if settled:
            break
    # Every held live line of these patients, and of these (patient, date) pairs, is in a target.
    covered = (patient_ids, found)
    # the caller's sessions as they stand: flushed, and locked since before they were read
    loaded |= {s.id: HeldSession.of(s) for s in written if s.id in direct and not locks.unlocked(ClassSession, [s.id])}
    if targets != direct or len(direct) != 1 or only is not None:
        read_first = None  # read for that session alone
    return _evaluate(sorted(targets), only, covered, loaded, events, answer, read_first)


def reevaluate_sessions(session_ids: Iterable[int]) -> list[int]:
    return facts_changed(session_ids=session_ids)


def reevaluate_for_patients(patient_ids: Iterable[int]) -> list[int]:
    return facts_changed(patient_ids=patient_ids)


def reevaluate_for_facilitator(facilitator_id: int) -> list[int]:
    return facts_changed(facilitator_ids=[facilitator_id])


def reevaluate_for_caregiver(caregiver_id: int) -> list[int]:
    """Caregiver details and links do not reach past check-ins or lines (S9): nothing to do."""
    return []


# --------------------------------------------------------------------------- which sessions


def _targets(direct: set[int], patient_ids: set[int], facilitator_ids: set[int], pairs: set[tuple[int, date]],
             neighbours: set[int] | None = None) -> tuple[set[int], dict[int, HeldSession | None]]:
    """The sessions named, their same-day neighbours (``pairs`` holds the named sessions' own
    (patient, date) pairs, old and new date), and the held sessions of
    the patients and facilitators named. A patient's or facilitator's details never change which
    codes a session bills, only its findings and line content, so they need no neighbours; the
    codes (R9's keys) and dates follow a session's own attendance, times and status. Also returns
    the sessions read as billing reads them under their lock (a patient's change), by id.
    ``neighbours``: the held sessions with a live line for ``pairs``, when already read."""
    targets = set(direct) | (_sessions_with_lines_for(pairs) if neighbours is None else neighbours)
    loaded: dict[int, HeldSession | None] = {}
    if patient_ids:  # alone (a patient's change), found, locked and read in one statement: in id order as ever
        loaded = _held_sessions_of_patients(patient_ids, lock=not (targets or facilitator_ids))
        targets |= set(loaded)
    if facilitator_ids:
        targets |= set(db.session.scalars(
            sa.select(ClassSession.id).where(ClassSession.actual_facilitator_id.in_(facilitator_ids),
                                             ClassSession.status == SessionStatus.HELD)
        ))
    return targets, loaded


# The statements of re-evaluation (`statements`: built once, per kind of database).
def _touched(kind: str) -> sa.CompoundSelect:
    return sa.union(
        sa.select(CheckIn.session_id).where(one_of(kind, CheckIn.patient_id, "patients")),
        sa.select(PatientPresence.session_id).where(one_of(kind, PatientPresence.patient_id, "patients")),
        sa.select(BillingLine.session_id).where(one_of(kind, BillingLine.patient_id, "patients"),
                                                BillingLine.status != LineStatus.VOID),
    )


# The held sessions of some patients as billing reads them (`facts.held_sessions_select`).
_HELD_SESSIONS_OF_PATIENTS = {
    "sqlite": held_sessions_select("sqlite").where(
        ClassSession.id.in_(sa.select(_touched("sqlite").subquery().c[0])), ClassSession.status == SessionStatus.HELD),
    # = ANY(ARRAY(…)): the sessions by their key (an IN (subquery) made PostgreSQL hash-join a scan
    # of every session: 2.1 ms -> 0.24 ms for a patient's 51)
    "postgresql": held_sessions_select("postgresql").where(
        ClassSession.id == sa.any_(sa.func.array(_touched("postgresql").scalar_subquery())),
        ClassSession.status == SessionStatus.HELD),
}
_HELD_SESSION_IDS_OF_PATIENTS = {kind: sa.select(stmt.subquery().c.id) for kind, stmt in _HELD_SESSIONS_OF_PATIENTS.items()}
# (patient, date of service) of sessions: as their live lines have them (old) and as their current
# facts give them (new): the check-ins' patients on the date of the actual (else scheduled) start in
# the zone the session is held in (S8) or its class's. One statement: new rows carry a start and a
# zone, old ones a date.
_PAIRS = per_kind(lambda kind: sa.union_all(
    sa.select(CheckIn.patient_id, sa.func.coalesce(ClassSession.actual_start, ClassSession.starts_at),
              sa.func.coalesce(ClassSession.held_timezone, GroupClass.timezone), sa.cast(sa.null(), sa.Date))
    .join(ClassSession, ClassSession.id == CheckIn.session_id)
    .join(GroupClass, GroupClass.id == ClassSession.class_id)
    .where(one_of(kind, CheckIn.session_id, "sessions"), ClassSession.status == SessionStatus.HELD).distinct(),
    sa.select(BillingLine.patient_id, sa.null(), sa.null(), BillingLine.date_of_service)
    .where(one_of(kind, BillingLine.session_id, "sessions"), BillingLine.status != LineStatus.VOID),
))
_LIVE_HELD = (BillingLine.status != LineStatus.VOID, ClassSession.status == SessionStatus.HELD)


def _pairs_and_lines_near_pg() -> sa.CompoundSelect:
    """PostgreSQL: `_PAIRS`' rows, and in the same statement (fifth column: the session) the live lines of
    held sessions of the pairs' patients within a day of each pair's date (a new pair's date as
    PostgreSQL's zones give it, ±1 day: more than the pairs, which Python then picks exactly)."""
    start = sa.func.coalesce(ClassSession.actual_start, ClassSession.starts_at)
    zone = sa.func.coalesce(ClassSession.held_timezone, GroupClass.timezone)
    local_day = sa.cast(sa.func.timezone(zone, start), sa.Date)
    no_date = sa.cast(sa.null(), sa.Date)
    pairs = sa.union_all(
        sa.select(CheckIn.patient_id, start.label("start"), zone.label("zone"), no_date.label("day"),
                  (local_day - 1).label("near_from"), (local_day + 1).label("near_to"))
        .join(ClassSession, ClassSession.id == CheckIn.session_id)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .where(one_of("postgresql", CheckIn.session_id, "sessions"), ClassSession.status == SessionStatus.HELD)
        .distinct(),
        sa.select(BillingLine.patient_id, sa.null(), sa.null(), BillingLine.date_of_service,
                  BillingLine.date_of_service, BillingLine.date_of_service)
        .where(one_of("postgresql", BillingLine.session_id, "sessions"), BillingLine.status != LineStatus.VOID),
    ).cte("pairs")
    near = sa.and_(BillingLine.patient_id == pairs.c.patient_id,
                   BillingLine.date_of_service.between(pairs.c.near_from, pairs.c.near_to))
    return sa.union_all(
        sa.select(pairs.c.patient_id, pairs.c.start, pairs.c.zone, pairs.c.day, sa.cast(sa.null(), sa.Integer)),
        sa.select(BillingLine.patient_id, sa.cast(sa.null(), ClassSession.starts_at.type),
                  sa.cast(sa.null(), GroupClass.timezone.type), BillingLine.date_of_service, BillingLine.session_id)
        .select_from(pairs).join(BillingLine, near).join(ClassSession, ClassSession.id == BillingLine.session_id)
        .where(*_LIVE_HELD).distinct(),
    )


_PAIRS_AND_LINES_NEAR = {"postgresql": _pairs_and_lines_near_pg()}
_LINES_FOR_PAIRS = per_kind(lambda kind: (
    sa.select(BillingLine.session_id, BillingLine.patient_id, BillingLine.date_of_service)
    .join(ClassSession, ClassSession.id == BillingLine.session_id)
    .where(one_of(kind, BillingLine.patient_id, "patients"), one_of(kind, BillingLine.date_of_service, "dates"),
           *_LIVE_HELD)
))
_SAME_DAY_LINES = per_kind(lambda kind: (
    sa.select(BillingLine.session_id, BillingLine.patient_id, BillingLine.cpt, BillingLine.units,
              BillingLine.date_of_service, ClassSession.actual_start, ClassSession.starts_at)
    .join(ClassSession, ClassSession.id == BillingLine.session_id)
    .where(one_of(kind, BillingLine.patient_id, "patients"), one_of(kind, BillingLine.date_of_service, "dates"),
           *_LIVE_HELD, one_of(kind, ClassSession.id, "evaluated", negate=True))
))


def _held_sessions_of_patients(patient_ids: set[int], lock: bool) -> dict[int, HeldSession | None]:
    """These patients' held sessions, by id; ``lock``: locked and read as billing reads them (SQLite:
    always read), else only their ids (``None``: read them once they are locked)."""
    params = {"patients": sorted(patient_ids)}
    if lock:
        return {s.id: s for s in held_session_rows(locks.lock_selected(ClassSession, _HELD_SESSIONS_OF_PATIENTS, params))}
    return dict.fromkeys(run(_HELD_SESSION_IDS_OF_PATIENTS, params).scalars().all())


def _pairs_of(session_ids: set[int]) -> set[tuple[int, date]]:
    """(patient, date of service) of these sessions: as their live lines have them (old) and
    as their current facts give them (new)."""
    if not session_ids:
        return set()
    return {
        (patient_id, day if start is None else utc_to_local(start, tz).date())
        for patient_id, start, tz, day in run(_PAIRS, {"sessions": sorted(session_ids)}).tuples().all()
    }


def _pairs_and_lines_near(session_ids: set[int]) -> tuple[set[tuple[int, date]], set[tuple[int, int, date]] | None]:
    """`_pairs_of`, and on PostgreSQL with it, in one statement, (session, patient, date) of the live
    lines of held sessions near those pairs (every one of `_sessions_with_lines_for` among them)."""
    if not session_ids or kind() != "postgresql":
        return _pairs_of(session_ids), None
    pairs, near = set(), set()
    for patient_id, start, tz, day, session_id in run(_PAIRS_AND_LINES_NEAR, {"sessions": sorted(session_ids)}).tuples():
        if session_id is not None:
            near.add((session_id, patient_id, day))
        else:
            pairs.add((patient_id, day if start is None else utc_to_local(start, tz).date()))
    return pairs, near


def _sessions_with_lines_for(pairs: set[tuple[int, date]]) -> set[int]:
    """Held sessions with a live line for one of these (patient, date of service) pairs."""
    if not pairs:
        return set()
    rows = run(_LINES_FOR_PAIRS, {"patients": sorted({p for p, _ in pairs}), "dates": sorted({d for _, d in pairs})})
    return {sid for sid, pid, day in rows.tuples().all() if (pid, day) in pairs}


# --------------------------------------------------------------------------- evaluation


def _evaluate(ids: list[int], only: frozenset[int] | None = None,
              covered: tuple[set[int], set[tuple[int, date]]] = (set(), set()),
              loaded: dict[int, HeldSession | None] | None = None, events: list[dict] = (),
              answer: SessionAnswer | None = None, read: stored.Stored | None = None) -> list[int]:
    """Evaluate these sessions together; with ``only``, just those patients' lines and findings
    (``loaded``: sessions already read under their lock; ``answer``: see `facts_changed`; ``read``: what
    `stored.read` gives for them, read already)."""
    if not ids:
        audit.record_all(list(events))
        return []
    sessions = {i: s for i, s in (loaded or {}).items() if s is not None}
    if len(sessions) < len(ids):
        sessions |= {s.id: s for s in held_sessions([i for i in ids if i not in sessions])}
    sessions = {i: sessions[i] for i in ids if i in sessions}  # in id order, however they were read
    # the clinic's unit caps (R21) and payer list, the attendance, the stored lines and findings: one statement
    if read is None or list(sessions) != ids:
        read = stored.read(ids, list(sessions), only)
    policy = read.policy
    facts = load_facts(list(sessions.values()), read.profiles, read.attendance)
    evaluations: dict[int, rules.Evaluation] = {}
    held = [f for f in facts.values() if f.status == SessionStatus.HELD]
    for f in facts.values():
        if f.status != SessionStatus.HELD:
            evaluations[f.session_id] = rules.evaluate_session(f, policy)
    others = _same_day_lines(held, set(sessions), only, covered)
    evaluations.update(rules.evaluate_day(held, policy, others=others, only=only))
    existing, old_findings = read.lines, read.findings
    writes = Reconciliation(events, answer)
    for sid in ids:
        if sid in sessions:
            writes.add(sessions[sid], facts[sid], evaluations[sid], existing.get(sid, []), old_findings.get(sid, []))
    writes.flush()
    return sorted(sessions)


def _same_day_lines(held: list[rules.SessionFacts], evaluated: set[int], only: frozenset[int] | None,
                    covered: tuple[set[int], set[tuple[int, date]]]) -> list[rules.SameDayLine]:
    """Live lines of other held sessions for the patients and dates being evaluated (R9, R21).

    Not asked for: the patients and pairs ``covered`` (every held live line of theirs is in a
    session being evaluated: there is none elsewhere)."""
    patients, found = covered
    pairs = {(pid, f.date_of_service) for f in held for pid in f.patients
             if (only is None or pid in only) and pid not in patients}
    pairs -= found
    if not pairs:
        return []
    rows = run(_SAME_DAY_LINES, {"patients": sorted({p for p, _ in pairs}), "dates": sorted({d for _, d in pairs}),
                                 "evaluated": sorted(evaluated)}).all()
    return [
        rules.SameDayLine(r.date_of_service, sort_key(r.actual_start or r.starts_at), r.session_id,
                          (r.patient_id, r.cpt), r.units)
        for r in rows if (r.patient_id, r.date_of_service) in pairs
    ]
