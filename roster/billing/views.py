from flask import render_template

from roster.billing import bp
from roster.permissions import requires


@bp.route("/review")
@requires("billing.view")
def review():
    return render_template("billing/review.html")


@bp.route("/exports")
@requires("billing.view")
def exports():
    return render_template("billing/exports.html")


@bp.route("/audit")
@requires("audit.view")
def audit():
    return render_template("billing/audit.html")
