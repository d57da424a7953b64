"""The warm-up a server runs before it serves (`roster/warmup.py`, gunicorn.conf.py): its first check-in,
double tap, undo and close compile no statement, and the warm-up leaves nothing behind, whatever happens."""

from __future__ import annotations

import gc
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.engine.interfaces import CacheStats

from roster.extensions import db
from roster import warmup
from tests.frontdesk.desk import make_scene

ROOT = Path(__file__).resolve().parents[2]


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def _compiled_now(app):
    """The statements SQLAlchemy compiles (a miss of the engine's compiled cache) from now on."""
    compiled: list[str] = []

    def after(conn, cursor, statement, parameters, context, executemany):
        if context is not None and context.cache_hit == CacheStats.CACHE_MISS:
            compiled.append(" ".join(statement.split())[:120])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", after)
    return compiled, lambda: sa.event.remove(engine, "after_cursor_execute", after)


def test_after_the_warm_up_the_first_calls_compile_nothing_and_it_left_nothing(app, build, api, client, login):
    scene = make_scene(build, sets=2)
    desk, facilitator = api("front_desk"), api("facilitator")
    login("front_desk")  # the desk's pages, signed in
    before = _row_counts(app)
    with app.app_context():
        db.engine._compiled_cache.clear()  # as in a server that has just started
    assert warmup.warm(app) is True
    assert app.extensions[warmup.WARMED]
    assert _row_counts(app) == before  # nothing of its own rows, check-ins, lines, audit records, day sums

    (p1, p2), (c1, c2) = scene.patients, scene.caregivers
    path = f"/sessions/{scene.session_id}/checkins"
    compiled, stop = _compiled_now(app)
    try:
        statuses = [
            desk.post(path, json={"caregiver_id": c1.id, "patient_mrn": p1.mrn}).status_code,
            desk.post(path, json={"caregiver_id": c1.id, "patient_mrn": p1.mrn}).status_code,  # a double tap
            desk.delete(f"{path}/{c1.id}?patient_mrn={p1.mrn}").status_code,
            desk.post(path, json={"caregiver_id": c1.id, "patient_mrn": p1.mrn}).status_code,
            desk.post(path, json={"caregiver_id": c2.id, "patient_mrn": p2.mrn}).status_code,
        ]
        page = f"/frontdesk/sessions/{scene.session_id}"  # the desk's pages and buttons: presence, undo, check-in
        pages = [client.get("/frontdesk/today").status_code, client.get(page).status_code,
                 client.get(f"{page}/search?q=Giver").status_code,
                 client.post(f"{page}/present", data={"patient_id": p1.id, "present": "yes"}).status_code,
                 client.post(f"{page}/present", data={"patient_id": p1.id, "present": "no"}).status_code,
                 client.post(f"{page}/checkins/undo", data={"caregiver_id": c2.id, "patient_id": p2.id}).status_code,
                 client.post(f"{page}/checkins", data={"caregiver_id": c2.id, "patient_id": p2.id}).status_code]
        day = scene.day.isoformat()
        closed = facilitator.post(f"/sessions/{scene.session_id}/close", json={
            "facilitator_id": scene.facilitator.id, "patients_present": [],
            "started_at": f"{day}T09:00", "ended_at": f"{day}T10:00"})
    finally:
        stop()
    assert statuses == [201, 200, 200, 201, 201] and pages == [200] * 3 + [302] * 4
    assert closed.status_code == 200 and [line["cpt"] for line in closed.get_json()["lines"]] == ["97552", "97552"]
    assert compiled == [], "\n".join(compiled)


def test_a_failing_warm_up_commits_nothing_and_the_server_serves(app, build, monkeypatch, caplog):
    make_scene(build, sets=1)
    before = _row_counts(app)

    def commits(app, scene):  # a commit in the warm-up's transaction is refused
        db.session.commit()

    def breaks(app, scene):  # a statement that fails (PostgreSQL: the transaction is aborted)
        db.session.execute(sa.text("SELECT no_such_column FROM patient"))

    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    monkeypatch.setattr(gc, "freeze", lambda: None)  # (a worker's: not the test run's objects)
    monkeypatch.setattr(warmup.log, "disabled", False)  # (alembic's logging set-up, run by the fixture, disables it)
    for failure in (commits, breaks):
        monkeypatch.setattr(warmup, "_run", failure)
        app.extensions.pop(warmup.WARMED, None)
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="roster.warmup"):
            assert warmup.warm_desk_writes(app) is False
            # the worker's hook: the master could not warm up, the worker tries, fails, and serves anyway
            hooks["post_worker_init"](SimpleNamespace(wsgi=app))
        assert "not compiled ahead" in caplog.text
        assert warmup.WARMED not in app.extensions
        assert _row_counts(app) == before


def test_a_worker_opens_its_first_connection_before_it_serves(app, monkeypatch):
    """post_worker_init: a worker whose master warmed up warms nothing again, and opens a database connection into its
    pool (its first request would wait for the connection)."""
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    monkeypatch.setattr(gc, "freeze", lambda: None)  # (a worker's: not the test run's objects)
    monkeypatch.setitem(app.extensions, warmup.WARMED, True)
    monkeypatch.setattr(warmup, "warm", lambda app: pytest.fail("warmed again"))
    with app.app_context():
        engine = db.engine
    engine.dispose()  # as post_fork leaves a worker's pool
    assert engine.pool.checkedin() == 0
    hooks["post_worker_init"](SimpleNamespace(wsgi=app))
    assert engine.pool.checkedin() == 1
