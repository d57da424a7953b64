"""Race tests end the same way: the stored lines and findings equal a fresh evaluation of the stored facts.

``assert_fresh(app)`` evaluates every session in the database from scratch through the pure core
(all held sessions of a day together, so R9's DUPLICATE_SAME_DAY and R21's caps see each other)
and compares what it gives with the live lines and findings stored for each session.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from roster.domain import billing as rules
from roster.domain.statuses import SessionStatus
from roster.extensions import db
from roster.models import BillingDayTotal, BillingExportTotal, BillingLine, ClassSession, Finding
from roster.services.billing import load_facts
from roster.services.billing.policy import current_policy


def run_at_once(jobs, timeout: float = 60) -> list[tuple[str, int]]:
    """Run every (kind, job) in its own thread, all released by one barrier; job() returns a list of
    statuses. Returns (kind, status) of every answer; a thread that raises fails the test."""
    barrier = threading.Barrier(len(jobs))
    answers: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(kind, job):
        try:
            barrier.wait(timeout=timeout)
            for status in job():
                with lock:
                    answers.append((kind, status))
        except BaseException as exc:  # surfaced below: a thread never fails silently
            errors.append(exc)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    return answers


def _stored(session_id: int) -> tuple[list, list]:
    lines = db.session.scalars(sa.select(BillingLine).where(BillingLine.session_id == session_id,
                                                            BillingLine.status != "void")).all()
    stored = sorted((l.patient_id, l.cpt, l.units, tuple(l.modifiers), l.place_of_service,
                     tuple(l.diagnosis_codes), l.status if l.status != "exported" else "ready", l.member_id)
                    for l in lines)
    found = db.session.execute(sa.select(Finding.patient_id, Finding.code, Finding.date_of_service)
                               .where(Finding.session_id == session_id)).tuples().all()
    return stored, found


def assert_fresh(app) -> None:
    """Every session's live lines and findings equal what the rules give for the stored facts now;
    nobody whose caregivers are checked in to a held session is left without a line."""
    with app.app_context():
        sessions = list(db.session.scalars(sa.select(ClassSession).options(  # loaded sessions, not billing's rows
            joinedload(ClassSession.group_class), joinedload(ClassSession.actual_facilitator))))
        facts = load_facts(sessions)
        policy = current_policy()
        held = [f for f in facts.values() if f.status == SessionStatus.HELD]
        evaluations = rules.evaluate_day(held, policy)
        for sid, f in facts.items():
            evaluation = evaluations.get(sid) or rules.evaluate_session(f, policy)
            wanted = sorted((d.patient_id, d.cpt, d.units, d.modifiers, d.place_of_service, d.diagnosis_codes,
                             d.status, f.patients[d.patient_id].member_id) for d in evaluation.lines)
            stored, found = _stored(sid)
            assert stored == wanted, f"session {sid}: stored lines differ from a fresh evaluation"
            assert {(p, c) for p, c, _ in found} == {(x.patient_id, x.code) for x in evaluation.findings}, (
                f"session {sid}: stored findings differ from a fresh evaluation")
            assert all(d == f.date_of_service for _, _, d in found), (  # the review reads it (issue 12)
                f"session {sid}: a finding's date of service differs from the session's")
            if f.status == SessionStatus.HELD:
                represented = {c.patient_id for c in f.checkins} - f.present_patient_ids
                assert {line[0] for line in stored} == represented, f"session {sid}: a patient lost its line"
        on_void = sa.select(sa.func.count()).select_from(Finding).join(BillingLine).where(BillingLine.status == "void")
        assert db.session.scalar(on_void) == 0, "a finding sits on a void line"  # the review counts none (issue 12)
        assert_day_totals_fresh()
        db.session.remove()


def assert_day_totals_fresh() -> None:
    """The sums kept by day (triggers on billing_line, plus each export's moves from ready to exported)
    equal the lines counted afresh, day by day, status by status, code and facilitator (issue 12)."""
    line, facilitator = BillingLine, sa.func.coalesce(BillingLine.facilitator_id, 0)
    fresh = {(d, s, c, f): (n, u) for d, s, c, f, n, u in db.session.execute(
        sa.select(line.date_of_service, line.status, line.cpt, facilitator, sa.func.count(), sa.func.sum(line.units))
        .group_by(line.date_of_service, line.status, line.cpt, facilitator))}
    kept: dict[tuple, list[int]] = {}
    for t in db.session.scalars(sa.select(BillingDayTotal)):
        kept[(t.date_of_service, t.status, t.cpt, t.facilitator_id)] = [t.lines, t.units]
    for t in db.session.scalars(sa.select(BillingExportTotal)):
        for status, sign in (("ready", -1), ("exported", 1)):
            sums = kept.setdefault((t.date_of_service, status, t.cpt, t.facilitator_id), [0, 0])
            sums[0] += sign * t.lines
            sums[1] += sign * t.units
    kept_now = {key: (n, u) for key, (n, u) in kept.items() if (n, u) != (0, 0)}
    assert kept_now == fresh, "the day totals differ from the lines counted afresh"


def on_sqlite(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "sqlite"



