"""Every request's input checked at the edge, before any view runs.

Pages and the API share these checks; a bad input answers 400 (404 for an id
that cannot exist) with a sentence, and nothing is written:

- the address, its query parameters and every form field hold no control
  characters (NUL...) or lone UTF-16 surrogates; one-line values (address, query)
  no line breaks either (``roster.domain.validators.text_problem``);
- a JSON body is nested at most ``MAX_JSON_DEPTH`` levels, its keys and strings
  pass the same text check, and its whole numbers fit the databases' integers;
- ids in the address (``<int:...>``) fit the databases' integers, so a larger one
  is simply not found (404); a whole number in a ``page`` or ``*_id`` parameter or
  form field fits them too (400).

Field-level rules (required fields, lengths, dates within their windows) stay
with the services' validators (``roster/services/validation.py``), which the
forms and the API share.
"""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Flask, abort, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.routing import IntegerConverter

from roster.domain.validators import text_problem

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL's integer; ids and counts are never larger
MAX_JSON_DEPTH = 16
_NUMBER_PARAM = re.compile(r"(^|_)(page|id|ids)$")
_WHOLE = re.compile(r"-?\d+")


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that matches only ids a database integer can hold (larger ones are 404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, INT_MAX if max is None else max, signed)


class BadInput(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def init_edge(app: Flask) -> None:
    """Before the blueprints: the int converter must be in place when their routes are added."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.session_interface = CookieSessions()
    app.before_request(check_request)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions. A request without the cookie (every API call, a first visit) gets its
    empty session as Flask gives it, without first making the cookie's signer (itsdangerous' serializer and
    key derivation, on every call) only to find there is nothing to check.

    A cookie this worker has verified before is not verified again: the same cookie under the same keys always
    has the same signature verdict and the same contents, so what it held is remembered (by the keys and the
    cookie, the last ``OPENED_MAX``) with the time it was signed at, and only its age is checked again, as
    itsdangerous checks it (``0 <= now - signed <= the session's lifetime``). Only a cookie of plain values
    (text, numbers: a signed-in desk's) is remembered, so each request gets its own copy. A desk sends the same
    cookie on every request: this spared the base64, zlib, HMAC and tagged JSON of each (~0.1 ms)."""

    OPENED_MAX = 2048

    def open_session(self, app: Flask, request):
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not app.secret_key or not cookie:
            return self.session_class() if app.secret_key else None
        opened = app.extensions.setdefault("roster.opened_cookies", {})
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()), cookie)
        known = opened.get(key)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        if known is not None:
            signed_at, data = known
            if 0 <= int(time.time()) - signed_at <= max_age:
                return self.session_class(data)
            return self.session_class()  # expired since: as itsdangerous says it
        try:
            data, signed = self.get_signing_serializer(app).loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if all(type(value) in _PLAIN for value in data.values()):
            if len(opened) >= self.OPENED_MAX:
                opened.clear()
            opened[key] = (int(signed.timestamp()), data)
        return self.session_class(data)


_PLAIN = (str, int, float, bool, type(None))  # values a copy of the dict does not share


def check_request() -> None:
    try:
        _check_address()
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            _check_form()
            _check_json()
    except BadInput as exc:
        abort(400, description=exc.message)


def _check_address() -> None:
    problem = text_problem(request.path, one_line=True)
    if problem:
        raise BadInput(f"The address {problem}")
    for key, values in request.args.lists():
        for value in [key, *values]:
            problem = text_problem(value, one_line=True)
            if problem:
                raise BadInput(f"The parameter “{_shown(key)}” {problem}")
        if _NUMBER_PARAM.search(key):
            for value in values:
                _check_number(key, value.strip())


def _check_number(key: str, value: str) -> None:
    """A whole number beyond a database integer is refused; anything else is the view's to read
    (the pager clamps a page of 0, -3 or "abc" to the first page)."""
    if value and _WHOLE.fullmatch(value) and not INT_MIN <= int(value) <= INT_MAX:
        raise BadInput(f"The parameter “{key}” must be a whole number from {INT_MIN} to {INT_MAX}.")


def _check_form() -> None:
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return
    for key, values in request.form.lists():
        for value in [key, *values]:
            problem = text_problem(value)
            if problem:
                raise BadInput(f"The field “{_shown(key)}” {problem}")
        if _NUMBER_PARAM.search(key):
            for value in values:
                _check_number(key, value.strip())


def _check_json() -> None:
    if not request.is_json:
        return
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise BadInput(f"The JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels).") from None
    if data is None:
        return  # not JSON at all: the view says so (400 malformed_json)
    _check_json_value(data)


def _check_json_value(root: Any) -> None:
    """Walk the body without recursion: depth, text and whole numbers."""
    stack: list[tuple[Any, int, str]] = [(root, 1, "body")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise BadInput(f"The JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels).")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    problem = text_problem(key)
                    if problem:
                        raise BadInput(f"A field name {problem}")
                    where_next = key
                else:
                    where_next = where
                stack.append((item, depth + 1, where_next))
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise BadInput(f"The field “{_shown(where)}” {problem}")
        elif isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
            raise BadInput(f"The field “{_shown(where)}” must be a whole number from {INT_MIN} to {INT_MAX}.")


def _shown(key: str) -> str:
    """A field name fit to repeat in a message (its bad characters dropped, shortened)."""
    return re.sub("[\x00-\x1f\x7f\ud800-\udfff]", "", key)[:60]
