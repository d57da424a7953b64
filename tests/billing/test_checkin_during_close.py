"""A check-in (or an undo) that lands while a close of its session is under way, on both databases.

The close reads who came and writes the lines; a desk checking a late caregiver in at that moment
saw the session not yet held, so it does not evaluate billing itself. Unless the two are ordered,
the close bills without that patient and nobody bills them (lost revenue), or bills a patient whose
check-in was just undone (a wrong line). The session's row orders them: a close locks it first,
and a check-in or undo reads the session's status again under a share lock on it as it writes: it
waits for a close under way and then finds the session held (and evaluates), or the close waits for
it and then reads the check-in. SQLite lets one writer in at a time, so there this holds anyway.
"""

from __future__ import annotations

import threading

import pytest

from roster.services import billing
from tests.billing.clinic import Clinic
from tests.fresh import assert_fresh

START = "2026-02-03T10:00"


def _pause_the_close(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """The close stops after its billing is written, before it commits, until released."""
    reached, release = threading.Event(), threading.Event()
    original = billing.facts_changed

    def facts_changed(*args, **kwargs):
        result = original(*args, **kwargs)
        if threading.current_thread().name == "closer":
            reached.set()
            assert release.wait(20)
        return result

    monkeypatch.setattr(billing, "facts_changed", facts_changed)
    return reached, release


@pytest.mark.parametrize("change", ["check-in", "undo"])
def test_a_check_in_or_undo_during_a_close_is_billed_as_it_stands(app, api, monkeypatch, change):
    admin = Clinic(api("admin"))
    fid = admin.facilitator()
    first, late = admin.patient(), admin.patient()
    cg_first, cg_late = admin.caregiver(first), admin.caregiver(late)
    (session_id,) = admin.group_class([START])
    for mrn, cg in ((first, cg_first), (late, cg_late)):
        admin.enroll(admin.last_class_id, mrn, [cg])
    admin.check_in(session_id, cg_first, first)
    if change == "undo":
        admin.check_in(session_id, cg_late, late)
    reached, release = _pause_the_close(monkeypatch)
    answers: dict[str, int] = {}

    def close():
        answers["close"] = api("admin").post(f"/sessions/{session_id}/close", json={
            "facilitator_id": fid, "started_at": START, "ended_at": "2026-02-03T11:00"}).status_code

    def desk():
        path = f"/sessions/{session_id}/checkins"
        desk = api("front_desk")
        answers[change] = (desk.post(path, json={"caregiver_id": cg_late, "patient_mrn": late}) if change == "check-in"
                           else desk.delete(f"{path}/{cg_late}?patient_mrn={late}")).status_code

    closer = threading.Thread(target=close, name="closer")
    closer.start()
    assert reached.wait(20)
    other = threading.Thread(target=desk, name="desk")
    other.start()
    other.join(1.0)  # it waits for the close (or, on the old code, is done already)
    release.set()
    closer.join(20)
    other.join(20)
    assert answers == {"close": 200, change: 201 if change == "check-in" else 200}, answers
    assert_fresh(app)  # the late patient billed when checked in, not billed once undone
    lines = {line["patient_mrn"] for line in admin.lines() if line["status"] != "void"}
    assert lines == ({first, late} if change == "check-in" else {first}), lines
