from flask import render_template

from roster.people import bp
from roster.permissions import requires


@bp.route("/patients")
@requires("people.view")
def patients():
    return render_template("people/patients.html")


@bp.route("/caregivers")
@requires("people.view")
def caregivers():
    return render_template("people/caregivers.html")


@bp.route("/facilitators")
@requires("people.view")
def facilitators():
    return render_template("people/facilitators.html")
