"""A long export range runs as a background job (table-backed queue) with progress on the Exports page."""

from __future__ import annotations

import sqlalchemy as sa

from roster import worker
from roster.extensions import db
from roster.models import AuditEvent, BillingLine, ExportBatch, Job


def _bench(app, runner):
    result = runner.invoke(args=["roster", "bench-data", "--weeks", "10", "--classes-per-week", "6"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        lo, hi = db.session.execute(sa.select(sa.func.min(BillingLine.date_of_service),
                                              sa.func.max(BillingLine.date_of_service))).one()
        ready = db.session.scalar(sa.select(sa.func.count(BillingLine.id)).where(BillingLine.status == "ready"))
    return lo, hi, ready


def test_a_long_range_is_exported_in_the_background_by_the_worker(app, runner, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "ROSTER_JOBS", "worker")
    lo, hi, ready = _bench(app, runner)
    biller = login("biller")
    response = client.post("/billing/exports", data={"from": lo.isoformat(), "to": hi.isoformat()})
    assert response.status_code == 302
    page = client.get("/billing/exports").get_data(as_text=True)
    assert "running in the background" in page and "<progress" in page and "jobs.js" in page
    with app.app_context():
        job = db.session.scalar(sa.select(Job))
        assert (job.status, job.kind) == ("queued", "export")
        assert db.session.scalar(sa.select(sa.func.count(ExportBatch.id))) == 0
    status = client.get(f"/billing/jobs/{job.id}").get_json()
    assert status["status"] == "queued" and status["progress"] == 0

    result = runner.invoke(args=["roster", "worker", "--once"])
    assert result.exit_code == 0, result.output
    status = client.get(f"/billing/jobs/{job.id}").get_json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["result"]["rows"] == ready
    with app.app_context():
        batch = db.session.get(ExportBatch, status["result"]["batch_id"])
        assert batch.row_count == ready and batch.created_by_id == biller.id
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export.create"))
        assert event.actor_id == biller.id  # the job acts for the biller who asked
    page = client.get("/billing/exports").get_data(as_text=True)
    assert f"batch #{batch.id}" in page and "data-job-url" not in page  # nothing left to follow


def test_without_a_worker_the_web_process_runs_the_job_after_answering(app, runner, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "ROSTER_JOBS", "inprocess")
    started = []
    real_start = worker.start_in_background
    monkeypatch.setattr(worker, "start_in_background", lambda a: started.append(real_start(a)) or started[-1])
    lo, hi, ready = _bench(app, runner)
    login("biller")
    response = client.post("/billing/exports", data={"from": lo.isoformat(), "to": hi.isoformat()})
    assert response.status_code == 302
    assert len(started) == 1  # a thread of the web process, started once the request committed
    started[0].join(120)
    assert not started[0].is_alive()
    with app.app_context():
        job = db.session.scalar(sa.select(Job))
        assert job.status == "done", job.message
        assert job.result["rows"] == ready


def test_a_failing_job_is_recorded_and_the_worker_goes_on(app, runner):
    from roster.services import jobs

    with app.app_context():
        bad = jobs.enqueue("export", {"from": "not-a-date", "to": "2026-01-31"}, None)
        good = jobs.enqueue("export", {"from": "2026-01-01", "to": "2026-01-31"}, None)
        db.session.commit()
        bad_id, good_id = bad.id, good.id
    assert runner.invoke(args=["roster", "worker", "--once"]).exit_code == 0
    with app.app_context():
        assert db.session.get(Job, bad_id).status == "failed"
        assert "not-a-date" in db.session.get(Job, bad_id).message
        done = db.session.get(Job, good_id)
        assert done.status == "done" and done.result["rows"] == 0


def test_a_short_range_still_exports_at_once(app, runner, client, login):
    lo, _, _ = _bench(app, runner)
    login("biller")
    client.post("/billing/exports", data={"from": lo.isoformat(), "to": lo.isoformat()})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_job_status_needs_billing_view(client, login, app):
    from roster.services import jobs

    with app.app_context():
        job = jobs.enqueue("export", {"from": "2026-01-01", "to": "2026-03-31"}, None)
        db.session.commit()
        job_id = job.id
    login("front_desk")
    assert client.get(f"/billing/jobs/{job_id}").status_code == 403
