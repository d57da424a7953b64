"""The export is set-based: the same few statements for 50 lines or 700 (no per-line UPDATE, no chunks)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.models import BillingLine, ExportBatch


@pytest.fixture
def year(app, runner):
    """Ten weeks of 20 classes a week (bulk-written, billed): several hundred lines."""
    result = runner.invoke(args=["roster", "bench-data", "--weeks", "10", "--classes-per-week", "20"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        first, last = db.session.execute(
            sa.select(sa.func.min(BillingLine.date_of_service), sa.func.max(BillingLine.date_of_service))).one()
    return first, last


def _export(app, count_queries, date_from: date, date_to: date) -> tuple[int, int, list[str]]:
    from roster.services import billing

    with app.app_context():
        ready = db.session.scalar(sa.select(sa.func.count(BillingLine.id)).where(
            BillingLine.status == "ready", BillingLine.date_of_service.between(date_from, date_to)))
        with count_queries() as counter:
            batch = billing.export_range(date_from, date_to, None)
            db.session.flush()
        rows = batch.row_count
        db.session.commit()
    assert rows == ready
    return counter.count, rows, counter.statements


def test_export_runs_the_same_statements_whatever_the_line_count(app, year, count_queries):
    first, last = year
    few_count, few_rows, few_sql = _export(app, count_queries, first, first + timedelta(days=2))
    many_count, many_rows, many_sql = _export(app, count_queries, first + timedelta(days=3), last)
    assert 0 < few_rows < 100 and many_rows > 500, (few_rows, many_rows)  # more than a chunk of old
    assert few_count == many_count, (few_sql, many_sql)
    assert many_count <= 10, many_sql
    claims = [s for s in many_sql if s.lstrip().upper().startswith("UPDATE") and "RETURNING" in s.upper()]
    assert len(claims) == 2  # ready lines, pending voids


def test_every_exported_line_keeps_its_roster_row(app, year, count_queries, client, login):
    from roster.services import billing

    first, last = year
    _export(app, count_queries, first, last)
    with app.app_context():
        missing = db.session.scalar(sa.select(sa.func.count(BillingLine.id)).where(
            BillingLine.status == "exported", BillingLine.exported_row.is_(None)))
        assert missing == 0
        batch = db.session.scalar(sa.select(ExportBatch))
        line = db.session.scalar(sa.select(BillingLine).where(BillingLine.export_batch_id == batch.id)
                                 .order_by(BillingLine.id).limit(1))
        kept = line.exported_row
        assert kept["line_id"] == line.id and kept["patient_mrn"] == line.patient.mrn
        assert kept["caregivers"], "who came is part of the row"
        lines = sum(1 for _ in billing.iter_batch_csv(batch.id)) - 1
        assert lines == batch.row_count
