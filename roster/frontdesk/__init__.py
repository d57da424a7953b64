from flask import Blueprint

bp = Blueprint("frontdesk", __name__)

from roster.frontdesk import views  # noqa: E402,F401
