"""Timing and counting: each measurement is run N times against its floor in the same run.

A result is one JSON line: name, database, size, median, p95, runs, floor (the
median of the cheapest way to do the same work, measured right after), ratio
(median / floor) and queries (SQL statements of one run). Times are milliseconds.
Writes are rolled back after every run, so every run sees the same data.
"""

from __future__ import annotations

import json
import statistics
import time
from contextlib import contextmanager
from typing import Callable

import sqlalchemy as sa

from roster.extensions import db


@contextmanager
def counting():
    """Counts the SQL statements executed on the app's engine (savepoints left out)."""
    box = {"n": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            box["n"] += 1

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield box
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]


def _timed(fn: Callable, arg, rollback: bool) -> tuple[float, int]:
    with counting() as box:
        start = time.perf_counter()
        fn(arg)
        elapsed = time.perf_counter() - start
    if rollback:
        db.session.rollback()
    return elapsed * 1000, box["n"]


class Recorder:
    def __init__(self, database: str, size: str, out_path: str | None):
        self.database, self.size, self.out_path = database, size, out_path
        self.rows: list[dict] = []

    def measure(self, name: str, fn: Callable, floor: Callable | None, *, runs: int,
                args: Callable[[int], object] = lambda i: None, rollback: bool = True,
                note: str = "", warmup: bool = True, **extra) -> dict:
        """Run ``fn(args(i))`` ``runs`` times, then ``floor(args(i))`` as many times; rolled back each time.
        One untimed run of each first (caches warm, statements compiled)."""
        if warmup:
            _timed(fn, args(0), rollback)
            if floor is not None:
                _timed(floor, args(0), True)
        times, queries = [], None
        for i in range(runs):
            ms, n = _timed(fn, args(i), rollback)
            times.append(ms)
            queries = n if queries is None else max(queries, n)
        floor_ms = None
        if floor is not None:
            floor_times = [_timed(floor, args(i), True)[0] for i in range(runs)]
            floor_ms = statistics.median(floor_times)
        median = statistics.median(times)
        row = {
            "name": name, "database": self.database, "size": self.size,
            "median": round(median, 2), "p95": round(p95(times), 2), "runs": runs,
            "floor": round(floor_ms, 3) if floor_ms is not None else None,
            "ratio": round(median / floor_ms, 2) if floor_ms else None,
            "queries": queries, "unit": "ms",
        } | extra
        if note:
            row["note"] = note
        self.emit(row)
        return row

    def emit(self, row: dict) -> None:
        self.rows.append(row)
        print(json.dumps(row), flush=True)
        if self.out_path:
            with open(self.out_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
