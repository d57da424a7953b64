"""Export: take ready lines and pending voids into a batch, keep each row as exported (R16)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Iterator

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from roster.domain.roster_csv import RosterRow, iter_csv, row_from_json
from roster.domain.statuses import LineStatus
from roster.extensions import db
from roster.models import BillingLine, ExportBatch, User
from roster.services import audit
from roster.services.billing import day_totals, frozen
from roster.services.paging import clamp, page_count

CSV_CHUNK = 500
PARTS = 8  # a large range on PostgreSQL is claimed in this many parts (see _claim)


def export_range(date_from: date, date_to: date, user: User | None,
                 progress: Callable[[int, str], None] | None = None) -> ExportBatch:
    """Take every ready, unexported line of the range and every pending void, in one transaction.

    Set-based, a fixed number of statements whatever the line count: one
    UPDATE ... RETURNING claims the ready lines and keeps each one's roster
    row, built by the database (`frozen`; it only takes rows still
    unexported, so two billers exporting at once never put a line in two
    batches: PostgreSQL re-checks the condition after waiting for the other
    transaction's row locks; SQLite has one writer), and one claims the
    pending voids. Locks are held for moments, not minutes.
    ``progress(percent, message)`` hears about each step (background jobs).
    """
    progress = progress or (lambda percent, message: None)
    batch = ExportBatch(date_from=date_from, date_to=date_to,
                        created_by_id=user.id if user is not None and user.is_authenticated else None)
    db.session.add(batch)
    db.session.flush()
    in_range = sa.and_(BillingLine.date_of_service >= date_from, BillingLine.date_of_service <= date_to)
    conn = db.session.connection()  # rows, not ORM objects: the ORM's result handling cost more than the SQL
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # The claim's estimated cost (a subquery per line for who came) is far above jit_above_cost:
        # compiling it took longer than a month's export runs (0.9 s of a year's 3.4 s).
        conn.execute(sa.text("SET LOCAL jit = off"))
        # Lock the lines to take in id order, the order re-evaluation locks them in: the two
        # wait for each other instead of deadlocking. (Counted, not fetched: only the locks matter.)
        to_lock = sa.select(BillingLine.id).where(in_range, sa.or_(
            sa.and_(BillingLine.status == LineStatus.READY, BillingLine.export_batch_id.is_(None)),
            sa.and_(BillingLine.status == LineStatus.VOID, BillingLine.export_batch_id.is_not(None),
                    BillingLine.void_batch_id.is_(None)),
        )).order_by(BillingLine.id).with_for_update()
        count = conn.execute(sa.select(sa.func.count()).select_from(to_lock.subquery())).scalar_one()
        new_ids = _claim(batch.id, date_from, date_to, count, progress)
    else:
        new_ids = frozen.claim_ready_lines(batch.id, date_from, date_to)
    void_ids = conn.scalars(
        sa.update(BillingLine)
        .where(in_range, BillingLine.status == LineStatus.VOID, BillingLine.export_batch_id.is_not(None),
               # SQLite (no statistics) would walk every unvoided line by the void_batch_id index; the
               # unary + leaves it the range's lines by date.
               sa.text("+billing_line.void_batch_id IS NULL") if dialect == "sqlite"
               else BillingLine.void_batch_id.is_(None))
        .values(void_batch_id=batch.id)
        .returning(BillingLine.id)
    ).all()
    if new_ids and dialect != "postgresql":  # (PostgreSQL's claim adds them itself: `frozen`)
        day_totals.record_export(batch.id)  # the review's sums: these lines moved from ready to exported
    progress(60, f"{len(new_ids)} lines taken with their roster rows, and {len(void_ids)} voids.")
    progress(90, "Recording the batch.")
    batch.row_count = len(new_ids) + len(void_ids)
    db.session.flush()
    db.session.expire_all()
    audit.record(
        "export.create", "export_batch", batch.id,
        before={"lines": sorted(new_ids), "status": LineStatus.READY, "voids_pending": sorted(void_ids)},
        after={"status": LineStatus.EXPORTED, "rows": batch.row_count, "from": date_from.isoformat(),
               "to": date_to.isoformat()},
    )
    return batch


# A transaction sees pg_stat_activity as it first looked, until this drops that snapshot
_FRESH_ACTIVITY = sa.text("SELECT pg_stat_clear_snapshot()")
# Other connections to this database in the middle of a request (a statement running, or a transaction open)
_OTHERS_AT_WORK = sa.text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND state IN ('active', 'idle in transaction')")


def _others_at_work() -> bool:
    """Whether other connections are at work now. A transaction sees pg_stat_activity as it was at its first
    look (a snapshot kept to its end), so the snapshot is dropped first: each part asks anew."""
    conn = db.session.connection()
    conn.execute(_FRESH_ACTIVITY)
    return bool(conn.execute(_OTHERS_AT_WORK).scalar_one())


def _claim(batch_id: int, date_from: date, date_to: date, count: int,
           progress: Callable[[int, str], None]) -> list[int]:
    """PostgreSQL: claim the range's ready lines; a large range gives way to other work as it goes.

    A year's claim keeps one PostgreSQL backend busy for seconds: on a small server that is half the
    machine, and a front desk checking caregivers in at that moment waits for it. A range of more than
    ``EXPORT_PACED_ABOVE`` lines (default 5,000) is claimed in ``PARTS`` parts of equal days (the same
    statement a fixed number of times, whatever the line count). After each part but the last, if
    other connections to the database are at work (``_OTHERS_AT_WORK``), the claim pauses so that it
    works ``EXPORT_SHARE`` of the time (default 0.5: a pause as long as the part took), as PostgreSQL
    paces its own VACUUM; with no one else at work it goes straight on. The pauses together last at
    most ``EXPORT_PAUSE_LIMIT`` seconds (default 10): on a server so busy that the parts themselves
    crawl, the export still ends well inside a worker's timeout. Its lines are locked before the
    first part (``export_range``), so nothing changes in the pauses, and a year still takes seconds.
    SQLite is never paced: its one write lock would keep every desk waiting through the pauses.
    """
    config = current_app.config  # (roster/config.py: defaults, ROSTER_EXPORT_SHARE checked)
    share, pauses_left = config["EXPORT_SHARE"], config["EXPORT_PAUSE_LIMIT"]
    if count <= config["EXPORT_PACED_ABOVE"] or not 0 < share < 1:
        return frozen.claim_ready_lines(batch_id, date_from, date_to)
    days = (date_to - date_from).days + 1
    cuts = sorted({date_from + timedelta(days=days * k // PARTS) for k in range(PARTS)} | {date_to + timedelta(days=1)})
    ids: list[int] = []
    for n, (first, after) in enumerate(zip(cuts, cuts[1:]), start=1):
        started = time.perf_counter()
        ids += frozen.claim_ready_lines(batch_id, first, after - timedelta(days=1))
        progress(10 + 50 * n // (len(cuts) - 1), f"{len(ids)} of about {count} lines taken.")
        if after <= date_to and pauses_left > 0 and _others_at_work():
            pause = min(pauses_left, (time.perf_counter() - started) * (1 - share) / share)
            pauses_left -= pause
            time.sleep(pause)
    return ids


def export_history(limit: int = 100, offset: int = 0) -> list[ExportBatch]:
    """Export batches, newest first, with who made them."""
    return list(db.session.scalars(
        sa.select(ExportBatch).options(selectinload(ExportBatch.created_by))
        .order_by(ExportBatch.id.desc()).limit(limit).offset(offset)
    ))


@dataclass(frozen=True)
class ExportPage:
    batches: list[ExportBatch]
    page: int
    pages: int


def export_page(page: int, per_page: int) -> ExportPage:
    """One page of the export history, newest first (three queries)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ExportBatch))
    pages = page_count(total, per_page)
    page = clamp(page, pages)
    return ExportPage(export_history(per_page, (page - 1) * per_page), page, pages)


def iter_batch_csv(batch_id: int) -> Iterator[str]:
    """The batch's roster CSV, built a chunk of lines at a time."""
    return iter_csv(_batch_rows(batch_id))


def _batch_rows(batch_id: int) -> Iterator[RosterRow]:
    """The rows kept at export time: a later download, and a void row, repeat them unchanged."""
    stmt = (
        sa.select(BillingLine.exported_row, BillingLine.void_batch_id)
        .where(sa.or_(BillingLine.export_batch_id == batch_id, BillingLine.void_batch_id == batch_id))
        .order_by(BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
        .execution_options(yield_per=CSV_CHUNK)
    )
    for row in db.session.connection().execute(stmt):  # rows: the ORM's result handling cost a fifth
        yield row_from_json(row.exported_row, "void" if row.void_batch_id == batch_id else "new")
