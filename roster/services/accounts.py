"""Staff accounts: passwords, sign-in throttling, API tokens, calendar secrets."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from roster.extensions import db
from roster.models import ROLES, ApiToken, LoginThrottle, User
from roster.services import Conflict, ServiceError
from roster.services import audit

MIN_PASSWORD_LENGTH = 10


def staff_and_tokens() -> tuple[list[User], list[ApiToken]]:
    """The Staff page: every account (by role, then e-mail) and every API token (newest first, user loaded)."""
    staff = db.session.scalars(sa.select(User).order_by(User.role, User.email)).all()
    tokens = db.session.scalars(
        sa.select(ApiToken).options(sa.orm.joinedload(ApiToken.user)).order_by(ApiToken.id.desc())
    ).all()
    return list(staff), list(tokens)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(email: str, role: str, password: str, name: str = "") -> User:
    email = normalise_email(email)
    fields = {}
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        fields["email"] = "Enter a valid e-mail address."
    if role not in ROLES:
        fields["role"] = f"Choose one of: {', '.join(ROLES)}."
    if len(password or "") < MIN_PASSWORD_LENGTH:
        fields["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if fields:
        raise ServiceError("The account could not be created.", fields)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this e-mail already exists.", {"email": "Already in use."})
    user = User(
        email=email,
        name=name or email.split("@")[0].replace(".", " ").title(),
        role=role,
        password_hash=generate_password_hash(password),
        calendar_secret=secrets.token_urlsafe(24),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, after={"email": email, "role": role})
    return user


def authenticate(email: str, password: str, now: datetime, max_failures: int, lock_minutes: int):
    """Return (user, None) on success or (None, reason) where reason is 'locked' or 'invalid'.

    Failures are counted per e-mail address, known or not, so an attacker
    learns nothing from the lock. The caller commits either way.
    """
    email = normalise_email(email)
    throttle = db.session.scalar(sa.select(LoginThrottle).where(LoginThrottle.email == email))
    if throttle and throttle.locked_until and throttle.locked_until > now:
        return None, "locked"
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user and user.active and check_password_hash(user.password_hash, password or ""):
        if throttle:
            db.session.delete(throttle)
        return user, None
    if throttle is None:
        throttle = LoginThrottle(email=email, failures=0)
        db.session.add(throttle)
    window_start = now - timedelta(minutes=lock_minutes)
    if throttle.last_failure_at and throttle.last_failure_at < window_start:
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failure_at = now
    if throttle.failures >= max_failures:
        throttle.locked_until = now + timedelta(minutes=lock_minutes)
        throttle.failures = 0
        audit.record("auth.locked", "user", user.id if user else None, after={"email": email})
        return None, "locked"
    return None, "invalid"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(user: User, label: str = "") -> str:
    """Create an API token and return it in clear, once; only its hash is kept."""
    raw = "rst_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, label=label, prefix=raw[:10], token_hash=_hash_token(raw))
    db.session.add(token)
    db.session.flush()
    audit.record("token.create", "api_token", token.id, after={"user": user.email, "label": label})
    return raw


def user_for_token(raw: str) -> User | None:
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == _hash_token(raw), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.active:
        return None
    return token.user


def revoke_token(token: ApiToken, now: datetime) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record("token.revoke", "api_token", token.id, before={"revoked": False}, after={"revoked": True})


def reset_calendar_secret(user: User) -> str:
    user.calendar_secret = secrets.token_urlsafe(24)
    audit.record("calendar.reset_secret", "user", user.id)
    return user.calendar_secret


def user_for_calendar_secret(secret: str) -> User | None:
    if not secret or len(secret) > 64:
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_secret == secret))
    return user if user and user.active else None
