"""Busy front desks on a held session (PostgreSQL): late check-ins, undos, coordinators editing the
session's patients and an export, all at once. Every check-in is stored once, no answer is a 5xx,
and afterwards the stored lines and findings equal a fresh evaluation of the stored facts."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from roster.domain import billing as rules
from roster.extensions import db
from roster.models import BillingLine, CheckIn, ClassSession, Finding
from roster.services.billing import load_facts
from tests.billing.clinic import Clinic

pytestmark = pytest.mark.postgres_only

DESKS = 16
ROUNDS = 3
START = "2026-02-03T10:00"


def _run_at_once(jobs) -> list[tuple[str, int]]:
    """Run every job in its own thread, all released together; (kind, status) of each answer."""
    barrier = threading.Barrier(len(jobs))
    answers: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(kind, job):
        try:
            barrier.wait(timeout=60)
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


def _fresh_evaluation_matches(app, session_id: int) -> None:
    """The stored live lines and findings of the session equal what the rules give for its facts."""
    with app.app_context():
        session = db.session.get(ClassSession, session_id)
        facts = load_facts([session])[session_id]
        evaluation = rules.evaluate_session(facts)
        lines = db.session.scalars(sa.select(BillingLine).where(BillingLine.session_id == session_id,
                                                                BillingLine.status != "void")).all()
        stored = sorted((l.patient_id, l.cpt, l.units, tuple(l.modifiers), l.place_of_service,
                         tuple(l.diagnosis_codes), l.status if l.status != "exported" else "ready", l.member_id)
                        for l in lines)
        wanted = sorted((d.patient_id, d.cpt, d.units, d.modifiers, d.place_of_service, d.diagnosis_codes,
                         d.status, facts.patients[d.patient_id].member_id) for d in evaluation.lines)
        assert stored == wanted
        found = db.session.execute(sa.select(Finding.patient_id, Finding.code)
                                   .where(Finding.session_id == session_id)).all()
        assert sorted(set(found)) == sorted({(f.patient_id, f.code) for f in evaluation.findings})
        represented = {c.patient_id for c in facts.checkins} - facts.present_patient_ids
        assert {l.patient_id for l in lines} == represented  # nobody checked in is left without a line
        db.session.remove()


def test_sixteen_desks_on_one_held_session_with_undos_edits_and_an_export(app, api):
    admin = Clinic(api("admin"))
    fid = admin.facilitator()
    mrns = [admin.patient() for _ in range(DESKS // 2)]
    early = [admin.caregiver(m) for m in mrns[:2]]
    late = [admin.caregiver(m) for m in mrns for _ in range(2)][:DESKS]  # two late caregivers per patient
    late_for = {cg: mrns[i // 2] for i, cg in enumerate(late)}
    session_id = admin.held_session([(cg, m) for cg, m in zip(early, mrns[:2])], fid, START)
    desks = [api("front_desk") for _ in range(DESKS)]
    coordinators = [api("coordinator") for _ in range(2)]
    biller = api("biller")

    def check_in(desk, cg):
        return lambda: [desk.post(f"/sessions/{session_id}/checkins",
                                  json={"caregiver_id": cg, "patient_mrn": late_for[cg]}).status_code]

    def undo(desk, cg):
        return lambda: [desk.delete(f"/sessions/{session_id}/checkins/{cg}").status_code]

    def edit(coordinator, mrn, n):
        return lambda: [coordinator.patch(f"/patients/{mrn}", json={
            "member_id": f"EDIT{n:04d}", "diagnosis_codes": ["I69.351"] if n % 2 else ["I69.351", "R26.89"],
        }).status_code for _ in range(3)]

    def export():
        return [biller.post("/billing/exports", json={"from": "2026-02-01", "to": "2026-02-28"}).status_code]

    statuses: Counter = Counter()
    for round_ in range(ROUNDS):
        # Everyone checks a different late caregiver in at once, with edits and an export.
        extras = [("edit", edit(c, mrns[i + 2 * round_ % len(mrns)], round_ * 10 + i))
                  for i, c in enumerate(coordinators)] + [("export", export)]
        answers = _run_at_once([("checkin", check_in(d, cg)) for d, cg in zip(desks, late)] + extras)
        statuses.update(answers)
        assert [s for kind, s in answers if kind == "checkin"] == [201] * DESKS, answers
        with app.app_context():
            stored = db.session.execute(sa.select(CheckIn.caregiver_id, CheckIn.patient_id)
                                        .where(CheckIn.session_id == session_id)).all()
            db.session.remove()
        assert len(stored) == len(set(stored)) == DESKS + len(early)
        _fresh_evaluation_matches(app, session_id)

        # Half of them undo while the other half check in again (idempotent) and edits go on.
        undoers, stayers = late[::2], late[1::2]
        answers = _run_at_once(
            [("undo", undo(desks[i], cg)) for i, cg in enumerate(undoers)]
            + [("again", check_in(desks[DESKS // 2 + i], cg)) for i, cg in enumerate(stayers)]
            + [("edit", edit(c, mrns[i], round_ * 10 + 5 + i)) for i, c in enumerate(coordinators)]
            + [("export", export)])
        statuses.update(answers)
        assert {s for kind, s in answers if kind == "undo"} == {200}, answers
        assert {s for kind, s in answers if kind == "again"} == {200}, answers
        _fresh_evaluation_matches(app, session_id)

        # The rest undo too, so the next round starts with only the early caregivers.
        answers = _run_at_once([("undo", undo(desks[i], cg)) for i, cg in enumerate(stayers)] + [("export", export)])
        statuses.update(answers)
        _fresh_evaluation_matches(app, session_id)

    assert not [k for k in statuses if k[1] >= 500], statuses
    assert {k for k in statuses if k[0] == "edit"} == {("edit", 200)}, statuses
    assert {k for k in statuses if k[0] == "export"} == {("export", 201)}, statuses
    # The exported history is consistent: every exported or void line was exported once.
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BillingLine).where(
            BillingLine.status == "exported", BillingLine.export_batch_id.is_(None))) == 0
