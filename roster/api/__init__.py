"""JSON API v1 (see docs/api.md and /api/v1/openapi.json)."""

from flask import Blueprint, abort, g, jsonify, request

from roster.permissions import public

bp = Blueprint("api", __name__)


@bp.before_request
def authenticate_token():
    """Every API call carries `Authorization: Bearer <token>`; cookies are not used here."""
    from roster.services import clock
    from roster.services.accounts import user_for_token

    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        abort(401)
    user = user_for_token(raw.strip(), now=clock.now())
    if user is None:
        abort(401)
    g.api_user = user


@bp.get("/openapi.json")
@public
def openapi():
    """The API's description; it holds no data, so no token is needed."""
    from roster.api.openapi import spec

    return jsonify(spec())


from roster.api import claims, clinic, unit_caps, views  # noqa: E402,F401
