from flask import render_template

from roster.permissions import requires
from roster.schedule import bp


@bp.route("/classes")
@requires("schedule.view")
def classes():
    return render_template("schedule/classes.html")
