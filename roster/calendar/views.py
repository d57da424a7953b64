from flask import abort

from roster.calendar import bp
from roster.permissions import public
from roster.services.accounts import user_for_calendar_secret


@bp.route("/<secret>/clinic.ics")
@public
def clinic_feed(secret: str):
    if user_for_calendar_secret(secret) is None:
        abort(404)
    abort(404)
