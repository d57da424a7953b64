"""Classes, their sessions and their caregiver sets: what a coordinator schedules and enrols."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from roster.calendar.views import ics_response
from roster.domain.recurrence import utc_to_local
from roster.domain.statuses import EnrollmentStatus
from roster.extensions import db
from roster.forms import optional_id
from roster.models import ClassSession, Enrollment, GroupClass, Patient, utcnow
from roster.permissions import can, requires
from roster.schedule import bp
from roster.schedule.forms import (
    PLACE_OF_SERVICE_CHOICES,
    CancelSessionForm,
    ClassDetailsForm,
    ClassForm,
    EditSessionForm,
    EnrolForm,
    SessionTimeForm,
    caregiver_choices,
    facilitator_choices,
    show_service_error,
    timezone_choices,
    with_choice,
)
from roster.services import ServiceError, calendar, people, scheduling, search
from roster.services.validation import valid_timezone
from roster.templating import format_clock, format_day

PATIENT_MATCHES = 10
CLASSES_PER_PAGE = 50
CHECKIN_ENDPOINT = "frontdesk.session"


def form_page(template: str, form, **context):
    """A page with a form; 422 when it shows the form's errors again."""
    return render_template(template, form=form, **context), 422 if form.errors else 200


@bp.route("/classes")
@requires("schedule.view")
def classes():
    archived = request.args.get("archived") == "1"
    listing = scheduling.class_summaries(utcnow(), request.args.get("page", 1, type=int), CLASSES_PER_PAGE,
                                         archived=archived)
    return render_template("schedule/classes.html", summaries=listing.summaries, listing=listing, archived=archived)


@bp.route("/classes/<int:class_id>/delete", methods=["POST"])
@requires("schedule.edit")
def delete_class(class_id: int):
    """Delete a class made by mistake (no attendance); one with attendance is archived instead."""
    group_class = db.get_or_404(GroupClass, class_id)
    title = group_class.title
    try:
        scheduling.delete_class(group_class)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("schedule.class_detail", class_id=class_id))
    flash(f"“{title}” is deleted, with its sessions and enrolments.", "success")
    return redirect(url_for("schedule.classes"))


@bp.route("/classes/<int:class_id>/archive", methods=["POST"])
@requires("schedule.edit")
def archive_class(class_id: int):
    group_class = db.get_or_404(GroupClass, class_id)
    cancelled = scheduling.archive_class(group_class, utcnow())
    flash(f"“{group_class.title}” is archived: it keeps its attendance and billing and leaves the class list"
          + (f"; {cancelled} session{'s' if cancelled != 1 else ''} still to come cancelled." if cancelled else "."),
          "success")
    return redirect(url_for("schedule.class_detail", class_id=class_id))


@bp.route("/classes/new", methods=["GET", "POST"])
@requires("schedule.edit")
def new_class():
    clinic_zone = current_app.config["CLINIC_TIMEZONE"]
    form = ClassForm(timezone=clinic_zone)
    form.timezone.choices = timezone_choices(clinic_zone)
    form.facilitator_id.choices = facilitator_choices(people.all_facilitators(active_only=True), "Not chosen yet")
    if form.validate_on_submit() and not _refuse_past_unconfirmed(form, form.timezone.data):
        try:
            new = scheduling.create_class(form.service_data())
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(f"“{new.group_class.title}” is scheduled with {len(new.session_ids)} sessions.",
                  "success")
            return redirect(url_for("schedule.class_detail", class_id=new.group_class.id))
    return form_page("schedule/new_class.html", form)


def _class_defaults(group_class: GroupClass) -> dict:
    return {
        "title": group_class.title,
        "needs": ", ".join(group_class.needs or []),
        "room": group_class.room,
        "capacity": group_class.capacity,
        "facilitator_id": str(group_class.facilitator_id or ""),
        "timezone": group_class.timezone,
        "modality": group_class.modality,
        "place_of_service": group_class.place_of_service,
        "training": group_class.training,
    }


@bp.route("/classes/<int:class_id>/edit", methods=["GET", "POST"])
@requires("schedule.edit")
def edit_class(class_id: int):
    group_class = db.get_or_404(GroupClass, class_id)
    form = ClassDetailsForm(**_class_defaults(group_class))
    form.timezone.choices = with_choice(timezone_choices(current_app.config["CLINIC_TIMEZONE"]),
                                        group_class.timezone)
    form.place_of_service.choices = with_choice(PLACE_OF_SERVICE_CHOICES, group_class.place_of_service)
    form.facilitator_id.choices = facilitator_choices(
        [f for f in people.all_facilitators() if f.active or f.id == group_class.facilitator_id], "Not chosen yet")
    if form.validate_on_submit():
        try:
            scheduling.update_class(group_class, form.service_data())
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(f"“{group_class.title}” is saved.", "success")
            for moved in group_class.promoted:
                flash(f"{moved.patient.full_name}'s caregivers moved from the waitlist into the class "
                      "(seats were added).", "success")
            if group_class.promoted:
                return redirect(url_for("schedule.class_detail", class_id=class_id, at="sets", _anchor="sets"))
            return redirect(url_for("schedule.class_detail", class_id=class_id))
    return form_page("schedule/edit_class.html", form, group_class=group_class)


# --------------------------------------------------------------------------- the class page


@bp.route("/classes/<int:class_id>")
@requires("schedule.view")
def class_detail(class_id: int):
    return render_class_page(
        class_id, patient_id=request.args.get("patient_id", type=int), query=request.args.get("q", "").strip()
    )


def render_class_page(class_id: int, *, patient_id: int | None = None, query: str = "",
                      enrol_form: EnrolForm | None = None, session_form: SessionTimeForm | None = None,
                      status: int = 200):
    """The class page; the enrolment steps follow ``query`` (find a patient) and ``patient_id`` (chosen)."""
    page = scheduling.class_page(class_id)
    matches = []
    if patient_id is None and query:
        matches = search.patient_page(query, 1, PATIENT_MATCHES).items
        if len(matches) == 1:
            patient_id = matches[0].id
    candidate = scheduling.patient_for_enrolment(patient_id) if patient_id else None
    if candidate is not None and enrol_form is None:
        enrol_form = EnrolForm(formdata=None, patient_id=candidate.id,
                               caregiver_ids=[link.caregiver_id for link in candidate.links])
        enrol_form.caregiver_ids.choices = caregiver_choices(candidate)
    return render_template(
        "schedule/class.html", page=page, group_class=page.group_class, query=query, matches=matches,
        deletable=can("schedule.edit") and not scheduling.has_attendance(page.group_class),
        candidate=candidate, enrol_form=enrol_form,
        session_form=session_form or SessionTimeForm(formdata=None, prefix="add",
                                                     **_next_session_defaults(page.group_class)),
        checkin_endpoint=CHECKIN_ENDPOINT if CHECKIN_ENDPOINT in current_app.view_functions else None,
    ), status


def _refuse_past_unconfirmed(form, tz: str) -> bool:
    """Sessions that would start in the past need a tick first (usually a wrong date). True: refused."""
    if form.confirm_past.data or not valid_timezone(tz):
        return False
    if form.local_start() >= utc_to_local(utcnow(), tz).replace(tzinfo=None):
        return False
    form.confirm_past.errors = [
        f"{format_day(form.local_start())} at {format_clock(form.local_start().time())} is in the past. "
        "Check the date, or tick this box to create it anyway."]
    return True


def _next_session_defaults(group_class: GroupClass) -> dict:
    """A new session starts, by default, at the time and with the length of the class's last one."""
    if not group_class.sessions:
        return {"duration_minutes": 60}
    last = group_class.sessions[-1]
    return {
        "start_time": utc_to_local(last.starts_at, group_class.timezone).time(),
        "duration_minutes": int((last.ends_at - last.starts_at).total_seconds() // 60),
    }


@bp.route("/classes/<int:class_id>/sessions", methods=["POST"])
@requires("schedule.edit")
def add_session(class_id: int):
    form = SessionTimeForm(prefix="add")
    group_class = db.get_or_404(GroupClass, class_id)
    if form.validate_on_submit() and not _refuse_past_unconfirmed(form, group_class.timezone):
        try:
            session = scheduling.add_session(db.get_or_404(GroupClass, class_id), form.local_start(),
                                             form.duration_minutes.data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(f"Session added on {format_day(form.date.data)} at {format_clock(form.start_time.data)}.", "success")
            return redirect(url_for("schedule.class_detail", class_id=class_id, _anchor=f"session-{session.id}"))
    return render_class_page(class_id, session_form=form, status=422)


@bp.route("/classes/<int:class_id>/enrollments", methods=["POST"])
@requires("enrollment.edit")
def enroll(class_id: int):
    form = EnrolForm()
    patient = scheduling.patient_for_enrolment(form.patient_id.data or 0)
    form.caregiver_ids.choices = caregiver_choices(patient)
    if form.validate_on_submit():
        try:
            result = scheduling.enroll(class_id, patient, form.caregiver_ids.data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash_enrolment(patient, result)
            return _to_sets(class_id)
    return render_class_page(class_id, patient_id=patient.id, enrol_form=form, status=422)


def flash_enrolment(patient: Patient, result: scheduling.EnrollResult) -> None:
    names = " and ".join(m.caregiver.full_name for m in result.enrollment.members)
    if result.status == EnrollmentStatus.ENROLLED:
        flash(f"{names} enrolled for {patient.full_name}.", "success")
    else:
        flash(f"Not enough seats left: {names} ({patient.full_name}) waitlisted "
              f"(position {result.enrollment.position}).", "warning")
    for warning in result.warnings:
        flash(warning, "warning")


@bp.route("/enrollments/<int:enrollment_id>/withdraw", methods=["POST"])
@requires("enrollment.edit")
def withdraw(enrollment_id: int):
    enrollment = db.get_or_404(Enrollment, enrollment_id)
    promoted = scheduling.withdraw(enrollment, utcnow())
    flash(f"{enrollment.patient.full_name}'s caregivers are withdrawn from the class.", "success")
    for moved in promoted:
        flash(f"{moved.patient.full_name}'s caregivers moved from the waitlist into the class.", "success")
    return _to_sets(enrollment.class_id)


@bp.route("/enrollments/<int:enrollment_id>/move-in", methods=["POST"])
@requires("enrollment.edit")
def move_into_class(enrollment_id: int):
    """Move a waiting set into the class by hand (when its seats are free)."""
    enrollment = db.get_or_404(Enrollment, enrollment_id)
    try:
        scheduling.move_into_class(enrollment)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(f"{enrollment.patient.full_name}'s caregivers moved from the waitlist into the class.", "success")
    return _to_sets(enrollment.class_id)


def _to_sets(class_id: int):
    """Back to the class's caregiver sets, where the messages are shown (not at the top of the page)."""
    return redirect(url_for("schedule.class_detail", class_id=class_id, at="sets", _anchor="sets"))


# --------------------------------------------------------------------------- one session


def _session_defaults(session: ClassSession) -> dict:
    tz = session.group_class.timezone
    local = utc_to_local(session.starts_at, tz)
    return {
        "date": local.date(),
        "start_time": local.time(),
        "duration_minutes": int((session.ends_at - session.starts_at).total_seconds() // 60),
        "room": session.effective_room,
        "facilitator_id": str(session.facilitator_id or ""),  # blank: the class's, followed if it changes
    }


def _class_facilitator_choice(group_class: GroupClass) -> str:
    """The blank facilitator of a session means the class's, which may be none."""
    planned = group_class.facilitator
    return f"The class's facilitator ({planned.name})" if planned else "None: the class has no planned facilitator"


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@requires("schedule.edit")
def edit_session(session_id: int):
    session = db.get_or_404(ClassSession, session_id)
    form = EditSessionForm(**_session_defaults(session))
    form.facilitator_id.choices = facilitator_choices(people.all_facilitators(),
                                                      _class_facilitator_choice(session.group_class))
    if form.validate_on_submit():
        try:
            changed = scheduling.edit_session(
                session, local_start=form.local_start(), duration_minutes=form.duration_minutes.data,
                room=(form.room.data or "").strip() or None, facilitator_id=optional_id(form.facilitator_id.data),
                scope=form.scope.data,
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash("Session changed." if len(changed) == 1 else f"{len(changed)} sessions changed.", "success")
            return redirect(url_for("schedule.class_detail", class_id=session.class_id))
    return form_page("schedule/edit_session.html", form, session=session, group_class=session.group_class)


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@requires("schedule.edit")
def cancel_session(session_id: int):
    session = db.get_or_404(ClassSession, session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            scheduling.cancel_session(session, form.reason.data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            tz = session.group_class.timezone
            flash(f"The session of {format_day(session.starts_at, tz)} at {format_clock(session.starts_at, tz)} is cancelled. "
                  "Calendar feeds show it as cancelled.", "success")
            return redirect(url_for("schedule.class_detail", class_id=session.class_id))
    return form_page("schedule/cancel_session.html", form, session=session, group_class=session.group_class)


@bp.route("/sessions/<int:session_id>.ics")
@requires("schedule.view")
def session_ics(session_id: int):
    return ics_response(calendar.session_calendar(session_id, utcnow()), filename=f"session-{session_id}.ics")
