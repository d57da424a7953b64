from flask import Blueprint

bp = Blueprint("auth", __name__)

from roster.auth import account, staff, views  # noqa: E402,F401
