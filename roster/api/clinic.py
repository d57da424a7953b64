"""JSON API v1: the clinic's billing settings, payer list and fee schedule (admin)."""

from __future__ import annotations

from flask import jsonify

from roster.api import bp
from roster.api.views import body, created
from roster.permissions import requires
from roster.services import clinic


@bp.get("/billing/settings")
@requires("clinic.settings")
def get_billing_settings():
    return jsonify(clinic.settings_dict(clinic.get_settings()))


@bp.patch("/billing/settings")
@requires("clinic.settings")
def update_billing_settings():
    return created(clinic.settings_dict(clinic.update_settings(body())), 200)


@bp.get("/billing/payers")
@requires("billing.view")
def list_payers():
    return jsonify({"payers": [clinic.payer_dict(p) for p in clinic.all_payers()]})


@bp.post("/billing/payers")
@requires("clinic.settings")
def create_payer():
    return created(clinic.payer_dict(clinic.create_payer(body())))


@bp.patch("/billing/payers/<int:payer_id>")
@requires("clinic.settings")
def update_payer(payer_id: int):
    return created(clinic.payer_dict(clinic.update_payer(clinic.get_payer(payer_id), body())), 200)


@bp.get("/billing/fees")
@requires("billing.view")
def list_fees():
    return jsonify({"fees": [{"cpt": cpt, "charge": f"{cents / 100:.2f}"}
                             for cpt, cents in sorted(clinic.fee_schedule().items())]})


@bp.post("/billing/fees")
@requires("clinic.settings")
def set_fee():
    data = body()
    fee = clinic.set_fee(data.get("cpt"), data.get("charge"))
    return created({"cpt": fee.cpt, "charge": f"{fee.charge_cents / 100:.2f}"}, 200)
