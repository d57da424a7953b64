"""API tokens and calendar secrets: credentials other than the password."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

import sqlalchemy as sa

from roster.extensions import db
from roster.models import ApiToken, User
from roster.services import ServiceError, audit

# last_used_at is written at most this often per token (no write on every API call)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiUser:
    """Who an API call acts for, as the API reads them: id and e-mail (the audit's actor, who checked in,
    closed, exported), role (permissions). Plain values from the token's statement: an ORM ``User`` of
    every column cost more than the read, on every API call. Nothing writes to it (no API view changes
    its own account); look the ``User`` up to change one."""
    id: int
    email: str
    role: str
    is_authenticated: ClassVar[bool] = True  # as Flask-Login's users say it
    is_active: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False


# Every API call runs this: the live token (not revoked, not expired at ``now``) of an active user who need
# not change their password first, in one statement built once (a statement built per call spends more of
# the call's time being built and keyed than being run), run as Core (plain rows of the columns used).
_user, _token = User.__table__.c, ApiToken.__table__.c
TOKEN_AND_USER = (
    sa.select(_user.id, _user.email, _user.role, _token.id, _token.last_used_at)
    .select_from(ApiToken.__table__.join(User.__table__, _user.id == _token.user_id))
    .where(_token.token_hash == sa.bindparam("token_hash"), _token.revoked_at.is_(None),
           sa.or_(_token.expires_at.is_(None), _token.expires_at > sa.bindparam("now", type_=_token.expires_at.type)),
           _user.active.is_(True), _user.must_change_password.is_(False))
)
TOKEN_COLUMNS = 5  # TOKEN_AND_USER's; a statement made by ``with_token`` has its own after them


# When the token was last used, written at most once a minute and never waited for: a call that finds
# the row locked (another call of the same token is writing it, in a transaction that lasts as long as
# that call) leaves it to that one (PostgreSQL's SKIP LOCKED; SQLite has one writer and no row locks).
# A plain conditional UPDATE queued every call of a shared token behind the writing call's whole
# request, a close behind a close.
_STALE_TOKEN = (
    sa.select(ApiToken.id)
    .where(ApiToken.id == sa.bindparam("token_id"),
           sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= sa.bindparam("stale")))
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
TOUCH = (
    sa.update(ApiToken).where(ApiToken.id == _STALE_TOKEN).values(last_used_at=sa.bindparam("now"))
    .execution_options(synchronize_session=False)
)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(user: User, label: str = "", expires_at: datetime | None = None,
                 now: datetime | None = None) -> str:
    """Create an API token and return it in clear, once; only its hash is kept."""
    if expires_at is not None and now is not None and expires_at <= now:
        raise ServiceError("The token was not created.", {"expires_on": "Choose a day in the future."})
    raw = "rst_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, label=label, prefix=raw[:10], token_hash=_hash_token(raw),
                     expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    audit.record("token.create", "api_token", token.id,
                 after={"user": user.email, "label": label,
                        "expires_at": expires_at.isoformat() if expires_at else None})
    return raw


def user_for_token(raw: str, now: datetime) -> ApiUser | None:
    """The active user behind a live token at ``now`` (the services' clock); records when it was last
    used (at most once a minute)."""
    return read_with_token(raw, now)[0]


def read_with_token(raw: str, now: datetime, statement: sa.Select = TOKEN_AND_USER,
                    params: dict | None = None) -> tuple[ApiUser | None, list[sa.Row]]:
    """``user_for_token``, and the rows of ``statement``: ``TOKEN_AND_USER`` with more columns outer-joined
    (``with_token``), a call's own first read made in its token's round trip. No row (no live token of a
    user who may act): no user and no rows."""
    rows = db.session.connection().execute(statement, {"token_hash": _hash_token(raw), "now": now} | (params or {})).all()
    if not rows:
        return None, []
    user_id, email, role, token_id, last_used_at = rows[0][:TOKEN_COLUMNS]
    if last_used_at is None or last_used_at <= now - TOUCH_EVERY:
        db.session.execute(TOUCH, {"token_id": token_id, "now": now, "stale": now - TOUCH_EVERY})
    return ApiUser(user_id, email, role), rows


def with_token(columns: list, joined: sa.FromClause, onclause) -> sa.Select:
    """``TOKEN_AND_USER`` with ``joined``'s ``columns`` after its own, outer-joined ``onclause`` (bound values
    of the call's address or body): read only when the token is found (no row for an unknown token), NULL
    when the call names nothing there."""
    return TOKEN_AND_USER.add_columns(*columns).outerjoin(joined, onclause)


def revoke_token(token: ApiToken, now: datetime) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record("token.revoke", "api_token", token.id, before={"revoked": False}, after={"revoked": True})


def revoke_all_tokens(user: User, now: datetime) -> int:
    ids = list(db.session.scalars(
        sa.select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ))
    if ids:
        db.session.execute(sa.update(ApiToken).where(ApiToken.id.in_(ids)).values(revoked_at=now))
        audit.record("token.revoke_all", "user", user.id, after={"revoked_token_ids": ids})
    return len(ids)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ))


def reset_calendar_secret(user: User) -> str:
    user.calendar_secret = secrets.token_urlsafe(24)
    audit.record("calendar.reset_secret", "user", user.id)
    return user.calendar_secret


def user_for_calendar_secret(secret: str) -> User | None:
    if not secret or len(secret) > 64:
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_secret == secret))
    return user if user and user.active else None
