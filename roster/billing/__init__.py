from flask import Blueprint

bp = Blueprint("billing", __name__)

from roster.billing import views  # noqa: E402,F401
