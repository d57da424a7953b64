"""Who a signed-in page request is from: the statement every such request runs first, and its answer as a
``PageUser``. A page view may have its own first read made in that statement (``with_user``): one round trip
for both, as an API call's first read rides on its token's statement (``tokens.with_token``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sqlalchemy as sa

from roster.models import User


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
USER_COLUMNS = 9  # USER_BY_ID's; a statement made by ``with_user`` has its own after them


def with_user(columns: list, joined: sa.FromClause, onclause) -> sa.Select:
    """``USER_BY_ID`` with ``joined``'s ``columns`` after its own, outer-joined ``onclause`` (bound values only): a
    page's first read in the user's statement. Its rows all carry the user (none: no such user)."""
    return USER_BY_ID.add_columns(*columns).outerjoin_from(User.__table__, joined, onclause)


def page_user(row, version: int) -> PageUser | None:
    """The ``PageUser`` of ``USER_BY_ID``'s values: None for no row, an inactive user or a session version
    that moved on."""
    if row is None or not row[8] or row[4] != version:
        return None
    return PageUser(row[0], row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]), row[7])
