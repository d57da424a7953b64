"""Error pages for people and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from roster.transactions import is_busy, is_conflict, sqlstate

MESSAGES = {
    400: "The request could not be understood.",
    401: "Sign in or send a valid API token.",
    403: "Your role does not allow this.",
    404: "There is nothing here.",
    405: "That method is not allowed here.",
    409: "That conflicts with what is already recorded.",
    413: "That upload is too large.",
    422: "Some fields are not valid.",
    429: "Too many attempts; wait a few minutes.",
    503: "Roster cannot reach its database just now. Nothing was changed; try again in a minute.",
}
CONFLICT_MESSAGE = ("Someone else changed the same records at the same moment; nothing of yours was saved. "
                    "Load the page again and retry.")
OUT_OF_RANGE_MESSAGE = "A value is outside what Roster can store."
BUSY_MESSAGE = ("Roster is busy saving other changes just now. Nothing of yours was saved; "
                "try again in a moment.")
RETRY_AFTER_SECONDS = 30


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def init_error_handlers(app: Flask) -> None:
    from roster.services import ServiceError

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        # our own sentence (abort(400, description=...)) wins over the generic one
        own = exc.description if exc.description != type(exc).description else None
        message = own or MESSAGES.get(status, exc.description or exc.name)
        if request.path.startswith("/api/"):
            code = (exc.name or "error").lower().replace(" ", "_")
            response, _ = api_error(status, code, message)
        else:
            response = make_response(render_template("errors/error.html", status=status, title=exc.name,
                                                     message=message))
        response.status_code = status
        allowed = getattr(exc, "valid_methods", None)
        if status == 405 and allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        """The database refused or is away. A lost race -> 409; away -> 503; a bad value -> 400."""
        if is_conflict(exc):
            return _answer(409, "conflict", "Conflict", CONFLICT_MESSAGE)
        if (sqlstate(exc) or "").startswith("22"):  # data exception: a value out of range
            return _answer(400, "bad_request", "Bad request", OUT_OF_RANGE_MESSAGE)
        if is_busy(exc):  # SQLite's write lock still held after the busy timeout
            return unavailable(BUSY_MESSAGE)
        if isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated:
            return unavailable()
        raise exc

    @app.errorhandler(PoolTimeout)
    def pool_exhausted(exc: PoolTimeout):
        return unavailable(BUSY_MESSAGE)  # every connection is in use: too many requests at once

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if request.path.startswith("/api/"):
            return api_error(exc.status, exc.code, exc.message, exc.fields)
        return (
            render_template("errors/error.html", status=exc.status, title="Not done",
                            message=exc.message),
            exc.status,
        )


def _answer(status: int, code: str, title: str, message: str):
    if request.path.startswith("/api/"):
        return api_error(status, code, message)
    return render_template("errors/error.html", status=status, title=title, message=message), status


def unavailable(message: str = MESSAGES[503]):
    """503 with Retry-After; the page needs no database (it shows no signed-in user)."""
    if request.path.startswith("/api/"):
        response, status = api_error(503, "unavailable", message)
    else:
        # Rendered without the context processors: Flask-Login's would load the signed-in user.
        page = current_app.jinja_env.get_template("errors/unavailable.html").render(message=message)
        response = make_response(page)
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
