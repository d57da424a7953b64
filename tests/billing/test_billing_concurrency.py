"""Sixteen billers export the same range at the same moment: each line lands in exactly one batch (R16).

Runs on both databases. PostgreSQL: the exports lock the ready lines (the losers skip or wait for
them). SQLite: one writer at a time (BEGIN IMMEDIATE), so the exports queue up and wait (the busy
timeout), none fails with "database is locked"; the first takes every line, the rest find none."""

from __future__ import annotations

import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor


from tests.billing.clinic import Clinic

BILLERS = 16
ROUNDS = 2
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


def test_sixteen_exports_of_the_same_range_at_once_put_each_line_in_one_batch(app, api):
    desk = Clinic(api("admin"))
    fid = desk.facilitator()
    mrns = [desk.patient() for _ in range(PATIENTS)]
    caregivers = [desk.caregiver(m) for m in mrns]
    starts = [f"2026-02-{2 + i:02d}T10:00" for i in range(ROUNDS * SESSIONS_PER_ROUND)]
    session_ids = desk.group_class(starts)
    for caregiver_id, mrn in zip(caregivers, mrns):
        desk.enroll(desk.last_class_id, mrn, [caregiver_id])
    billers = [Clinic(api("biller")) for _ in range(BILLERS)]

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
        for i, batch in enumerate(batches):
            for j in range(i):
                assert batch & batches[j] == set(), f"round {round_}: a line is in batches {j} and {i}"
        assert set().union(*batches) == ready, f"round {round_}: a ready line was left out"
        assert sum(a["rows"] for a in answers) == len(ready)
        assert [a["rows"] for a in answers] == [len(b) for b in batches]
        lines = {l["id"]: l for l in desk.lines()}
        for answer, batch in zip(answers, batches):
            assert {lines[i]["export_batch_id"] for i in batch} <= {answer["id"]}
        assert {l["status"] for l in lines.values()} == {"exported"}
