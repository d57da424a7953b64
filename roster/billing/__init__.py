from flask import Blueprint

bp = Blueprint("billing", __name__)

from roster.billing import claims_views, settings_views, views  # noqa: E402,F401
