"""Sessions that really end: the cookie names the user *and* the session version it was issued with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import ClassVar

import sqlalchemy as sa
from flask import session
from flask_login import current_user, login_user

from roster.extensions import db
from roster.models import User

PENDING_KEY = "pending_second_factor"
PENDING_SECONDS = 300


@dataclass(frozen=True, slots=True)
class PageUser:
    """Who a signed-in page request is from, as every request reads them: ``current_user`` of a page. The
    columns pages, permissions, the account steps and the audit's actor read, as plain values: an ORM ``User``
    of every column cost about as much as the read itself, on every page. Frozen: nothing changes it; a view
    that changes its own account, or reads its secrets, takes ``signed_in_user()``."""
    id: int
    email: str
    name: str
    role: str
    session_version: int
    must_change_password: bool
    two_factor_enabled: bool
    facilitator_id: int | None
    is_authenticated: ClassVar[bool] = True  # as Flask-Login's users say it
    is_active: ClassVar[bool] = True  # an inactive user is never loaded
    is_anonymous: ClassVar[bool] = False

    def get_id(self) -> str:  # as User.get_id: the session remembers id *and* version
        return f"{self.id}:{self.session_version}"


_u = User.__table__.c
# Run by every signed-in request: built once (``session.get`` builds and keys a new statement per call),
# run as Core (plain values)
USER_BY_ID = sa.select(
    _u.id, _u.email, _u.name, _u.role, _u.session_version, _u.must_change_password,
    _u.totp_secret.is_not(None), _u.facilitator_id, _u.active,
).where(_u.id == sa.bindparam("user_id"))


def load_user(user_id: str) -> PageUser | None:
    """Flask-Login's loader, run on every request: refused once the user's version moved on, or inactive."""
    ident, _, version = (user_id or "").partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None  # a cookie from before session versions: sign in again
    row = db.session.connection().execute(USER_BY_ID, {"user_id": int(ident)}).first()
    if row is None or not row[8] or row[4] != int(version):
        return None
    return PageUser(row[0], row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]), row[7])


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
