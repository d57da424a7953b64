from flask import render_template

from roster.frontdesk import bp
from roster.permissions import requires


@bp.route("/today")
@requires("frontdesk.checkin")
def today():
    return render_template("frontdesk/today.html")


@bp.route("/open-sessions")
@requires("session.close")
def end_of_day():
    return render_template("frontdesk/end_of_day.html")
