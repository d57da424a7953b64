"""JSON API v1: thin handlers. Parse JSON, call one service; the request commits once (roster/transactions.py)."""

from __future__ import annotations

from flask import g, jsonify, request

from roster.api import bp, read_with_token
from roster.domain.statuses import LineStatus
from roster.downloads import csv_response
from roster.errors import api_error
from roster.extensions import db
from roster.models import Caregiver, ClassSession, ExportBatch, Facilitator, GroupClass, Patient, utcnow
from roster.permissions import can, requires
from roster.services import ServiceError, attendance, billing, frontdesk, paging, people, scheduling
from roster.services.frontdesk import with_token
from roster.services.validation import parse_local

LINES_LIMIT = 1000  # the most lines (and export batches) one answer holds; page on with next_offset
EXPORTS_LIMIT = 100  # export batches in one answer unless ?limit= says otherwise


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise _Malformed()
    return data


class _Malformed(ServiceError):
    status = 400
    code = "malformed_json"

    def __init__(self):
        super().__init__("The body must be a JSON object.", {})


def created(payload: dict, status: int = 201):
    """The answer of a write; the request's transaction commits when the view returns."""
    return jsonify(payload), status


def updated(model, ident: int, update):
    """PATCH of a record by id: 404 if there is none, else ``update(record, body)`` and its id, 200."""
    record = db.get_or_404(model, ident)
    update(record, body())
    return created({"id": record.id}, 200)


def create_route(path: str, endpoint: str, create) -> None:
    """POST ``path`` (``people.edit``) at ``api.<endpoint>``: ``create(body)`` makes the record; 201 with its id."""

    @requires("people.edit")
    def view():
        return created({"id": create(body()).id})

    bp.add_url_rule(path, endpoint, view, methods=["POST"])


# --------------------------------------------------------------------------- reference data


@bp.get("/facilitators")
@requires("people.view")
def list_facilitators():
    return jsonify({"facilitators": [
        {"id": f.id, "name": f.name, "discipline": f.discipline, "npi": f.npi, "active": f.active}
        for f in people.all_facilitators()
    ]})


@bp.post("/facilitators")
@requires("people.edit")
def create_facilitator():
    facilitator = people.create_facilitator(body())
    warning = people.npi_warning(facilitator.npi)
    return created({"id": facilitator.id, **({"warning": warning} if warning else {})})


@bp.patch("/facilitators/<int:facilitator_id>")
@requires("people.edit")
def update_facilitator(facilitator_id: int):
    return updated(Facilitator, facilitator_id, people.update_facilitator)


def patient_dict(p: Patient) -> dict:
    """A patient as the caller may see it: front desk and facilitators get what check-in needs only."""
    seen = {"id": p.id, "mrn": p.mrn, "first_name": p.first_name, "last_name": p.last_name,
            "needs": list(p.needs or [])}
    if not can("people.view_clinical"):
        return seen
    return seen | {
        "dob": p.dob.isoformat() if p.dob else None, "payer": p.payer, "member_id": p.member_id,
        "diagnosis_codes": list(p.diagnosis_codes or []),
        "consent": {"date": p.consent_date.isoformat(), "kind": p.consent_kind} if p.consent_date else None,
        "plan_of_care": {"discipline": p.poc_discipline, "start": p.poc_start.isoformat(),
                         "end": p.poc_end.isoformat()} if p.poc_start else None,
        "sex": p.sex, "address_line1": p.address_line1, "address_city": p.address_city,
        "address_state": p.address_state, "address_zip": p.address_zip,
    }


create_route("/patients", "create_patient", people.create_patient)


@bp.get("/patients/<mrn>")
@requires("people.view")
def get_patient(mrn: str):
    return jsonify(patient_dict(people.get_patient_by_mrn(mrn)))


@bp.patch("/patients/<mrn>")
@requires("people.edit")
def update_patient(mrn: str):
    patient = people.get_patient_by_mrn(mrn)
    people.update_patient(patient, body())
    return created(patient_dict(patient), 200)


create_route("/caregivers", "create_caregiver", people.create_caregiver)


@bp.patch("/caregivers/<int:caregiver_id>")
@requires("people.edit")
def update_caregiver(caregiver_id: int):
    return updated(Caregiver, caregiver_id, people.update_caregiver)


# --------------------------------------------------------------------------- classes and sessions


def session_dict(s: ClassSession) -> dict:
    tz = s.group_class.timezone
    local = scheduling.utc_to_local
    return {
        "id": s.id, "class_id": s.class_id, "status": s.status,
        "starts_at": local(s.starts_at, tz).isoformat(timespec="minutes"),
        "ends_at": local(s.ends_at, tz).isoformat(timespec="minutes"),
        "room": s.effective_room, "cancel_reason": s.cancel_reason,
    }


@bp.post("/classes")
@requires("schedule.edit")
def create_class():
    new = scheduling.create_class(body())
    return created({"id": new.group_class.id, "session_ids": new.session_ids})


@bp.get("/classes/<int:class_id>")
@requires("schedule.view")
def get_class(class_id: int):
    c = db.get_or_404(GroupClass, class_id)
    return jsonify({
        "id": c.id, "title": c.title, "needs": c.needs, "capacity": c.capacity, "room": c.room,
        "facilitator_id": c.facilitator_id, "timezone": c.timezone, "modality": c.modality,
        "place_of_service": c.place_of_service, "training": c.training, "seats_taken": scheduling.seats_taken(c.id),
        "sessions": [session_dict(s) for s in c.sessions],
    })


@bp.patch("/classes/<int:class_id>")
@requires("schedule.edit")
def update_class(class_id: int):
    return updated(GroupClass, class_id, scheduling.update_class)


@bp.post("/classes/<int:class_id>/enrollments")
@requires("enrollment.edit")
def enroll(class_id: int):
    data = body()
    mrn = data.get("patient_mrn")
    if not isinstance(mrn, str):
        raise ServiceError("The enrolment is not valid.", {"patient_mrn": "A patient MRN is required."})
    db.get_or_404(GroupClass, class_id)
    patient = people.get_patient_by_mrn(mrn)
    result = scheduling.enroll(class_id, patient, data.get("caregiver_ids"))
    return created({"id": result.enrollment.id, "status": result.status, "warnings": result.warnings})


@bp.delete("/classes/<int:class_id>/enrollments/<mrn>")
@requires("enrollment.edit")
def withdraw(class_id: int, mrn: str):
    patient = people.get_patient_by_mrn(mrn)
    enrollment = scheduling.find_enrollment(class_id, patient.id)
    if enrollment is None:
        return api_error(404, "not_found", "That patient is not in this class.")
    promoted = scheduling.withdraw(enrollment, utcnow())
    return created({"status": "withdrawn", "promoted": [e.patient.mrn for e in promoted]}, 200)


@bp.get("/sessions/<int:session_id>")
@requires("schedule.view")
def get_session(session_id: int):
    return jsonify(session_dict(db.get_or_404(ClassSession, session_id)))


def _desk_session(session_id: int, rows: list | None):
    """The call's session: as read with its token (``rows``), or (run again) read now."""
    if rows is None:
        return frontdesk.load_session_and_class(session_id)  # its class too: one statement
    return frontdesk.found_desk_session(session_id, with_token.session_of(rows))


@bp.post("/sessions/<int:session_id>/checkins")
@requires("frontdesk.checkin")
@read_with_token(with_token.check_in)
def check_in(session_id: int):
    rows = with_token.taken()
    session = _desk_session(session_id, rows)
    data = body()
    if data.get("patient_mrn") is not None and not isinstance(data["patient_mrn"], str):
        raise ServiceError("The check-in is not valid.", {"patient_mrn": "The patient's MRN must be text."})
    result = attendance.check_in(session, data.get("caregiver_id"), data.get("patient_mrn"), g.api_user,
                                 None if rows is None else with_token.caregiver_rows(rows))
    c = result.checkin
    return created(
        {"id": c.id, "session_id": session.id, "caregiver_id": c.caregiver_id, "patient_mrn": result.patient.mrn,
         "checked_in_at": c.checked_in_at.isoformat(), "walk_in": c.walk_in, "created": result.created},
        201 if result.created else 200,
    )


@bp.delete("/sessions/<int:session_id>/checkins/<int:caregiver_id>")
@requires("frontdesk.checkin")
@read_with_token(with_token.undo)
def undo_check_in(session_id: int, caregiver_id: int):
    session = _desk_session(session_id, with_token.taken())
    removed = attendance.undo_check_in(session, caregiver_id, patient_mrn=request.args.get("patient_mrn"))
    return created({"removed": removed}, 200)


@bp.post("/sessions/<int:session_id>/close")
@requires("session.close")
@read_with_token(attendance.close_read)
def close_session(session_id: int):
    data = request.get_json(silent=True)  # only to read the facilitator it names with the session
    session = attendance.session_to_close(session_id, data.get("facilitator_id") if isinstance(data, dict) else None,
                                          gated=g.pop("api_rows", None) is not None)
    data = body()
    errors: dict[str, str] = {}
    started = parse_local(data.get("started_at"), "started_at", errors, "Actual start")
    ended = parse_local(data.get("ended_at"), "ended_at", errors, "Actual end")
    if errors:
        raise ServiceError("The session could not be closed.", errors)
    answer = billing.SessionAnswer(session)  # made from what the close wrote, not read back
    attendance.close_session(
        session, facilitator_id=data.get("facilitator_id"), started_at=started, ended_at=ended,
        patients_present=data.get("patients_present") if data.get("patients_present") is not None else [],
        user=g.api_user, answer=answer,
    )
    return jsonify(answer.billing())


@bp.post("/sessions/<int:session_id>/reopen")
@requires("session.close")
def reopen_session(session_id: int):
    session = db.get_or_404(ClassSession, session_id)
    attendance.reopen_session(session, body().get("reason"), g.api_user)
    return created(session_dict(session), 200)


@bp.post("/sessions/<int:session_id>/cancel")
@requires("schedule.edit")
def cancel_session(session_id: int):
    session = db.get_or_404(ClassSession, session_id)
    scheduling.cancel_session(session, body().get("reason"))
    return created(session_dict(session), 200)


# --------------------------------------------------------------------------- billing


@bp.get("/sessions/<int:session_id>/billing")
@requires("billing.view")
def session_billing(session_id: int):
    return jsonify(billing.session_billing(db.get_or_404(ClassSession, session_id)))


@bp.get("/billing/lines")
@requires("billing.view")
def billing_lines():
    date_from, date_to = billing.parse_range(request.args.get("from"), request.args.get("to"))
    status = request.args.get("status")
    if status and status not in tuple(LineStatus):
        raise ServiceError("Unknown status.", {"status": f"One of {', '.join(LineStatus)}."})
    limit, offset = paging.limit_offset(request.args, default=LINES_LIMIT, maximum=LINES_LIMIT)
    found = paging.window(lambda n, skip: billing.lines_between(date_from, date_to, status, limit=n, offset=skip),
                          limit, offset)
    return jsonify({"lines": [billing.line_dict(l) for l in found.items], "next_offset": found.next_offset})


@bp.post("/billing/exports")
@requires("billing.export")
def create_export():
    data = body()
    date_from, date_to = billing.parse_range(data.get("from"), data.get("to"))
    batch = billing.export_range(date_from, date_to, g.api_user)
    return created({"id": batch.id, "rows": batch.row_count})


@bp.get("/billing/exports")
@requires("billing.view")
def list_exports():
    limit, offset = paging.limit_offset(request.args, default=EXPORTS_LIMIT, maximum=LINES_LIMIT)
    found = paging.window(billing.export_history, limit, offset)
    return jsonify({"exports": [
        {"id": b.id, "from": b.date_from.isoformat(), "to": b.date_to.isoformat(), "rows": b.row_count,
         "created_at": b.created_at.isoformat()} for b in found.items
    ], "next_offset": found.next_offset})


@bp.get("/billing/exports/<int:batch_id>.csv")
@requires("billing.view")
def export_csv(batch_id: int):
    batch = db.get_or_404(ExportBatch, batch_id)
    return csv_response(batch)
