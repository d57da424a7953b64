"""`make bench` runs its cases against a filled database: each must still run against today's code.

Nothing here is timed (speed is measured by `make bench`, not by tests); this only keeps the
benchmark from rotting when a service changes what it accepts (a close in the future is refused
since issue 9, and the bench had to learn to set the clock).
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from bench import cases
from bench.harness import Recorder
from roster.extensions import db

EXPECTED = {"page_today", "page_checkin", "page_billing_review_month", "page_billing_review_year", "page_audit",
            "walk_in_search", "checkin_request", "consent_change", "close_session", "export_month", "export_year"}


def test_every_bench_case_runs_and_records_its_floor(app, runner, tmp_path, clock):
    # a Monday morning: bench-data's first slots run on Mondays, and today's sessions are still ahead
    clock.set(datetime(2026, 11, 30, 7, 0, tzinfo=ZoneInfo(app.config["CLINIC_TIMEZONE"])))
    result = runner.invoke(args=["roster", "bench-data", "--weeks", "6", "--classes-per-week", "6"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "results.json"
    with app.app_context():
        rec = Recorder(db.engine.dialect.name, "smoke", str(out))
        ctx = cases.Context.load(app)
        for case in cases.ALL:
            db.session.rollback()
            case(rec, ctx, 1)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert EXPECTED <= {row["name"] for row in rows}
    for row in rows:
        assert row["median"] > 0 and row["floor"] > 0 and row["queries"] > 0, row
        if row["name"].startswith("page_"):
            assert row["status"] == 200, row


def test_make_load_counts_the_cpu_of_a_process_tree():
    """`make load` reports where the time went: a group's CPU includes its descendants' (gunicorn's
    workers, PostgreSQL's backends), per request between two readings."""
    import os
    import subprocess
    import sys

    from bench.load import cpu_per_request, tree_cpu

    burn = ("import time\ninput()\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
            "print('done', flush=True)\ninput()")
    with subprocess.Popen([sys.executable, "-c", burn], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as child:
        # this test's process is the root: the child's CPU counts as a descendant's
        me = {"tree": [os.getpid()], "none": [2**22 + 1]}  # (no such process: counts nothing)
        before = tree_cpu(me)
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline() == "done\n"  # it burnt 0.3 s of CPU and waits
        after = tree_cpu(me)
        child.communicate("\n")
    assert after["tree"] - before["tree"] >= 0.2 and after["none"] == before["none"] == 0
    assert cpu_per_request({"tree": 1.0}, {"tree": 1.5}, 0.25, 100) == {"tree": 5.0, "client": 2.5}
