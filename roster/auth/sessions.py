"""Sessions that really end: the cookie names the user *and* the session version it was issued with."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask import session
from flask_login import login_user

from roster.extensions import db
from roster.models import User

PENDING_KEY = "pending_second_factor"
PENDING_SECONDS = 300
# Run by every signed-in request: built once (``session.get`` builds and keys a new statement per call).
USER_BY_ID = sa.select(User).where(User.id == sa.bindparam("user_id"))


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader, run on every request: refused once the user's version moved on."""
    ident, _, version = (user_id or "").partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None  # a cookie from before session versions: sign in again
    user = db.session.scalars(USER_BY_ID, {"user_id": int(ident)}).first()
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


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
