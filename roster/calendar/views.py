"""iCalendar feeds, reached without signing in through a staff member's secret link."""

from flask import Response, abort, current_app

from roster.calendar import bp
from roster.models import utcnow
from roster.permissions import public
from roster.services import calendar
from roster.services.accounts import user_for_calendar_secret


def ics_response(body: bytes, filename: str | None = None) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else {}
    return Response(body, content_type="text/calendar; charset=utf-8", headers=headers)


def _require_secret(secret: str) -> None:
    """A secret that is unknown, reset or belongs to a disabled account finds nothing."""
    if user_for_calendar_secret(secret) is None:
        abort(404)


@bp.route("/<secret>/clinic.ics")
@public
def clinic_feed(secret: str):
    _require_secret(secret)
    return ics_response(calendar.clinic_calendar(current_app.config["CLINIC_NAME"], utcnow()))


@bp.route("/<secret>/classes/<int:class_id>.ics")
@public
def class_feed(secret: str, class_id: int):
    _require_secret(secret)
    return ics_response(calendar.class_calendar(class_id, utcnow()))


@bp.route("/<secret>/facilitators/<int:facilitator_id>.ics")
@public
def facilitator_feed(secret: str, facilitator_id: int):
    _require_secret(secret)
    return ics_response(calendar.facilitator_calendar(facilitator_id, utcnow()))


@bp.route("/<secret>/rooms/<path:room>.ics")
@public
def room_feed(secret: str, room: str):
    _require_secret(secret)
    return ics_response(calendar.room_calendar(room, utcnow()))
