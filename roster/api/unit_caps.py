"""JSON API v1: the clinic's unit caps per code per patient per date of service (R21)."""

from __future__ import annotations

from flask import jsonify

from roster.api import bp
from roster.api.views import body, created
from roster.permissions import requires
from roster.services import families


@bp.get("/billing/unit-caps")
@requires("billing.view")
def list_unit_caps():
    return jsonify({"unit_caps": [families.cap_dict(c) for c in families.unit_caps()]})


@bp.post("/billing/unit-caps")
@requires("clinic.settings")
def set_unit_cap():
    return created(families.cap_dict(families.set_unit_cap(body())), 200)


@bp.delete("/billing/unit-caps/<cpt>")
@requires("clinic.settings")
def remove_unit_cap(cpt: str):
    families.remove_unit_cap(cpt)
    return "", 204
