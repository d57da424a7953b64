"""File downloads shared by the pages and the JSON API."""

from __future__ import annotations

from flask import Response, stream_with_context

from roster.models import ExportBatch
from roster.services import billing


def csv_response(batch: ExportBatch) -> Response:
    """The batch's roster CSV, streamed a chunk of lines at a time, as an attachment."""
    name = f"roster-{batch.date_from.isoformat()}-{batch.date_to.isoformat()}-batch{batch.id}.csv"
    return Response(
        stream_with_context(billing.iter_batch_csv(batch.id)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
