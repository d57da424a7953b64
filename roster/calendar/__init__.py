from flask import Blueprint

bp = Blueprint("calendar", __name__)

from roster.calendar import views  # noqa: E402,F401
