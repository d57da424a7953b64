"""Error pages for people and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

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
}


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def init_error_handlers(app: Flask) -> None:
    from roster.services import ServiceError

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if request.path.startswith("/api/"):
            code = (exc.name or "error").lower().replace(" ", "_")
            return api_error(status, code, MESSAGES.get(status, exc.description or exc.name))
        return (
            render_template("errors/error.html", status=status, title=exc.name,
                            message=MESSAGES.get(status, exc.description)),
            status,
        )

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if request.path.startswith("/api/"):
            return api_error(exc.status, exc.code, exc.message, exc.fields)
        return (
            render_template("errors/error.html", status=exc.status, title="Not done",
                            message=exc.message),
            exc.status,
        )
