"""Never twice: sixteen desks checking the same caregivers in at the same moment, on both databases.

PostgreSQL: the requests overlap inside the database; the unique check-in key and the session lock
settle who records it. SQLite: each request takes the single write lock when its transaction
begins (BEGIN IMMEDIATE), so the desks wait for one another (never "database is locked", never a
5xx) and each sees the check-ins the one before it committed.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, CheckIn
from tests.builders import PASSWORD

THREADS = 16
CAREGIVERS = 5


def _api_desk(app, token: str, session_id: int):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def send(caregiver, patient):
        return client.post(f"/api/v1/sessions/{session_id}/checkins", headers=headers,
                           json={"caregiver_id": caregiver.id, "patient_mrn": patient.mrn})

    return send


def _form_desk(app, email: str, session_id: int):
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302

    def send(caregiver, patient):
        return client.post(f"/frontdesk/sessions/{session_id}/checkins",
                           data={"caregiver_id": caregiver.id, "patient_id": patient.id})

    return send


def _race(desks, pairs) -> list[int]:
    """Every desk sends every check-in (in its own order), all starting at the same instant."""
    barrier = threading.Barrier(len(desks))
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(send):
        order = pairs[:]
        random.shuffle(order)
        try:
            barrier.wait(timeout=30)
            for caregiver, patient in order:
                status = send(caregiver, patient).status_code
                with lock:
                    statuses.append(status)
        except BaseException as exc:  # surfaced below, so a thread never fails silently
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(send,)) for send in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(statuses) == len(desks) * len(pairs)
    return statuses


@pytest.mark.parametrize("channel", ["api", "form", "both"])
def test_many_desks_at_once_leave_exactly_one_check_in_each(app, build, scene, channel):
    desk = scene(sets=CAREGIVERS)
    pairs = list(zip(desk.caregivers, desk.patients))
    token = build.token("front_desk")
    user = build.user("front_desk")
    makers = {"api": [_api_desk], "form": [_form_desk], "both": [_api_desk, _form_desk]}[channel]
    desks = []
    for i in range(THREADS):
        make = makers[i % len(makers)]
        desks.append(make(app, token if make is _api_desk else user.email, desk.session_id))

    statuses = _race(desks, pairs)

    allowed = {"api": {200, 201}, "form": {302}, "both": {200, 201, 302}}[channel]
    assert set(statuses) <= allowed, Counter(statuses)
    if channel != "form":
        assert Counter(statuses)[201] <= CAREGIVERS
    with app.app_context():
        rows = db.session.execute(sa.select(CheckIn.caregiver_id, CheckIn.patient_id)
                                  .where(CheckIn.session_id == desk.session_id)).all()
        created = db.session.scalar(sa.select(sa.func.count(AuditEvent.id))
                                    .where(AuditEvent.action == "checkin.create"))
    assert sorted(rows) == sorted((c.id, p.id) for c, p in pairs)
    assert created == CAREGIVERS
