from flask import Blueprint

bp = Blueprint("people", __name__)

from roster.people import views  # noqa: E402,F401
