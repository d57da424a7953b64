"""JSON API v1: claim preflight, the 837P and HL7 files of an export batch, sending to the engine."""

from __future__ import annotations

from flask import jsonify, request

from roster.api import bp
from roster.api.views import created
from roster.downloads import claim_file_routes
from roster.extensions import db
from roster.permissions import requires
from roster.services import billing, claims, hl7_messages, hl7_send
from roster.services.claims import PreflightFailed
from roster.transactions import discard_changes


def preflight_error(exc: PreflightFailed):
    discard_changes()
    return jsonify({"error": {"code": exc.code, "message": exc.message, "fields": {},
                              "problems": [p.as_dict() for p in exc.problems]}}), 409


@bp.get("/billing/preflight")
@requires("billing.view")
def claim_preflight():
    date_from, date_to = billing.parse_range(request.args.get("from"), request.args.get("to"))
    return jsonify({"problems": [p.as_dict() for p in claims.preflight_range(date_from, date_to)]})


def _prepared(make):
    """(what ``make()`` returned, None), or (None, the 409 answer) when the preflight refuses."""
    try:
        return make(), None
    except PreflightFailed as exc:
        return None, preflight_error(exc)


claim_file_routes(bp, "/billing/exports", lambda batch_id, make: _prepared(make))


def message_dict(m) -> dict:
    return {"id": m.id, "control_id": m.control_id, "patient_mrn": m.patient.mrn,
            "date_of_service": m.date_of_service.isoformat(), "status": m.status, "error": m.error,
            "attempts": m.attempts, "line_ids": list(m.line_ids)}


@bp.get("/billing/exports/<int:batch_id>/hl7-messages")
@requires("billing.view")
def hl7_messages_of(batch_id: int):
    claims.get_batch(batch_id)
    return jsonify({"messages": [message_dict(m) for m in hl7_messages.messages_of(batch_id)]})


def _send(make, batch_of) -> tuple:
    """Make or rebuild charge messages, keep them, then send their batch's pending ones (hl7_send commits
    per message): (what ``make()`` returned, the report, None), or (None, None, the 409 answer)."""
    made, refused = _prepared(make)
    if refused:
        return None, None, refused
    transport = hl7_send.engine_transport()
    db.session.commit()  # the messages exist before any is sent
    return made, hl7_send.send_pending(batch_of(made), transport, db.session.commit), None


@bp.post("/billing/exports/<int:batch_id>/hl7-send")
@requires("billing.export")
def hl7_send_batch(batch_id: int):
    _, report, refused = _send(lambda: hl7_messages.ensure_messages(batch_id), lambda _: batch_id)
    return refused or jsonify({
        "acknowledged": report.acknowledged, "rejected": report.rejected, "unreachable": report.unreachable,
        "errors": report.errors, "messages": [message_dict(m) for m in hl7_messages.messages_of(batch_id)]})


@bp.post("/billing/hl7-messages/<int:message_id>/resend")
@requires("billing.export")
def hl7_resend(message_id: int):
    message, _, refused = _send(lambda: hl7_messages.rebuild(message_id), lambda m: m.export_batch_id)
    return refused or created(message_dict(db.session.get(type(message), message_id)), 200)
