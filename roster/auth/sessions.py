"""Sessions that really end: the cookie names the user *and* the session version it was issued with."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, g, request, session
from flask_login import current_user, login_user

from roster.extensions import db
from roster.models import User
from roster.services.page_user import USER_BY_ID, PageUser, page_user  # noqa: F401 (PageUser: as before)

PENDING_KEY = "pending_second_factor"
PENDING_SECONDS = 300


def load_user(user_id: str) -> PageUser | None:
    """Flask-Login's loader, run on every request: refused once the user's version moved on, or inactive. A view
    marked ``read_with_user`` has its own first read made in the same statement (its rows: ``taken()``)."""
    ident, _, version = (user_id or "").partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None  # a cookie from before session versions: sign in again
    reader = getattr(current_app.view_functions.get(request.endpoint), "_roster_read_with_user", None)
    if reader is None:
        row = db.session.connection().execute(USER_BY_ID, {"user_id": int(ident)}).first()
        return page_user(row, int(version))
    statement, params = reader(request)
    rows = db.session.connection().execute(statement, {**params, "user_id": int(ident)}).all()
    user = page_user(rows[0] if rows else None, int(version))
    if user is not None:
        g.page_rows = rows
    return user


def read_with_user(reader):
    """The page view's own first read is made in its user's statement (one round trip): ``reader(request)``
    gives that statement (``page_user.with_user``) and its bound values; the view takes the rows once with
    ``taken()`` (a request run again reads on its own). Put below ``@requires`` (its wrapper keeps the mark)."""

    def mark(view):
        view._roster_read_with_user = reader
        return view

    return mark


def taken() -> list | None:
    """The rows read with the signed-in user, once (None: read them on your own)."""
    return g.pop("page_rows", None)


def signed_in_user() -> User:
    """The signed-in person as the ORM ``User`` (every column, changes flushed with the request), for the
    views that change their own account or read its secrets (password, two-factor, calendar links)."""
    user = current_user._get_current_object()
    return user if isinstance(user, User) else db.get_or_404(User, user.id)


def start_session(user: User) -> None:
    """A fresh session for this user (nothing carried over from before sign-in)."""
    session.clear()
    login_user(user)


def remember_pending(user: User, next_url: str | None) -> None:
    """The password was right; the code step comes next."""
    session.clear()
    session[PENDING_KEY] = {"id": user.id, "v": user.session_version, "next": next_url,
                            "at": datetime.now(timezone.utc).timestamp()}


def pending_user() -> tuple[User | None, str | None]:
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None, None
    if datetime.now(timezone.utc).timestamp() - float(data.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None, None
    user = db.session.get(User, int(data.get("id", 0)))
    if user is None or not user.active or user.session_version != data.get("v") or not user.two_factor_enabled:
        return None, None
    return user, data.get("next")
