"""Security headers on every response; no caching of anything that may carry patient data."""

from __future__ import annotations

from flask import Flask, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Set on every response unless the view set its own
DEFAULT_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def init_security(app: Flask) -> None:
    @app.after_request
    def set_headers(response):
        headers = response.headers
        # What the view set, once (werkzeug's setdefault scans the headers and raises a KeyError
        # for every header that is missing: five times a response)
        present = {name.lower() for name, _ in headers}
        for name, value in (*DEFAULT_HEADERS, HSTS) if request.is_secure else DEFAULT_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if request.endpoint != "static":
            # Pages, API answers, CSV and calendar feeds: never stored by a browser or proxy.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
