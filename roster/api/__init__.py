"""JSON API v1 (see docs/api.md and /api/v1/openapi.json)."""

from flask import Blueprint, abort, current_app, g, jsonify, request

from roster.permissions import public

bp = Blueprint("api", __name__)


@bp.before_request
def authenticate_token():
    """Every API call carries `Authorization: Bearer <token>`; cookies are not used here."""
    from roster.services import clock
    from roster.services.tokens import TOKEN_AND_USER
    from roster.services.tokens import read_with_token as user_and_rows  # (not this module's decorator)

    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        abort(401)
    reader = getattr(current_app.view_functions.get(request.endpoint), "_roster_read_with_token", None)
    statement, params = reader(request) if reader is not None else (TOKEN_AND_USER, None)
    user, rows = user_and_rows(raw.strip(), clock.now(), statement, params)
    if user is None:
        abort(401)
    g.api_user = user
    if reader is not None:
        g.api_rows = rows


def read_with_token(reader):
    """The view's own first read is made in its token's statement (one round trip): ``reader(request)``
    gives that statement (``tokens.with_token``) and its bound values; the view takes the rows from
    ``g.api_rows`` (``frontdesk.with_token.taken``). Put below ``@requires`` (its wrapper keeps the mark)."""

    def mark(view):
        view._roster_read_with_token = reader
        return view

    return mark


@bp.get("/openapi.json")
@public
def openapi():
    """The API's description; it holds no data, so no token is needed."""
    from roster.api.openapi import spec

    return jsonify(spec())


from roster.api import claims, clinic, unit_caps, views  # noqa: E402,F401
