"""JSON API v1: claim preflight, the 837P and HL7 files of an export batch, sending to the engine."""

from __future__ import annotations

from flask import Response, jsonify, request

from roster.api import bp
from roster.api.views import created
from roster.extensions import db
from roster.permissions import requires
from roster.services import billing, claims, hl7_messages, hl7_send
from roster.services.claims import PreflightFailed
from roster.transactions import discard_changes


def preflight_error(exc: PreflightFailed):
    discard_changes()
    return jsonify({"error": {"code": exc.code, "message": exc.message, "fields": {},
                              "problems": [p.as_dict() for p in exc.problems]}}), 409


def _file(text: str, batch_id: int, kind: str, mimetype: str) -> Response:
    name = claims.claim_file_name(claims.get_batch(batch_id), kind)
    return Response(text, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/billing/preflight")
@requires("billing.view")
def claim_preflight():
    date_from, date_to = billing.parse_range(request.args.get("from"), request.args.get("to"))
    return jsonify({"problems": [p.as_dict() for p in claims.preflight_range(date_from, date_to)]})


@bp.get("/billing/exports/<int:batch_id>.837")
@requires("billing.export")
def export_837(batch_id: int):
    try:
        kept = claims.claim_file(batch_id)
    except PreflightFailed as exc:
        return preflight_error(exc)
    return _file(kept.content, batch_id, "837", "application/edi-x12")


@bp.get("/billing/exports/<int:batch_id>.hl7")
@requires("billing.export")
def export_hl7(batch_id: int):
    try:
        text = hl7_messages.batch_file(batch_id)
    except PreflightFailed as exc:
        return preflight_error(exc)
    return _file(text, batch_id, "hl7", "application/hl7-v2")


def message_dict(m) -> dict:
    return {"id": m.id, "control_id": m.control_id, "patient_mrn": m.patient.mrn,
            "date_of_service": m.date_of_service.isoformat(), "status": m.status, "error": m.error,
            "attempts": m.attempts, "line_ids": list(m.line_ids)}


@bp.get("/billing/exports/<int:batch_id>/hl7-messages")
@requires("billing.view")
def hl7_messages_of(batch_id: int):
    claims.get_batch(batch_id)
    return jsonify({"messages": [message_dict(m) for m in hl7_messages.messages_of(batch_id)]})


@bp.post("/billing/exports/<int:batch_id>/hl7-send")
@requires("billing.export")
def hl7_send_batch(batch_id: int):
    try:
        hl7_messages.ensure_messages(batch_id)
    except PreflightFailed as exc:
        return preflight_error(exc)
    transport = hl7_send.engine_transport()
    db.session.commit()  # the messages exist before any is sent (hl7_send commits per message)
    report = hl7_send.send_pending(batch_id, transport, db.session.commit)
    return jsonify({"acknowledged": report.acknowledged, "rejected": report.rejected,
                    "unreachable": report.unreachable, "errors": report.errors,
                    "messages": [message_dict(m) for m in hl7_messages.messages_of(batch_id)]})


@bp.post("/billing/hl7-messages/<int:message_id>/resend")
@requires("billing.export")
def hl7_resend(message_id: int):
    try:
        message = hl7_messages.rebuild(message_id)
    except PreflightFailed as exc:
        return preflight_error(exc)
    batch_id = message.export_batch_id
    transport = hl7_send.engine_transport()
    db.session.commit()  # the rebuilt message is kept before it is sent (hl7_send commits per message)
    hl7_send.send_pending(batch_id, transport, db.session.commit)
    return created(message_dict(db.session.get(type(message), message_id)), 200)
