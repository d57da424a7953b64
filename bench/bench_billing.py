"""Benchmarks: rule evaluation, re-evaluation of held sessions, export and CSV streaming.

Run: `.venv/bin/python bench/bench_billing.py --sessions 200` (`make bench` runs bench/run.py).
Uses a fresh SQLite file in a temporary folder unless BENCH_DATABASE_URL is set
(an empty PostgreSQL database, say). Prints wall-clock timings; nothing here
is asserted: speed is measured here, correctness in tests/.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roster import create_app  # noqa: E402
from roster.domain import billing as rules  # noqa: E402
from roster.extensions import db  # noqa: E402


def timed(label: str, fn, repeat: int = 1):
    runs = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    print(f"{label:<48} {statistics.median(runs) * 1000:10.1f} ms  (median of {repeat})")
    return result


def bench_pure(n: int) -> None:
    patients = {i: rules.PatientFacts(id=i, mrn=f"A{i}", first_name="F", last_name="L",
                                      needs=frozenset({"stroke"}), diagnosis_codes=("I69.351",),
                                      consent_date=date(2026, 1, 1), consent_kind="written",
                                      poc_discipline="PT", poc_start=date(2026, 1, 1), poc_end=date(2026, 12, 31))
                for i in range(12)}
    facts = rules.SessionFacts(
        session_id=1, status="held", date_of_service=date(2026, 2, 3), minutes=60, modality="in_person",
        place_of_service="11", class_needs=frozenset({"stroke"}),
        facilitator=rules.FacilitatorFacts(1, "Dana", "PT", "1234567893"), patients=patients,
        checkins=tuple(rules.CheckInFacts(100 + i, i) for i in range(12)) + tuple(
            rules.CheckInFacts(200 + i, i) for i in range(6)),
    )
    timed(f"pure: evaluate a 12-patient session x{n}", lambda: [rules.evaluate_session(facts) for _ in range(n)], 3)


def build_clinic(app, sessions: int) -> list[int]:
    from roster.services import attendance, people, scheduling

    with app.app_context():
        fac = people.create_facilitator({"name": "Dana Reyes, PT", "npi": "1234567893", "discipline": "PT"})
        pts, cgs = [], []
        for i in range(8):
            pts.append(people.create_patient({
                "mrn": f"B{i:04d}", "first_name": "Pat", "last_name": f"P{i}", "dob": "1950-01-01",
                "needs": ["stroke"], "diagnosis_codes": ["I69.351"],
                "consent": {"date": "2026-01-01", "kind": "written"},
                "plan_of_care": {"discipline": "PT", "start": "2026-01-01", "end": "2027-12-31"}}))
            cgs.append(people.create_caregiver({"first_name": "C", "last_name": f"G{i}", "phone": f"55501{i:02d}",
                                                "links": [{"patient_mrn": f"B{i:04d}", "relationship": "spouse"}]}))
        first = date(2026, 1, 5)
        new = scheduling.create_class({
            "title": "Bench", "needs": ["stroke"], "capacity": 20, "room": "Gym", "facilitator_id": fac.id,
            "timezone": "America/Chicago", "modality": "in_person", "place_of_service": "11",
            "sessions": [{"starts_at": f"{first + timedelta(days=d)}T10:00", "duration_minutes": 60}
                         for d in range(sessions)]})
        klass, ids = new.group_class, new.session_ids
        for p, c in zip(pts, cgs):
            scheduling.enroll(klass.id, p, [c.id])
        from roster.models import ClassSession

        for sid in ids:
            s = db.session.get(ClassSession, sid)
            for p, c in zip(pts, cgs):
                attendance.check_in(s, c.id, p.mrn, None)
        db.session.commit()
        return ids


def bench_db(app, sessions: int) -> None:
    from roster.models import ClassSession
    from roster.services import attendance, billing
    from roster.domain.recurrence import utc_to_local

    ids = timed(f"db: build a clinic with {sessions} sessions x 8 sets", lambda: build_clinic(app, sessions))
    with app.app_context():
        def close_all():
            for sid in ids:
                s = db.session.get(ClassSession, sid)
                start = utc_to_local(s.starts_at, "America/Chicago")
                attendance.close_session(s, facilitator_id=s.group_class.facilitator_id, started_at=start,
                                         ended_at=start + timedelta(minutes=60), patients_present=[], user=None)
            db.session.commit()

        timed(f"db: close {sessions} sessions (evaluate each)", close_all)
        timed(f"db: re-evaluate all {sessions} held sessions", lambda: (billing.reevaluate_sessions(ids),
                                                                     db.session.commit()), 3)
        batch = timed("db: export the whole range", lambda: (b := billing.export_range(
            date(2026, 1, 1), date(2027, 12, 31), None), db.session.commit(), b)[2])
        print(f"{'':<48} {batch.row_count} rows")
        timed("db: stream the export's CSV", lambda: sum(len(x) for x in billing.iter_batch_csv(batch.id)), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--pure", type=int, default=2000)
    args = parser.parse_args()
    bench_pure(args.pure)
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        bench_db(app, args.sessions)


if __name__ == "__main__":
    main()
