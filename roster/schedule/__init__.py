from flask import Blueprint

bp = Blueprint("schedule", __name__)

from roster.schedule import views  # noqa: E402,F401
