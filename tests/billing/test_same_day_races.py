"""R9 across sessions under load: two desks checking one patient's caregivers into two different held
sessions of the same day at the same moment (and undoing them at the same moment).

Exactly one of the two lines may bill; the later session's line carries DUPLICATE_SAME_DAY (R9, S3),
whichever desk commits first. Each evaluation locks the sessions it evaluates, but the two desks
evaluate different sessions: only a lock on what they share (the patient) makes the second desk
see the first one's line. Eight patients race at once (16 threads), each in its own pair of
sessions; after every round the stored lines and findings equal a fresh evaluation.

PostgreSQL runs the desks side by side (patient rows locked before the sessions, both in id order).
SQLite lets one writer in at a time, so there the second desk always sees the first; the same
answers are expected."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, ClassSession, Finding
from tests.billing.clinic import Clinic
from tests.fresh import assert_fresh, run_at_once

PATIENTS = 8  # two desks each: 16 threads
ROUNDS = 3
CLOSE_ROUNDS = 2
DAY = "2026-02-03"


def _flagged(app) -> list[int]:
    with app.app_context():
        flagged = set(db.session.scalars(sa.select(Finding.session_id).where(Finding.code == "DUPLICATE_SAME_DAY")))
        db.session.remove()
    return sorted(flagged)


def _race(app, errors: list[str], rounds: int, forward: list, forward_status: int, back: list, later: list[int]) -> None:
    """Each round: every forward job at once (then R9 flags exactly the later sessions), every back
    job at once (then nothing is flagged); the stored lines equal a fresh evaluation after each.
    No answer is a 5xx and the database never met a deadlock (locks are taken in one order)."""
    statuses: Counter = Counter()
    for _ in range(rounds):
        answers = run_at_once(forward)
        statuses.update(answers)
        assert {s for _, s in answers} == {forward_status}, answers
        assert_fresh(app)
        assert _flagged(app) == sorted(later)

        answers = run_at_once(back)
        statuses.update(answers)
        assert {s for _, s in answers} == {200}, answers
        assert_fresh(app)
        assert _flagged(app) == []
    assert not [k for k in statuses if k[1] >= 500], statuses
    assert "40P01" not in errors and "database is locked" not in errors, errors


def _two_sessions_a_day(admin: Clinic, desks: list, session_for) -> tuple[list, list, list[int]]:
    """PATIENTS patients with two sessions of DAY each (every session at its own time): ``session_for(
    mrn, start, desk)`` makes one and returns (session id, forward job, back job). Returns the forward
    jobs, the back jobs and the later session of each patient (the one R9 flags)."""
    forward, back, later = [], [], []
    for i in range(PATIENTS):
        mrn = admin.patient()
        for k, hour in enumerate((8, 13)):
            start = f"{DAY}T{hour + i // 2:02d}:{30 * (i % 2):02d}"
            sid, there, back_again = session_for(mrn, start, desks[2 * i + k])
            forward.append(there)
            back.append(back_again)
        later.append(sid)
    return forward, back, later


def test_one_patient_checked_in_to_two_sessions_of_a_day_at_once_bills_once(app, api, database_errors):
    admin = Clinic(api("admin"))
    fid = admin.facilitator()

    def held(mrn, start, desk):
        sid, caregiver = admin.held_session([], fid, start), admin.caregiver(mrn)
        return (sid,
                ("checkin", lambda: [desk.post(f"/sessions/{sid}/checkins",
                                               json={"caregiver_id": caregiver, "patient_mrn": mrn}).status_code]),
                ("undo", lambda: [desk.delete(f"/sessions/{sid}/checkins/{caregiver}").status_code]))

    checkins, undos, later = _two_sessions_a_day(admin, [api("front_desk") for _ in range(2 * PATIENTS)], held)
    _race(app, database_errors, ROUNDS, checkins, 201, undos, later)


def test_two_desks_closing_and_reopening_two_sessions_of_one_patients_day_at_once(app, api, database_errors):
    """The same race through closing: both sessions have the patient's caregiver checked in; sixteen
    desks close (then re-open) the sixteen sessions at once. Closing updates the session row before
    its evaluation, so it takes the patients' locks first too (the fixed order: patients, sessions)."""
    admin = Clinic(api("admin"))
    fid = admin.facilitator()

    def attended(mrn, start, desk):
        (sid,) = admin.group_class([start])
        caregiver = admin.caregiver(mrn)
        admin.enroll(admin.last_class_id, mrn, [caregiver])
        admin.check_in(sid, caregiver, mrn)
        end = f"{start[:11]}{int(start[11:13]) + 1:02d}{start[13:]}"
        return (sid,
                ("close", lambda: [desk.post(f"/sessions/{sid}/close", json={
                    "facilitator_id": fid, "started_at": start, "ended_at": end, "patients_present": []}
                ).status_code]),
                ("reopen", lambda: [desk.post(f"/sessions/{sid}/reopen", json={"reason": "attendance fix"}
                                              ).status_code]))

    closes, reopens, later = _two_sessions_a_day(admin, [api("facilitator") for _ in range(2 * PATIENTS)], attended)
    _race(app, database_errors, CLOSE_ROUNDS, closes, 200, reopens, later)


def test_sixteen_desks_closing_one_session_at_once_keep_one_story(app, api, database_errors):
    """Sixteen facilitators close the same session at the same moment, each with its own end time.
    Every close is answered 200 (closing again replaces the facts, R15); the session became held
    once (its calendar SEQUENCE rose once), each audit record's before is what the previous close
    left, and the stored lines equal a fresh evaluation. On PostgreSQL a desk that waited for the
    session's lock reads the session as the one before it left it, not as it was before waiting."""
    admin = Clinic(api("admin"))
    fid = admin.facilitator()
    mrns = [admin.patient() for _ in range(3)]
    start = f"{DAY}T10:00"
    (sid,) = admin.group_class([start])
    for mrn in mrns:
        caregiver = admin.caregiver(mrn)
        admin.enroll(admin.last_class_id, mrn, [caregiver])
        admin.check_in(sid, caregiver, mrn)
    with app.app_context():
        sequence = db.session.get(ClassSession, sid).sequence
        db.session.remove()

    def close(desk, minutes):
        return ("close", lambda: [desk.post(f"/sessions/{sid}/close", json={
            "facilitator_id": fid, "started_at": start, "ended_at": f"{DAY}T10:{minutes:02d}",
            "patients_present": []}).status_code])

    answers = run_at_once([close(api("facilitator"), 30 + n) for n in range(16)])
    assert [s for _, s in answers] == [200] * 16, answers
    assert_fresh(app)
    with app.app_context():
        assert db.session.get(ClassSession, sid).sequence == sequence + 1
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "session.close")
                                    .order_by(AuditEvent.id)).all()
        db.session.remove()
    assert [e.before["status"] for e in events] == ["scheduled"] + ["held"] * 15
    for earlier, later in zip(events, events[1:]):
        assert later.before == {k: earlier.after[k] for k in later.before}
    assert "40P01" not in database_errors, database_errors
