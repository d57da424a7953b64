"""Re-evaluation: which sessions a change touches, evaluated together by date of service (R9)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Iterable

import sqlalchemy as sa

from roster.domain import billing as rules
from roster.extensions import db
from roster.models import BillingLine, CheckIn, ClassSession, Finding, PatientPresence
from roster.services.billing.facts import _session_query, _utc_midnight, date_of_service, load_facts
from roster.services.billing.reconcile import _reconcile


def reevaluate_sessions(session_ids: Iterable[int]) -> None:
    """Re-derive the lines of these sessions and of every held session sharing a DOS (R9)."""
    ids = sorted(set(session_ids))
    if not ids:
        return
    db.session.flush()
    targets = list(db.session.scalars(_session_query().where(ClassSession.id.in_(ids))))
    days = {date_of_service(s) for s in targets if s.status == "held"}
    same_day: list[ClassSession] = []
    if days:
        lo = _utc_midnight(min(days) - timedelta(days=2))
        hi = _utc_midnight(max(days) + timedelta(days=2))
        candidates = db.session.scalars(
            _session_query().where(
                ClassSession.status == "held",
                sa.func.coalesce(ClassSession.actual_start, ClassSession.starts_at) >= lo,
                sa.func.coalesce(ClassSession.actual_start, ClassSession.starts_at) < hi,
            )
        )
        same_day = [s for s in candidates if date_of_service(s) in days]
    sessions = {s.id: s for s in targets + same_day}
    facts = load_facts(list(sessions.values()))
    evaluations: dict[int, rules.Evaluation] = {}
    by_day: dict[date, list[rules.SessionFacts]] = defaultdict(list)
    for sid, f in facts.items():
        if f.status == "held":
            by_day[f.date_of_service].append(f)
        else:
            evaluations[sid] = rules.evaluate_session(f)
    for day_facts in by_day.values():
        evaluations.update(rules.evaluate_day(day_facts))
    existing = _lock_lines(list(sessions))
    old_findings = _findings_by_session(list(sessions))
    for sid in sorted(sessions):
        _reconcile(sessions[sid], evaluations[sid], existing.get(sid, []), old_findings.get(sid, []))
    db.session.flush()


def _lock_lines(session_ids: list[int]) -> dict[int, list[BillingLine]]:
    stmt = sa.select(BillingLine).where(BillingLine.session_id.in_(session_ids)).order_by(BillingLine.id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # an export running now must not be overwritten
    out: dict[int, list[BillingLine]] = defaultdict(list)
    for line in db.session.scalars(stmt):
        out[line.session_id].append(line)
    return out


def _findings_by_session(session_ids: list[int]) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = defaultdict(list)
    for f in db.session.scalars(sa.select(Finding).where(Finding.session_id.in_(session_ids)).order_by(Finding.id)):
        out[f.session_id].append(f)
    return out


def reevaluate_for_patients(patient_ids: Iterable[int]) -> None:
    ids = list(set(patient_ids))
    if not ids:
        return
    touched = sa.union(
        sa.select(CheckIn.session_id).where(CheckIn.patient_id.in_(ids)),
        sa.select(PatientPresence.session_id).where(PatientPresence.patient_id.in_(ids)),
        sa.select(BillingLine.session_id).where(BillingLine.patient_id.in_(ids), BillingLine.status != "void"),
    ).subquery()
    session_ids = db.session.scalars(
        sa.select(ClassSession.id).where(ClassSession.id.in_(sa.select(touched.c[0])), ClassSession.status == "held")
    ).all()
    reevaluate_sessions(session_ids)


def reevaluate_for_caregiver(caregiver_id: int) -> None:
    session_ids = db.session.scalars(
        sa.select(CheckIn.session_id).join(ClassSession, ClassSession.id == CheckIn.session_id)
        .where(CheckIn.caregiver_id == caregiver_id, ClassSession.status == "held").distinct()
    ).all()
    reevaluate_sessions(session_ids)


def reevaluate_for_facilitator(facilitator_id: int) -> None:
    session_ids = db.session.scalars(
        sa.select(ClassSession.id).where(
            ClassSession.actual_facilitator_id == facilitator_id, ClassSession.status == "held"
        )
    ).all()
    reevaluate_sessions(session_ids)
