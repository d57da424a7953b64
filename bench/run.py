"""`make bench`: Roster against floors on one database at one size (see bench/harness.py).

    .venv/bin/python bench/run.py --database-url URL --size small|year [--out bench/results.json] [--only NAME]

A database already filled is reused as it is (the fill is skipped), so a case can be re-run
quickly with --only.

Migrates the database, fills it with `roster bench-data` when it is empty
(timed: the first line), then measures: export of a month and of the year,
a consent change for the patient with the most held sessions, closing one of
today's sessions, walk-in search keystrokes, a check-in request, and the busy
pages (today, check-in, billing review, classes, audit, people) with their query
counts, each next to its floor measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import csv
import io
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.harness import Recorder  # noqa: E402
from roster import create_app  # noqa: E402
from roster.extensions import db  # noqa: E402

SIZES = {"small": ["--scale", "0.1"], "year": []}


def make_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False,
                       "REMEMBER_COOKIE_SECURE": False, "SECRET_KEY": "bench"})


def fill(app, rec: Recorder, size: str) -> None:
    from flask_migrate import upgrade

    from roster.models import ClassSession

    with app.app_context():
        upgrade()
        if db.session.scalar(sa.select(sa.func.count(ClassSession.id))):
            return
    runner = app.test_cli_runner()
    start = time.perf_counter()
    result = runner.invoke(args=["roster", "bench-data", *SIZES[size]])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    rec.emit({"name": "bench_data", "database": rec.database, "size": size,
              "median": round((time.perf_counter() - start) * 1000, 1), "p95": None, "runs": 1, "floor": None,
              "ratio": None, "queries": None, "unit": "ms", "note": result.output.strip().splitlines()[-1]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--out", default=None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", action="append", default=[],
                        help="run only the cases whose function name contains this (repeatable); the data is kept")
    opts = parser.parse_args()
    app = make_app(opts.database_url)
    with app.app_context():
        database = db.engine.dialect.name
    rec = Recorder(database, opts.size, opts.out)
    fill(app, rec, opts.size)
    from bench import cases
    from roster.services.frontdesk import warm_walk_in_search

    with app.app_context():
        ctx = cases.Context.load(app)
        # as each gunicorn worker does once the app is loaded (gunicorn.conf.py, post_worker_init): the walk-in
        # search's statements compiled, then a full garbage collection walks what the measured work made, not
        # every object of the app and the fill
        warm_walk_in_search()
        db.session.rollback()
        gc.collect()
        gc.freeze()
        for case in cases.ALL:
            if opts.only and not any(part in case.__name__ for part in opts.only):
                continue
            db.session.rollback()
            case(rec, ctx, opts.runs)


if __name__ == "__main__":
    main()
