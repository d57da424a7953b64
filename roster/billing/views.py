"""The biller's pages: review lines and findings, export rosters, read the audit trail."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from flask import after_this_request, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from roster.billing import bp
from roster.billing.audit_view import readable
from roster.billing.fixes import fix_link
from roster.billing.forms import AuditFilterForm, ExportForm, ReviewFilterForm, current_month
from roster.domain.recurrence import utc_to_local
from roster.downloads import csv_response
from roster.extensions import db
from roster.models import ExportBatch, Job, Patient, utcnow
from roster.permissions import can, requires
from roster.services import audit as audit_trail
from roster.services import ServiceError, billing, frontdesk, hl7_send, jobs, people
from roster.services.billing.overview import export_preview, grouped_findings
from roster.transactions import discard_changes
from roster.templating import cached_macro, format_day

LINES_PER_PAGE = 100
GROUPS_SHOWN = 50  # finding groups listed on the review page (blocking first, most lines first)
BACKGROUND_EXPORT_DAYS = 31  # a longer range is exported by a background job, with progress on the page


def _this_month() -> dict:
    first, last = current_month(utcnow(), current_app.config["CLINIC_TIMEZONE"])
    return {"date_from": first, "date_to": last}


def _page() -> int:
    return request.args.get("page", 1, type=int)


@bp.get("/review")
@requires("billing.view")
def review():
    form = ReviewFilterForm(request.args, **_this_month())
    result = groups = patient = None
    groups_total = 0
    if form.validate():
        result = billing.review(form.date_from.data, form.date_to.data, form.status_filter, _page(), LINES_PER_PAGE,
                                request.args.get("fpage", 1, type=int),
                                cpt=form.cpt.data or None, facilitator_id=form.facilitator.data,
                                patient_id=form.patient.data)
        groups, groups_total = grouped_findings(form.date_from.data, form.date_to.data, GROUPS_SHOWN)
        if form.patient.data:
            patient = db.session.get(Patient, form.patient.data)
    href = _review_href()
    return render_template("billing/review.html", form=form, review=result, review_href=href, groups=groups,
                           groups_hidden=groups_total - len(groups or ()), patient=patient,
                           **_review_rows(form, result, groups or (), href))


# the review's lines, finding groups and session findings, each rendered once per distinct row (with its fix
# links and addresses): a biller re-opening the review after a fix renders only the rows that changed
_line_rows = cached_macro("billing/_review_rows.html", "line_row")
_group_rows = cached_macro("billing/_review_rows.html", "group_row")
_session_finding_rows = cached_macro("billing/_review_rows.html", "session_finding_row")


def _review_rows(form: ReviewFilterForm, result, groups, href) -> dict:
    """The rows' renderers and their items: each row with the links it shows (values, so the row is
    remembered by them)."""
    if result is None:
        return {}
    in_range = {"from": form.date_from.data.isoformat(), "to": form.date_to.data.isoformat()}
    return {
        "line_rows": _line_rows, "group_rows": _group_rows, "session_finding_rows": _session_finding_rows,
        "line_items": [(line, tuple(fix_link(f, line) for f in line.findings)) for line in result.lines],
        "group_items": [(g, fix_link(g.sample), href(patient=g.patient.id, **in_range) + "#lines-heading"
                         if g.patient else None) for g in groups],
        "session_finding_items": [(sf, fix_link(sf.finding)) for sf in result.session_findings],
    }


def _review_href():
    """``url_for('billing.review', **args)`` for the page's many links (a code, a facilitator, a patient's
    group each): the same URL, built from the page's address once (url_for takes ~50 µs a call)."""
    base = url_for("billing.review") + "?"
    quoted: dict[str, str] = {}  # each name and value quoted once: the range's dates are in every link

    def quote(value) -> str:
        text = str(value)
        if text not in quoted:
            quoted[text] = quote_plus(text, safe="!$'()*,/:;?@")
        return quoted[text]

    def href(**args) -> str:  # urlencode(args), None left out
        return base + "&".join(f"{quote(k)}={quote(v)}" for k, v in args.items() if v is not None)

    return href


def _exports_page(form: ExportForm, status: int = 200):
    history = billing.export_page(_page(), current_app.config["PAGE_SIZE"])
    hl7_status = hl7_send.status_counts([b.id for b in history.batches])
    return render_template("billing/exports.html", form=form, history=history, jobs=jobs.recent(),
                           hl7_status=hl7_status), status


def _up_to_yesterday() -> dict:
    """The default export range: the month of yesterday, up to yesterday (today may still change)."""
    today = utc_to_local(utcnow(), current_app.config["CLINIC_TIMEZONE"]).date()
    yesterday = today - timedelta(days=1)
    return {"date_from": yesterday.replace(day=1), "date_to": yesterday}


@bp.get("/exports")
@requires("billing.view")
def exports():
    return _exports_page(ExportForm(formdata=None, **_up_to_yesterday()))


@bp.get("/exports/confirm")
@requires("billing.export")
def confirm_export():
    """Step one of an export: say what it will take ("N new lines, M voids for DATE–DATE") before it is done."""
    form = ExportForm(request.args, meta={"csrf": False})
    if not form.validate():
        return _exports_page(form, 422)
    preview = export_preview(form.date_from.data, form.date_to.data)
    confirm_form = ExportForm(formdata=None, date_from=form.date_from.data, date_to=form.date_to.data)
    history = billing.export_page(_page(), current_app.config["PAGE_SIZE"])
    return render_template("billing/exports.html", form=form, history=history, preview=preview, jobs=jobs.recent(),
                           hl7_status=hl7_send.status_counts([b.id for b in history.batches]),
                           confirm_form=confirm_form)


@bp.post("/exports")
@requires("billing.export")
def create_export():
    form = ExportForm()
    if not form.validate_on_submit():
        return _exports_page(form, 422)
    date_from, date_to = form.date_from.data, form.date_to.data
    if (date_to - date_from).days >= BACKGROUND_EXPORT_DAYS:
        return _export_in_background(date_from, date_to)
    batch = billing.export_range(date_from, date_to, current_user)
    if batch.row_count:
        flash(f"Exported {batch.row_count} row{'s' if batch.row_count != 1 else ''} "
              f"({format_day(date_from)} to {format_day(date_to)}) as batch #{batch.id}. Download its CSV below.",
              "success")
    else:
        discard_changes()  # no empty batch in the history
        flash(f"Nothing new to export from {format_day(date_from)} to {format_day(date_to)}: "
              f"every ready line is already exported and no exported line was voided.", "info")
    return redirect(url_for("billing.exports"))


def _export_in_background(date_from, date_to):
    job = jobs.enqueue("export", {"from": date_from.isoformat(), "to": date_to.isoformat()}, current_user)
    flash(f"The export from {date_from:%Y-%m-%d} to {date_to:%Y-%m-%d} is running in the background "
          f"(job #{job.id}); its progress shows below and its batch appears in the history when done.", "info")
    if jobs.runs_in_process():
        app = current_app._get_current_object()

        @after_this_request  # runs after the request's transaction committed, so the thread sees the job
        def _start(response):
            from roster.worker import start_in_background

            start_in_background(app)
            return response

    return redirect(url_for("billing.exports"))


@bp.get("/jobs/<int:job_id>")
@requires("billing.view")
def job_status(job_id: int):
    """A background job's progress, for the Exports page to poll."""
    job = db.get_or_404(Job, job_id)
    return jsonify(id=job.id, kind=job.kind, status=job.status, progress=job.progress, message=job.message,
                   result=job.result)


@bp.get("/exports/<int:batch_id>.csv")
@requires("billing.view")
def export_csv(batch_id: int):
    return csv_response(db.get_or_404(ExportBatch, batch_id))


@bp.get("/audit")
@requires("audit.view")
def audit():
    form = AuditFilterForm(request.args, entity_types=audit_trail.entity_types(), actors=audit_trail.actors())
    trail = entries = None
    if form.validate():
        patient_id, mrn = None, (form.patient.data or "").strip()
        if mrn:
            try:
                patient_id = people.get_patient_by_mrn(mrn).id
            except ServiceError:
                form.patient.errors = [f"No patient has the MRN {mrn}."]
        if not form.patient.errors:
            tz = current_app.config["CLINIC_TIMEZONE"]
            narrow = audit_trail.TrailFilter(
                actor_id=int(form.actor.data) if form.actor.data else None, patient_id=patient_id,
                since=local_day_start(form.date_from.data, tz) if form.date_from.data else None,
                until=local_day_start(form.date_to.data + timedelta(days=1), tz) if form.date_to.data else None,
            )
            trail = audit_trail.trail(form.session_id.data, form.entity_type.data or None, _page(),
                                      current_app.config["PAGE_SIZE"], narrow)
            entries = readable(trail.entries)
    return render_template("billing/audit.html", form=form, trail=trail, entries=entries)


def local_day_start(day, tz: str):
    """Midnight of a local day in zone ``tz``, as an aware UTC moment."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


@bp.get("/sessions/<int:session_id>")
@requires("billing.view")
def session_facts(session_id: int):
    """A session's attendance and closing, read-only, for a biller whose finding points there."""
    closing = frontdesk.close_page(session_id, with_billing=False)
    return render_template("billing/session.html", page=closing.checkin, closing=closing,
                           can_fix_attendance=can("frontdesk.checkin"), can_close=can("session.close"))
