"""Front desk: today's sessions, check-in, patient present, closing, sign-in sheet, end of day."""

from __future__ import annotations

from datetime import date, timedelta
from functools import wraps
from typing import NamedTuple

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from roster.auth.sessions import read_with_user, taken
from roster.domain.recurrence import utc_to_local
from roster.extensions import db
from roster.forms import show_service_error
from roster.frontdesk import bp
from roster.frontdesk.forms import CloseForm, PairForm, PresentForm, ReopenForm
from roster.models import Caregiver, Patient
from roster.permissions import can, requires
from roster.services import ServiceError, attendance, clock, frontdesk
from roster.services.attendance import CheckInResult
from roster.templating import AddressById, cached_macro, format_clock
from roster.transactions import discard_changes


def _clinic_today() -> date:
    return clock.today_in(current_app.config["CLINIC_TIMEZONE"])


def _me():
    return current_user._get_current_object()


def _back_to_session(session_id: int, anchor: str | None = None, **args):
    return redirect(url_for("frontdesk.session", session_id=session_id, _anchor=anchor, **args))


def desk_action(form_class, refusal: str):
    """A desk button on a session's check-in page: the view is called with the session and the posted form;
    a form that does not validate flashes ``refusal`` and goes back to the page (nothing written)."""

    def decorate(view):
        @wraps(view)
        def run(session_id: int):
            session = frontdesk.load_session(session_id)
            form = form_class()
            if not form.validate():
                flash(refusal, "error")
                return _back_to_session(session_id)
            return view(session, form)

        return run

    return decorate


# --------------------------------------------------------------------------- today

class _DayLinks(NamedTuple):
    session: AddressById
    sheet: AddressById
    close: AddressById


# each session of the day's list, rendered once per distinct row (its counts change with every check-in)
_day_cards = cached_macro("frontdesk/_day_card.html", "day_card")


@bp.get("/today")
@requires("frontdesk.checkin")
@read_with_user(frontdesk.with_user.today)
def today():
    errors: dict[str, str] = {}
    day = frontdesk.with_user.asked_day(request, errors)
    if errors:
        flash(f"{errors['date']} Showing today instead.", "error")
    clinic_today = _clinic_today()
    # A facilitator whose account is linked to their Facilitator record sees their own sessions first
    mine = current_user.facilitator_id if current_user.role == "facilitator" else None
    show_all = mine is None or request.args.get("show") == "all"
    rows = frontdesk.day_sessions(day, current_app.config["CLINIC_TIMEZONE"], None if show_all else mine,
                                  frontdesk.with_user.day_of(taken(), day))
    links = _DayLinks(*map(AddressById.of, ("frontdesk.session", "frontdesk.sign_in_sheet", "frontdesk.close_session")))
    return render_template("frontdesk/today.html", rows=rows, links=links, day_cards=_day_cards, day=day,
                           clinic_today=clinic_today,
                           previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           mine=mine, show_all=show_all, show_arg="all" if mine is not None and show_all else None
                           ), 400 if errors else 200


# --------------------------------------------------------------------------- one session


# each caregiver the walk-in search shows, rendered once per distinct hit, session and its being open (a desk
# types the same names again; a count or a check-in changes the hit)
bp.add_app_template_global(cached_macro("frontdesk/_search_hit.html", "search_hit"), "walk_in_hits")


@bp.get("/sessions/<int:session_id>", endpoint="session")
@requires("frontdesk.checkin")
def session_page(session_id: int):
    page = frontdesk.checkin_page(session_id)
    query = request.args.get("q", "").strip()
    hits = frontdesk.walk_in_search(page.session, query) if query else None
    focus = page.focus_id(request.args.get("focus"), request.args.get("after"))
    return render_template("frontdesk/session.html", page=page, query=query, hits=hits, focus=focus)


@bp.get("/sessions/<int:session_id>/search")
@requires("frontdesk.checkin")
@read_with_user(frontdesk.with_user.fragment)
def search(session_id: int):
    """The walk-in results as an HTML fragment, for frontdesk.js to show as the desk types."""
    query = request.args.get("q", "").strip()
    session, hits = frontdesk.walk_in_fragment(session_id, query, taken())
    return render_template("frontdesk/_search_results.html", session=session, query=query, hits=hits)


def _checkin_message(result: CheckInResult, tz: str) -> str:
    c = result.checkin
    who = f"{result.caregiver.full_name} for {result.patient.full_name}"
    at = format_clock(c.checked_in_at, tz)
    if not result.created:
        return f"{who}: already checked in at {at}."
    return f"{who}: checked in at {at}" + (" (walk-in, not enrolled in this class)." if c.walk_in else ".")


@bp.post("/sessions/<int:session_id>/checkins")
@requires("frontdesk.checkin")
@desk_action(PairForm, "Choose a caregiver and the patient they came for.")
def check_in(session, form: PairForm):
    try:
        result = attendance.check_in_for(session, form.caregiver_id.data, form.patient_id.data, _me())
    except ServiceError as exc:
        discard_changes()
        flash(exc.message, "error")
        return _back_to_session(session.id)
    flash(_checkin_message(result, session.group_class.timezone), "success" if result.created else "info")
    key = f"{form.caregiver_id.data}-{form.patient_id.data}"
    return _back_to_session(session.id, f"cg-{key}", after=key)


@bp.post("/sessions/<int:session_id>/checkins/undo")
@requires("frontdesk.checkin")
@desk_action(PairForm, "Choose the check-in to undo.")
def undo_check_in(session, form: PairForm):
    caregiver = db.get_or_404(Caregiver, form.caregiver_id.data)
    key = f"{caregiver.id}-{form.patient_id.data}"
    try:
        attendance.undo_check_in(session, caregiver.id, form.patient_id.data)
    except ServiceError:
        discard_changes()
        flash(f"{caregiver.full_name} is not checked in: nothing to undo.", "info")
    else:
        flash(f"Check-in of {caregiver.full_name} undone.", "success")
    return _back_to_session(session.id, f"cg-{key}", focus=f"checkin-{key}")


@bp.post("/sessions/<int:session_id>/present")
@requires("frontdesk.checkin")
@desk_action(PresentForm, "Choose the patient to mark.")
def mark_present(session, form: PresentForm):
    patient = db.get_or_404(Patient, form.patient_id.data)
    present = form.present.data == "yes"
    try:
        attendance.set_present(session, patient, present, _me())
    except ServiceError as exc:
        discard_changes()
        flash(exc.message, "error")
    else:
        flash(
            f"{patient.full_name} is marked present: their caregivers' training today will not be billed for them."
            if present else f"{patient.full_name} is no longer marked present.",
            "warning" if present else "success",
        )
    return _back_to_session(session.id, f"set-{patient.id}", focus=f"present-{patient.id}")


@bp.get("/sessions/<int:session_id>/sheet")
@requires("frontdesk.checkin")
def sign_in_sheet(session_id: int):
    return render_template("frontdesk/sheet.html", page=frontdesk.checkin_page(session_id), blank_rows=6)


# --------------------------------------------------------------------------- closing


def _close_form(page: frontdesk.ClosePage) -> CloseForm:
    form = CloseForm(data={
        "facilitator_id": page.default_facilitator_id,
        "started_at": page.default_start,
        "ended_at": page.default_end,
        "patients_present": page.present_mrns,
    })
    form.facilitator_id.choices = [("", "Not recorded (billing is held until it is)")] + [
        (f.id, f"{f.name} ({f.discipline})") for f in page.facilitators
    ]
    form.patients_present.choices = [(p.mrn, f"{p.full_name} (MRN {p.mrn})") for p in page.patients]
    return form


def _render_close(page, form, reopen_form, status: int = 200):
    return render_template("frontdesk/close.html", page=page, form=form, reopen_form=reopen_form), status


@bp.route("/sessions/<int:session_id>/close", methods=["GET", "POST"])
@requires("session.close")
def close_session(session_id: int):
    page = frontdesk.close_page(session_id, with_billing=can("billing.view"))
    form = _close_form(page)
    if not form.validate_on_submit():
        return _render_close(page, form, ReopenForm(formdata=None), 422 if form.is_submitted() else 200)
    session = page.session
    try:
        attendance.close_session(
            session,
            facilitator_id=form.facilitator_id.data,
            started_at=frontdesk.local_moment(session, form.started_at.data),
            ended_at=frontdesk.local_moment(session, form.ended_at.data),
            patients_present=form.patients_present.data,
            user=_me(),
        )
    except ServiceError as exc:  # validated before anything was written
        show_service_error(form, exc)
        return _render_close(page, form, ReopenForm(formdata=None), 422)
    flash("Session closed.", "success")
    return redirect(url_for("frontdesk.close_session", session_id=session_id))


@bp.post("/sessions/<int:session_id>/reopen")
@requires("session.close")
def reopen_session(session_id: int):
    page = frontdesk.close_page(session_id, with_billing=can("billing.view"))
    form = ReopenForm()
    if form.validate():
        try:
            attendance.reopen_session(page.session, form.reason.data, _me())
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash("Session re-opened. Fix the attendance, then close it again.", "success")
            return _back_to_session(session_id)
    return _render_close(page, _close_form(page), form, 422)


# --------------------------------------------------------------------------- end of day


@bp.get("/open-sessions")
@requires("session.close")
def end_of_day():
    rows, more = frontdesk.open_sessions(clock.now())
    return render_template("frontdesk/end_of_day.html", rows=rows, more=more)
