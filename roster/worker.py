"""Running background jobs (``roster.services.jobs``): the worker loop and the in-process runner.

`flask roster worker` claims the oldest queued job with one UPDATE (``FOR
UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never take the same
job), runs it in its own transaction and records the result. Progress is
written on a separate connection as the job goes, so the Exports page shows it
while the job's transaction is still open (PostgreSQL; SQLite has one writer,
so there a job shows queued, running, then done). Like a CLI command, a job is
its own unit of work: this module commits.

Without a worker process (a clinic on SQLite, ``ROSTER_JOBS=inprocess``, the
default for SQLite) the web process runs queued jobs in a thread it starts once
the request that queued one has committed (``start_in_background``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import sqlalchemy as sa
from flask import g

from roster.domain.statuses import JobStatus
from roster.extensions import db
from roster.models import Job, utcnow
from roster.services.jobs import HANDLERS, Progress

log = logging.getLogger(__name__)


def claim_next() -> int | None:
    """Take the oldest queued job and mark it running (committed). None when the queue is empty."""
    pick = sa.select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.id).limit(1)
    if db.session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    job_id = db.session.scalar(
        sa.update(Job).where(Job.id == pick.scalar_subquery(), Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, started_at=utcnow(), message="Started.")
        .returning(Job.id).execution_options(synchronize_session=False)
    )
    db.session.commit()
    return job_id


def _progress_writer(job_id: int) -> Progress:
    postgres = db.engine.dialect.name == "postgresql"

    def progress(percent: int, message: str) -> None:
        if not postgres:
            return  # one writer at a time: the job's own transaction holds it
        with db.engine.begin() as conn:
            conn.execute(sa.update(Job).where(Job.id == job_id).values(progress=percent, message=message[:300]))

    return progress


def run(job_id: int) -> Job:
    """Run a claimed job in its own transaction; record done (with its result) or failed."""
    job = db.session.get(Job, job_id)
    g.job_user = job.created_by  # the audit trail names who asked, not the worker
    try:
        result = HANDLERS[job.kind](dict(job.params), _progress_writer(job_id))
        if result.pop("discard", False):
            db.session.rollback()
        # done in the same commit as the work: no page ever shows the batch beside a job still running
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(
            status=JobStatus.DONE, progress=100, finished_at=utcnow(), result=result,
            message=result.get("message", "Done.")))
        db.session.commit()
    except Exception as exc:  # a job fails alone; the worker goes on
        db.session.rollback()
        log.exception("job %s failed", job_id)
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(
            status=JobStatus.FAILED, finished_at=utcnow(), message=f"Failed: {exc}"[:300]))
        db.session.commit()
    finally:
        g.pop("job_user", None)
    return db.session.get(Job, job_id)


def run_pending() -> int:
    """Run queued jobs until none is left. Returns how many ran."""
    ran = 0
    while (job_id := claim_next()) is not None:
        run(job_id)
        ran += 1
    return ran


def work(poll_seconds: float, once: bool) -> None:
    while True:
        ran = run_pending()
        if once:
            return
        if not ran:
            time.sleep(poll_seconds)


def start_in_background(app) -> threading.Thread:
    """Run the queued jobs in a thread of the web process (no worker expected).

    Called once the request that queued a job has committed, so the thread sees it. A thread, not
    the response's close callback: servers skip that callback when the browser drops the
    connection first, and the job would wait for good."""

    def go() -> None:
        with app.app_context():
            try:
                run_pending()  # this job, and any queued before it
            finally:
                db.session.remove()

    thread = threading.Thread(target=go, name="roster-jobs", daemon=True)
    thread.start()
    return thread
