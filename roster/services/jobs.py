"""Background jobs: a queue in a table of the same database (no other server).

A view enqueues a job (``enqueue``) and answers at once; ``roster.worker`` runs
it (the `flask roster worker` command, or a thread of the web process, once
the queuing request committed, when no worker is expected). Job kinds are handlers registered here:
``handler(params, progress) -> result``; a result with ``"discard": True``
means "nothing to keep" (the runner rolls back instead of committing).
"""

from __future__ import annotations

from datetime import date
from typing import Callable

import sqlalchemy as sa
from flask import current_app, g

from roster.domain.statuses import JobStatus
from roster.extensions import db
from roster.models import Job, User
from roster.services import billing

Progress = Callable[[int, str], None]
HANDLERS: dict[str, Callable[[dict, Progress], dict]] = {}


def handler(kind: str):
    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


def enqueue(kind: str, params: dict, user: User | None) -> Job:
    if kind not in HANDLERS:
        raise KeyError(kind)
    job = Job(kind=kind, params=params, status=JobStatus.QUEUED, progress=0, message="Waiting to start.",
              created_by_id=user.id if user is not None and user.is_authenticated else None)
    db.session.add(job)
    db.session.flush()
    return job


def runs_in_process(app=None) -> bool:
    """True when no worker is expected: the web process runs jobs in a thread."""
    app = app or current_app
    mode = app.config.get("ROSTER_JOBS") or ("inprocess" if app.config["SQLALCHEMY_DATABASE_URI"].startswith(
        "sqlite") else "worker")
    return mode == "inprocess"


def recent(limit: int = 5) -> list[Job]:
    return list(db.session.scalars(sa.select(Job).order_by(Job.id.desc()).limit(limit)))


# --------------------------------------------------------------------------- kinds


@handler("export")
def _export(params: dict, progress: Progress) -> dict:
    date_from, date_to = date.fromisoformat(params["from"]), date.fromisoformat(params["to"])
    batch = billing.export_range(date_from, date_to, g.get("job_user"), progress=progress)
    if not batch.row_count:  # no empty batch in the history
        return {"rows": 0, "batch_id": None, "discard": True,
                "message": f"Nothing new to export from {date_from} to {date_to}."}
    return {"rows": batch.row_count, "batch_id": batch.id,
            "message": f"Exported {batch.row_count} rows ({date_from} to {date_to}) as batch #{batch.id}."}
