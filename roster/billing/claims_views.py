"""Claims on the biller's pages: the preflight, a batch's 837P and HL7 downloads, and sending
its charge messages to the interface engine. Thin handlers over the claims and HL7 services."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from roster.billing import bp
from roster.billing.forms import ReviewFilterForm, current_month
from roster.domain.claim_preflight import X12, Problem
from roster.downloads import claim_file_routes
from roster.extensions import db
from roster.models import utcnow
from roster.permissions import can, requires
from roster.services import ServiceError, claims, hl7_messages, hl7_send, preflight_summary
from roster.services.claims import PreflightFailed
from roster.transactions import discard_changes

PATIENT_ANCHORS = {"NO_ADDRESS": "address", "NO_SEX": "identity", "NO_DOB": "identity",
                   "NO_MEMBER_ID": "insurance", "NO_PAYER": "insurance", "NO_DIAGNOSIS": "diagnoses"}


def fix_link(problem: Problem) -> tuple[str, str] | None:
    """(url, what the biller does there) for a preflight problem, or None when they may not fix it here."""
    kind = problem.fix_kind
    if kind == "patient" and can("people.edit"):
        return (url_for("people.edit_patient", patient_id=problem.fix_id,
                        _anchor=PATIENT_ANCHORS.get(problem.code, "identity")), "fix the patient's record")
    if kind == "facilitator" and problem.fix_id is not None and can("people.edit"):
        return url_for("people.edit_facilitator", facilitator_id=problem.fix_id), "fix the facilitator's NPI"
    if can("clinic.settings"):
        if kind == "payer":
            return url_for("billing.edit_payer", payer_id=problem.fix_id), "complete the payer"
        anchors = {"payer_list": "payers", "fee": "fees", "settings": "provider"}
        if kind in anchors:
            return url_for("billing.settings", _anchor=anchors[kind]), "open the billing settings"
    return None


@bp.get("/preflight")
@requires("billing.view")
def preflight():
    first, last = current_month(utcnow(), current_app.config["CLINIC_TIMEZONE"])
    form = ReviewFilterForm(request.args, date_from=first, date_to=last)
    summary = None
    if "from" in request.args and form.validate():
        summary = preflight_summary.range_summary(form.date_from.data, form.date_to.data,
                                                  page=request.args.get("page", type=int))
    return render_template("billing/preflight.html", form=form, summary=summary, fix_link=fix_link)


def _batch_page(batch_id: int, purpose: str | None = X12, status: int = 200):
    """The batch page: its files, what keeps it off a valid claim file (checked for ``purpose``; None: not
    shown) as things to fix, a page at a time, and a page of its charge messages."""
    batch = claims.get_batch(batch_id)
    summary = None
    if purpose is not None:
        summary = preflight_summary.batch_summary(batch.id, purpose, page=request.args.get("page", type=int))
    messages = hl7_messages.messages_page(batch.id, request.args.get("messages_page", type=int))
    return render_template("billing/batch.html", batch=batch, messages=messages, summary=summary,
                           purpose=purpose, fix_link=fix_link, per_page=hl7_messages.MESSAGES_PER_PAGE), status


@bp.get("/exports/<int:batch_id>")
@requires("billing.view")
def batch(batch_id: int):
    return _batch_page(batch_id)


def _attempt(batch_id: int, make):
    """(what ``make()`` returned, None), or (None, the batch page saying why) when a service refuses."""
    try:
        return make(), None
    except ServiceError as exc:
        discard_changes()
        flash(exc.message, "error")
        purpose = exc.purpose if isinstance(exc, PreflightFailed) else None
        return None, _batch_page(batch_id, purpose, exc.status)


claim_file_routes(bp, "/exports", _attempt)


def _send(batch_id: int, prepare) -> Response:
    def ready():
        prepare()
        return hl7_send.engine_transport()

    transport, refused = _attempt(batch_id, ready)
    if refused:
        return refused
    db.session.commit()  # the messages exist before any is sent (hl7_send commits per message, on purpose)
    report = hl7_send.send_pending(batch_id, transport, db.session.commit)
    parts = [f"{report.acknowledged} acknowledged", f"{report.rejected} rejected"]
    if report.unreachable:
        parts.append(f"{report.unreachable} not delivered ({report.errors[0]})")
    flash("Sent to the interface engine: " + ", ".join(parts) + ".",
          "success" if not (report.rejected or report.unreachable) else "error")
    return redirect(url_for("billing.batch", batch_id=batch_id) + "#messages")


@bp.post("/exports/<int:batch_id>/send")
@requires("billing.export")
def send_hl7(batch_id: int):
    return _send(batch_id, lambda: hl7_messages.ensure_messages(batch_id))


@bp.post("/exports/<int:batch_id>/messages/<int:message_id>/resend")
@requires("billing.export")
def resend_hl7(batch_id: int, message_id: int):
    return _send(batch_id, lambda: hl7_messages.rebuild(message_id))
