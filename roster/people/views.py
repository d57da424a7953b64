"""People pages: patients, caregivers, facilitators, and the CSV import.

Thin handlers: the forms carry text, the people services validate (the same
rules as the API), write and audit; each request commits once.
"""

from __future__ import annotations

from functools import wraps

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for

from roster.extensions import db
from roster.models import Facilitator, Patient
from roster.people import bp
from roster.people.forms import (
    RELATIONSHIPS,
    CaregiverForm,
    EditFacilitatorForm,
    FacilitatorForm,
    ImportForm,
    PatientForm,
)
from roster.permissions import can, requires
from roster.services import ServiceError, clinic, imports, people, search
from roster.templating import format_day


def _form_page(template: str, exc: ServiceError | None = None, **context):
    """A form page: 200 when first shown; 409 or 422 when sent back with problems."""
    status = exc.status if exc else (422 if context["form"].errors else 200)
    return render_template(template, **context), status


def _save(form, record, create, update):
    """Create a record from the form (``record`` None) or update it: (the record, None), or
    (None, the refusal) with its reasons placed on the form."""
    try:
        if record is None:
            return create(form.to_data()), None
        update(record, form.to_data())
        return record, None
    except ServiceError as exc:
        form.show_error(exc)
        return None, exc


def _record_form(template: str, form, record, create, update, done, **context):
    """The new/edit flow of a patient or facilitator: the form page until it validates and the people
    service saves it (the API's rules), then ``done(saved record)`` flashes and redirects."""
    context |= {"form": form}
    if not form.validate_on_submit():
        return _form_page(template, **context)
    saved, exc = _save(form, record, create, update)
    if exc:
        return _form_page(template, exc, **context)
    return done(saved)


def _search_list(template: str, name: str, find):
    """A list searched by ``q`` and numbered by ``page``: ``find(q, page, per page)`` loads the page,
    whose records the template gets as ``name``."""
    q = request.args.get("q", "").strip()
    result = find(q, request.args.get("page", type=int), current_app.config["PAGE_SIZE"])
    return render_template(template, **{name: result.items}, q=q, page=result.page, pages=result.pages,
                           more=result.more)


def record_form_routes(noun: str, model):
    """Route a record form under ``people.edit`` at two endpoints: ``people.new_<noun>``
    (``/<noun>s/new``) and ``people.edit_<noun>`` (``/<noun>s/<id>/edit``, 404 for an unknown id). The
    view is given the record, None for a new one."""

    def register(view):
        @requires("people.edit")
        @wraps(view)
        def page(**ids):
            return view(db.get_or_404(model, *ids.values()) if ids else None)

        bp.route(f"/{noun}s/new", methods=["GET", "POST"], endpoint=f"new_{noun}")(page)
        bp.route(f"/{noun}s/<int:{noun}_id>/edit", methods=["GET", "POST"], endpoint=f"edit_{noun}")(page)
        return page

    return register


# --------------------------------------------------------------------------- patients


@bp.route("/patients")
@requires("people.view")
def patients():
    return _search_list("people/patients.html", "patients", search.patient_page)


@bp.route("/patients/<int:patient_id>")
@requires("people.view")
def patient(patient_id: int):
    overview = people.patient_overview(
        patient_id, with_billing=can("billing.view"), attendance_page=request.args.get("attendance_page", type=int),
        lines_page=request.args.get("lines_page", type=int), per_page=current_app.config["PAGE_SIZE"])
    return render_template("people/patient.html", o=overview, p=overview.patient)


@record_form_routes("patient", Patient)
def patient_form(record: Patient | None):
    """A new patient, or a patient's record edited."""

    def done(saved: Patient):
        flash(f"{saved.full_name} ({saved.mrn}) saved.", "success")
        return redirect(url_for("people.patient", patient_id=saved.id))

    return _record_form("people/patient_form.html", PatientForm.of(record) if record else PatientForm(), record,
                        people.create_patient, people.update_patient, done, patient=record,
                        payers=clinic.all_payers())


# --------------------------------------------------------------------------- caregivers


@bp.route("/caregivers")
@requires("people.view")
def caregivers():
    return _search_list("people/caregivers.html", "caregivers", search.caregiver_page)


@bp.route("/caregivers/new", methods=["GET", "POST"])
@requires("people.edit")
def new_caregiver():
    form = CaregiverForm()
    if request.method == "GET" and request.args.get("mrn"):
        form.links.entries[0].form.patient_mrn.data = request.args["mrn"]
    return _caregiver_form(form, None)


@bp.get("/patients/lookup")
@requires("people.edit")  # for the caregiver form (which needs it); front desk sees fewer patient fields
def patient_lookup():
    """Patients matching what is typed (name or MRN), as JSON, for picking one in a form."""
    query = request.args.get("q", "").strip()
    found = search.patient_page(query, 1, 10).items if len(query) >= 2 else []
    return jsonify([{"mrn": p.mrn, "name": f"{p.last_name}, {p.first_name}",
                     "dob": format_day(p.dob) if p.dob else ""} for p in found])


@bp.route("/caregivers/<int:caregiver_id>/edit", methods=["GET", "POST"])
@requires("people.edit")
def edit_caregiver(caregiver_id: int):
    caregiver = people.get_caregiver(caregiver_id)
    form = CaregiverForm.of(caregiver)
    add = request.args.get("add_mrn", "").strip() if request.method == "GET" else ""
    if add and add not in {link.patient.mrn for link in caregiver.links}:  # "use the existing one"
        form.links.entries[-1].form.patient_mrn.data = add
        form.links.entries[-1].form.relationship.data = request.args.get("relationship", "")
    return _caregiver_form(form, caregiver)


def _caregiver_form(form: CaregiverForm, caregiver):
    template = "people/caregiver_form.html"
    context = {"form": form, "caregiver": caregiver, "relationships": RELATIONSHIPS}
    if not form.validate_on_submit():
        form.leave_a_blank_link()
        return _form_page(template, **context)
    if form.add_link.data:
        form.links.append_entry()
        return _form_page(template, **context)
    if caregiver is None and not form.confirm_new.data:
        twins = people.likely_duplicates(form.first_name.data, form.last_name.data, form.phone.data)
        if twins:  # probably someone we know: offer them before making a second record
            form.leave_a_blank_link()
            return _form_page(template, **context, twins=twins, first_mrn=form.first_mrn())
    saved, exc = _save(form, caregiver, people.create_caregiver, people.update_caregiver)
    if exc:
        form.leave_a_blank_link()
        return _form_page(template, exc, **context)
    caregiver = saved
    flash(f"{caregiver.full_name} saved.", "success")
    return redirect(url_for("people.caregivers", q=caregiver.full_name))


# --------------------------------------------------------------------------- facilitators


@bp.route("/facilitators")
@requires("people.view")
def facilitators():
    rows = [(f, people.npi_warning(f.npi)) for f in people.all_facilitators()]
    return render_template("people/facilitators.html", facilitators=rows)


@record_form_routes("facilitator", Facilitator)
def facilitator_form(record: Facilitator | None):
    """A new facilitator, or one edited; an NPI that fails its check digit is saved with a warning."""

    def done(saved: Facilitator):
        flash(f"{saved.name} saved.", "success")
        if warning := people.npi_warning(saved.npi):
            flash(warning, "warning")
        return redirect(url_for("people.facilitators"))

    return _record_form("people/facilitator_form.html",
                        EditFacilitatorForm.of(record) if record else FacilitatorForm(), record,
                        people.create_facilitator, people.update_facilitator, done, facilitator=record)


# --------------------------------------------------------------------------- CSV import


@bp.route("/import", methods=["GET", "POST"])
@requires("people.import")
def import_csv():
    form = ImportForm()
    preview = None
    if form.validate_on_submit():
        try:
            if form.confirm.data:
                done = imports.run_import(form.kind.data, form.content.data or "")
                flash(_imported(done), "success")
                return redirect(url_for(f"people.{done.kind}"))
            upload = form.file.data.read(imports.MAX_BYTES + 1) if form.file.data else b""
            preview = imports.preview(form.kind.data, upload)
        except imports.ImportRejected as exc:
            preview = exc.preview
        except ServiceError as exc:
            form.show_error(exc)
    status = 422 if form.errors or (preview and preview.problems) else 200
    return render_template(
        "people/import.html", form=form, preview=preview, columns=imports.COLUMNS,
        required=imports.REQUIRED_COLUMNS, max_rows=imports.MAX_ROWS,
    ), status


def _imported(done: imports.ImportPreview) -> str:
    if done.kind == "patients":
        return f"Imported {_count(len(done.records), 'patient')}."
    links = sum(len(r["links"]) for r in done.records)
    return (f"Imported {_count(len(done.records), 'caregiver')} with {_count(links, 'patient link')}, "
            f"from {_count(done.rows, 'row')}.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@bp.route("/import/<kind>-template.csv")
@requires("people.import")
def import_template(kind: str):
    if kind not in imports.KINDS:
        abort(404)
    return Response(
        imports.template_csv(kind), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="roster-{kind}-template.csv"'},
    )
