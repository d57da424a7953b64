"""The clinic's billing settings (admin): billing provider, clearinghouse, interface engine,
payer list and fee schedule. Thin handlers; the clinic service checks and audits."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from roster.billing import bp
from roster.billing.settings_forms import FeeForm, PayerForm, SettingsForm
from roster.permissions import requires
from roster.services import ServiceError, clinic


def _page(settings_form=None, payer_form=None, fee_form=None, exc: ServiceError | None = None):
    status = exc.status if exc else 200
    return render_template(
        "billing/settings.html",
        form=settings_form or SettingsForm.of(clinic.get_settings()),
        payer_form=payer_form or PayerForm(formdata=None), fee_form=fee_form or FeeForm(formdata=None),
        payers=clinic.all_payers(), fees=sorted(clinic.fee_schedule().items()),
    ), status


@bp.get("/settings")
@requires("clinic.settings")
def settings():
    return _page()


@bp.post("/settings")
@requires("clinic.settings")
def save_settings():
    form = SettingsForm()
    if not form.validate_on_submit():
        return _page(settings_form=form, exc=ServiceError("The form expired; send it again."))
    try:
        clinic.update_settings(form.to_data())
    except ServiceError as exc:
        form.show_error(exc)
        return _page(settings_form=form, exc=exc)
    flash("Billing settings saved.", "success")
    return redirect(url_for("billing.settings"))


@bp.post("/payers")
@requires("clinic.settings")
def add_payer():
    form = PayerForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError("The form expired; send it again.")
        payer = clinic.create_payer(form.to_data())
    except ServiceError as exc:
        form.show_error(exc)
        return _page(payer_form=form, exc=exc)
    flash(f"{payer.name} added to the payer list.", "success")
    return redirect(url_for("billing.settings") + "#payers")


@bp.route("/payers/<int:payer_id>", methods=["GET", "POST"])
@requires("clinic.settings")
def edit_payer(payer_id: int):
    payer = clinic.get_payer(payer_id)
    form = PayerForm(data=clinic.payer_dict(payer))
    if not form.validate_on_submit():
        return render_template("billing/payer.html", form=form, payer=payer)
    try:
        clinic.update_payer(payer, form.to_data())
    except ServiceError as exc:
        form.show_error(exc)
        return render_template("billing/payer.html", form=form, payer=payer), exc.status
    flash(f"{payer.name} saved.", "success")
    return redirect(url_for("billing.settings") + "#payers")


@bp.post("/fees")
@requires("clinic.settings")
def set_fee():
    form = FeeForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError("The form expired; send it again.")
        fee = clinic.set_fee(form.cpt.data, form.charge.data)
    except ServiceError as exc:
        form.show_error(exc)
        return _page(fee_form=form, exc=exc)
    flash(f"Fee for {fee.cpt} saved: ${fee.charge_cents / 100:,.2f} per unit.", "success")
    return redirect(url_for("billing.settings") + "#fees")


@bp.post("/fees/<cpt>/remove")
@requires("clinic.settings")
def remove_fee(cpt: str):
    clinic.remove_fee(cpt)
    flash(f"Fee for {cpt} removed.", "success")
    return redirect(url_for("billing.settings") + "#fees")
