"""The clinic's billing settings (admin): billing provider, clearinghouse, interface engine,
payer list, fee schedule and unit caps. Thin handlers; the clinic and families services check
and audit."""

from __future__ import annotations

from typing import Any, Callable

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm

from roster.billing import bp
from roster.billing.settings_forms import FeeForm, PayerForm, SettingsForm, UnitCapForm
from roster.permissions import requires
from roster.services import ServiceError, clinic, families


def _page(settings_form=None, payer_form=None, fee_form=None, cap_form=None, exc: ServiceError | None = None):
    status = exc.status if exc else 200
    return render_template(
        "billing/settings.html",
        form=settings_form or SettingsForm.of(clinic.get_settings()),
        payer_form=payer_form or PayerForm(formdata=None), fee_form=fee_form or FeeForm(formdata=None),
        cap_form=cap_form or UnitCapForm(formdata=None),
        payers=clinic.all_payers(), fees=sorted(clinic.fee_schedule().items()), caps=[(c.cpt, c.max_units) for c in families.unit_caps()],
    ), status


def _submit(form: FlaskForm, form_name: str, action: Callable[[], Any], done: Callable[[Any], str], anchor: str):
    """One form of the settings page: the service call, its message, and back to the form's section;
    a refusal shows the page again with each reason on its field (nothing written)."""
    try:
        if not form.validate_on_submit():
            raise ServiceError("The form expired; send it again.")
        result = action()
    except ServiceError as exc:
        form.show_error(exc)
        return _page(exc=exc, **{form_name: form})
    flash(done(result), "success")
    return redirect(url_for("billing.settings") + anchor)


def _removed(action: Callable[[], Any], message: str, anchor: str):
    """A row's Remove button: the service call (404 when there is nothing to remove), then back."""
    action()
    flash(message, "success")
    return redirect(url_for("billing.settings") + anchor)


@bp.get("/settings")
@requires("clinic.settings")
def settings():
    return _page()


@bp.post("/settings")
@requires("clinic.settings")
def save_settings():
    form = SettingsForm()
    return _submit(form, "settings_form", lambda: clinic.update_settings(form.to_data()),
                   lambda _: "Billing settings saved.", "")


@bp.post("/payers")
@requires("clinic.settings")
def add_payer():
    form = PayerForm()
    return _submit(form, "payer_form", lambda: clinic.create_payer(form.to_data()),
                   lambda payer: f"{payer.name} added to the payer list.", "#payers")


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
    return _submit(form, "fee_form", lambda: clinic.set_fee(form.cpt.data, form.charge.data),
                   lambda fee: f"Fee for {fee.cpt} saved: ${fee.charge_cents / 100:,.2f} per unit.", "#fees")


@bp.post("/fees/<cpt>/remove")
@requires("clinic.settings")
def remove_fee(cpt: str):
    return _removed(lambda: clinic.remove_fee(cpt), f"Fee for {cpt} removed.", "#fees")


@bp.post("/unit-caps")
@requires("clinic.settings")
def set_unit_cap():
    form = UnitCapForm()
    return _submit(form, "cap_form", lambda: families.set_unit_cap(form.to_data()),
                   lambda cap: f"{cap.cpt} is capped at {cap.max_units} units per patient per day; its "
                               f"unexported lines were checked again.", "#unit-caps")


@bp.post("/unit-caps/<cpt>/remove")
@requires("clinic.settings")
def remove_unit_cap(cpt: str):
    return _removed(lambda: families.remove_unit_cap(cpt),
                    f"The cap on {cpt} is removed; its unexported lines were checked again.", "#unit-caps")
