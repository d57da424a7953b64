"""The API check-in and undo (issue 12): their first read is made in their token's statement, their writes
audit themselves in the same statement on PostgreSQL; what they answer and record stays as it was."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from roster.extensions import db
from roster.models import AuditEvent, CaregiverLink, CheckIn
from roster.services import attendance


def _postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_an_undo_records_each_check_in_as_it_stood_in_its_own_statement(app, api, build, scene, count_queries):
    """The undo's audit record keeps the check-in as ``json.dumps`` writes it (its time as Python's
    ``isoformat``: microseconds only when there are some); on PostgreSQL the DELETE writes the records (two
    statements in all: the read with the token, the DELETE). A caregiver of two patients: both, in id order."""
    desk = scene(sets=1)
    caregiver, first = desk.caregivers[0], desk.patients[0]
    second = desk.patient()
    with app.app_context():
        from roster.models import CaregiverLink
        db.session.add(CaregiverLink(caregiver_id=caregiver.id, patient_id=second.id, relationship="son"))
        db.session.commit()
    desk_api = api("front_desk")
    path = f"/sessions/{desk.session_id}/checkins"
    for patient in (first, second):
        assert desk_api.post(path, json={"caregiver_id": caregiver.id, "patient_mrn": patient.mrn}).status_code == 201
    times = [datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc), datetime(2026, 3, 4, 5, 6, 7, 80, tzinfo=timezone.utc)]
    with app.app_context():
        ids = list(db.session.scalars(sa.select(CheckIn.id).where(CheckIn.session_id == desk.session_id)
                                      .order_by(CheckIn.id)))
        for checkin_id, at in zip(ids, times):
            db.session.execute(sa.update(CheckIn).where(CheckIn.id == checkin_id).values(checked_in_at=at))
        by = db.session.scalar(sa.select(CheckIn.checked_in_by_id).where(CheckIn.id == ids[0]))
        db.session.commit()
    with count_queries() as undo:
        assert desk_api.delete(f"{path}/{caregiver.id}").get_json() == {"removed": 2}
    assert undo.count == (2 if _postgresql(app) else 3), undo.statements
    with app.app_context():
        records = db.session.execute(
            sa.select(AuditEvent.entity_id, sa.cast(AuditEvent.before, sa.Text), sa.cast(AuditEvent.after, sa.Text),
                      AuditEvent.session_id, AuditEvent.actor_id)
            .where(AuditEvent.action == "checkin.undo").order_by(AuditEvent.id)).all()
    assert by is not None
    assert records == [(checkin_id, json.dumps({"caregiver_id": caregiver.id, "patient_id": patient.id,
                                                "checked_in_at": at.isoformat(), "checked_in_by_id": by}),
                        "null", desk.session_id, by)
                       for checkin_id, patient, at in zip(ids, (first, second), times)]
    assert times[0].isoformat() == "2026-03-04T05:06:07+00:00"


class _LostRace(Exception):
    sqlstate = "40001"


def test_a_check_in_run_again_after_a_lost_race_reads_its_session_and_caregiver_again(
        app, api, scene, count_queries, monkeypatch):
    """The rows read with the token belong to the first attempt's transaction: an attempt run again (a new
    transaction) reads the session and the caregiver on its own, and answers as the first would have."""
    desk = scene(sets=1)
    caregiver, patient = desk.caregivers[0], desk.patients[0]
    real, attempts = attendance.check_in, []

    def lose_once(*args, **kwargs):
        attempts.append(kwargs.get("caregiver_rows", args[4] if len(args) > 4 else None))
        if len(attempts) == 1:
            raise OperationalError("INSERT INTO check_in ...", {}, _LostRace("could not serialize access"))
        return real(*args, **kwargs)

    monkeypatch.setattr(attendance, "check_in", lose_once)
    with count_queries() as call:
        answer = api("front_desk").post(f"/sessions/{desk.session_id}/checkins",
                                        json={"caregiver_id": caregiver.id, "patient_mrn": patient.mrn})
    assert answer.status_code == 201 and answer.get_json()["caregiver_id"] == caregiver.id
    assert attempts[0] is not None and attempts[1] is None  # read with the token, then on its own
    reads = [s for s in call.statements if "FROM class_session JOIN group_class" in " ".join(s.split())
             or "FROM caregiver LEFT OUTER JOIN caregiver_link" in " ".join(s.split())]
    assert len(reads) == 2 and not any("api_token" in s for s in reads), call.statements


def test_a_double_tap_that_waited_for_the_other_check_in_answers_with_it(app, api, scene):
    """PostgreSQL: the other tap's INSERT not yet committed, this one waits for it, then inserts nothing;
    the check-in committed after its statement began is not in that statement's snapshot, so it is read
    in a statement of its own: 200 with that check-in, and no audit record of this call."""
    if not _postgresql(app):
        pytest.skip("SQLite: the write lock is taken at BEGIN, a call never waits inside its INSERT")
    desk = scene(sets=1)
    caregiver, patient = desk.caregivers[0], desk.patients[0]
    desk_api = api("front_desk")
    with app.app_context():
        engine = db.engine
    with engine.connect() as other:
        other_id = other.execute(sa.insert(CheckIn).values(
            session_id=desk.session_id, caregiver_id=caregiver.id, patient_id=patient.id,
            checked_in_at=datetime.now(timezone.utc), walk_in=False, relationship="").returning(CheckIn.id)).scalar()
        answers = []
        call = threading.Thread(target=lambda: answers.append(desk_api.post(
            f"/sessions/{desk.session_id}/checkins", json={"caregiver_id": caregiver.id, "patient_mrn": patient.mrn})))
        call.start()
        waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                          "AND datname = current_database()")
        with engine.connect() as watch:
            for _ in range(200):
                if watch.execute(waiting).scalar():
                    break
                watch.rollback()  # pg_stat_activity is a snapshot kept until the transaction ends
                time.sleep(0.02)
            else:
                pytest.fail("the call never waited for the other INSERT")
        other.commit()
        call.join(30)
    assert answers[0].status_code == 200, answers[0].get_json()
    assert (answers[0].get_json()["id"], answers[0].get_json()["created"]) == (other_id, False)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "checkin.create")) == 0


def test_a_check_in_finds_its_patient_by_mrn_without_regard_to_case(app, api, build, scene):
    """MRNs are unique without regard to case (the undo, the patient look-ups): a check-in reads them so too."""
    desk = scene(sets=1)
    caregiver, patient = desk.caregivers[0], desk.patients[0]
    other = build.patient(mrn=f"x{patient.mrn.lower()}")  # a second patient of this caregiver
    with app.app_context():
        db.session.add(CaregiverLink(caregiver_id=caregiver.id, patient_id=other.id, relationship="son"))
        db.session.commit()
    desk_api = api("front_desk")
    path = f"/sessions/{desk.session_id}/checkins"
    came = desk_api.post(path, json={"caregiver_id": caregiver.id, "patient_mrn": f" {patient.mrn.lower()} "})
    assert came.status_code == 201 and came.get_json()["patient_mrn"] == patient.mrn, came.get_json()
    unknown = desk_api.post(path, json={"caregiver_id": caregiver.id, "patient_mrn": "no-such-mrn"})
    assert unknown.status_code == 422 and unknown.get_json()["error"]["fields"] == {
        "patient_mrn": "No patient with MRN no-such-mrn."}
    stranger = build.patient()
    apart = desk_api.post(path, json={"caregiver_id": caregiver.id, "patient_mrn": stranger.mrn.lower()})
    assert apart.status_code == 422 and apart.get_json()["error"]["fields"] == {
        "patient_mrn": "This caregiver is not linked to that patient."}
