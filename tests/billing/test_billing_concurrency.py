"""Two billers export the same range at the same moment: each line lands in exactly one batch (R16)."""

from __future__ import annotations

import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.billing.clinic import Clinic

pytestmark = pytest.mark.postgres_only

ROUNDS = 5
SESSIONS_PER_ROUND = 4
PATIENTS = 10  # one 97552 line each per session: 40 ready lines a round


def _race(billers: list[Clinic]) -> list[dict]:
    """Every biller posts the same export at once; the answers, in biller order."""
    barrier = threading.Barrier(len(billers))

    def export(biller: Clinic) -> dict:
        barrier.wait(timeout=30)
        return biller.export()

    with ThreadPoolExecutor(max_workers=len(billers)) as pool:
        return list(pool.map(export, billers))


def _csv_line_ids(clinic: Clinic, batch_id: int) -> list[int]:
    return [int(r["line_id"]) for r in csv.DictReader(io.StringIO(clinic.csv(batch_id)))]


def test_two_exports_of_the_same_range_at_once_put_each_line_in_one_batch(app, api):
    desk = Clinic(api("admin"))
    fid = desk.facilitator()
    mrns = [desk.patient() for _ in range(PATIENTS)]
    caregivers = [desk.caregiver(m) for m in mrns]
    starts = [f"2026-02-{2 + i:02d}T10:00" for i in range(ROUNDS * SESSIONS_PER_ROUND)]
    session_ids = desk.group_class(starts)
    for caregiver_id, mrn in zip(caregivers, mrns):
        desk.enroll(desk.last_class_id, mrn, [caregiver_id])
    billers = [Clinic(api("biller")), Clinic(api("biller"))]

    for round_ in range(ROUNDS):
        todays = slice(round_ * SESSIONS_PER_ROUND, (round_ + 1) * SESSIONS_PER_ROUND)
        for session_id, start in zip(session_ids[todays], starts[todays]):
            for caregiver_id, mrn in zip(caregivers, mrns):
                desk.check_in(session_id, caregiver_id, mrn)
            desk.close(session_id, start, fid)
        ready = {l["id"] for l in desk.lines() if l["status"] == "ready"}
        assert len(ready) == SESSIONS_PER_ROUND * PATIENTS

        answers = _race(billers)

        batches = [set(_csv_line_ids(desk, a["id"])) for a in answers]
        assert batches[0] & batches[1] == set(), f"round {round_}: a line is in both batches"
        assert batches[0] | batches[1] == ready, f"round {round_}: a ready line was left out"
        assert sum(a["rows"] for a in answers) == len(ready)
        assert [a["rows"] for a in answers] == [len(b) for b in batches]
        lines = {l["id"]: l for l in desk.lines()}
        assert {lines[i]["export_batch_id"] for i in batches[0]} <= {answers[0]["id"]}
        assert {lines[i]["export_batch_id"] for i in batches[1]} <= {answers[1]["id"]}
        assert {l["status"] for l in lines.values()} == {"exported"}
