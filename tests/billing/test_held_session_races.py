"""Busy front desks on a held session, on both databases: late check-ins, undos, coordinators editing the
session's patients and an export, all at once. Every check-in is stored once, no answer is a 5xx,
and afterwards the stored lines and findings equal a fresh evaluation of the stored facts.

PostgreSQL runs the requests side by side (session locks in id order, retries on a deadlock).
SQLite lets one writer in at a time: the others wait on the busy timeout instead of deadlocking,
and the same answers are expected (never a 5xx, never "database is locked")."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from roster.extensions import db
from roster.models import BillingLine, CheckIn
from tests.billing.clinic import Clinic
from tests.fresh import assert_fresh, run_at_once

DESKS = 16
ROUNDS = 3
START = "2026-02-03T10:00"


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
        answers = run_at_once([("checkin", check_in(d, cg)) for d, cg in zip(desks, late)] + extras)
        statuses.update(answers)
        assert [s for kind, s in answers if kind == "checkin"] == [201] * DESKS, answers
        with app.app_context():
            stored = db.session.execute(sa.select(CheckIn.caregiver_id, CheckIn.patient_id)
                                        .where(CheckIn.session_id == session_id)).all()
            db.session.remove()
        assert len(stored) == len(set(stored)) == DESKS + len(early)
        assert_fresh(app)

        # Half of them undo while the other half check in again (idempotent) and edits go on.
        undoers, stayers = late[::2], late[1::2]
        answers = run_at_once(
            [("undo", undo(desks[i], cg)) for i, cg in enumerate(undoers)]
            + [("again", check_in(desks[DESKS // 2 + i], cg)) for i, cg in enumerate(stayers)]
            + [("edit", edit(c, mrns[i], round_ * 10 + 5 + i)) for i, c in enumerate(coordinators)]
            + [("export", export)])
        statuses.update(answers)
        assert {s for kind, s in answers if kind == "undo"} == {200}, answers
        assert {s for kind, s in answers if kind == "again"} == {200}, answers
        assert_fresh(app)

        # The rest undo too, so the next round starts with only the early caregivers.
        answers = run_at_once([("undo", undo(desks[i], cg)) for i, cg in enumerate(stayers)] + [("export", export)])
        statuses.update(answers)
        assert_fresh(app)

    assert not [k for k in statuses if k[1] >= 500], statuses
    assert {k for k in statuses if k[0] == "edit"} == {("edit", 200)}, statuses
    assert {k for k in statuses if k[0] == "export"} == {("export", 201)}, statuses
    # The exported history is consistent: every exported or void line was exported once.
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BillingLine).where(
            BillingLine.status == "exported", BillingLine.export_batch_id.is_(None))) == 0
