"""File downloads shared by the pages and the JSON API."""

from __future__ import annotations

from flask import Blueprint, Response, stream_with_context

from roster.models import ExportBatch
from roster.permissions import requires
from roster.services import billing, claims, hl7_messages
from roster.transactions import writes_when_read

# kind: (the batch's file, made and kept the first time it is asked for; its media type)
CLAIM_FILES = {
    "837": (lambda batch_id: claims.claim_file(batch_id).content, "application/edi-x12"),
    "hl7": (hl7_messages.batch_file, "application/hl7-v2"),
}


def _attachment(content, mimetype: str, name: str) -> Response:
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def csv_response(batch: ExportBatch) -> Response:
    """The batch's roster CSV, streamed a chunk of lines at a time, as an attachment."""
    name = f"roster-{batch.date_from.isoformat()}-{batch.date_to.isoformat()}-batch{batch.id}.csv"
    return _attachment(stream_with_context(billing.iter_batch_csv(batch.id)), "text/csv", name)


def claim_file_routes(bp: Blueprint, prefix: str, attempt) -> None:
    """A batch's 837P and HL7 files as downloads at ``<bp>.export_837`` and ``<bp>.export_hl7``
    (``prefix``/<batch_id>.837 and .hl7, for ``billing.export``). ``attempt(batch_id, make)`` is the
    blueprint's own answer to a refusal: (what ``make()`` returned, None), or (None, the answer)."""
    for kind in CLAIM_FILES:
        bp.add_url_rule(f"{prefix}/<int:batch_id>.{kind}", f"export_{kind}",
                        requires("billing.export")(_claim_file_view(kind, attempt)))


def _claim_file_view(kind: str, attempt):
    make, mimetype = CLAIM_FILES[kind]

    def download(batch_id: int) -> Response:
        text, refused = attempt(batch_id, lambda: make(batch_id))
        if refused:
            return refused
        return _attachment(text, mimetype, claims.claim_file_name(claims.get_batch(batch_id), kind))

    return writes_when_read(download)  # the file is made and kept on its first download
