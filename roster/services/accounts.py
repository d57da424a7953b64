"""Staff accounts: create, change, deactivate, reset, unlock; passwords; sessions that end.

Guards live here, not in the views: the last active administrator can be
neither demoted nor deactivated, and no one demotes or deactivates
themselves. Every change is audited without its secret.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from werkzeug.security import check_password_hash

from roster.extensions import db
from roster.models import ROLES, Facilitator, RecoveryCode, User
from roster.services import Conflict, ServiceError, audit, throttle
from roster.services.passwords import MIN_PASSWORD_LENGTH, hash_password, password_problem
from roster.services.tokens import (  # noqa: F401  (re-exported: the token functions used to live here)
    create_token, reset_calendar_secret, revoke_all_tokens, revoke_token, tokens_of,
    user_for_calendar_secret, user_for_token,
)


def staff_and_tokens() -> tuple[list[User], list[ApiToken]]:
    """The Staff page: every account (by role, then e-mail) and every API token (newest first, user loaded)."""
    staff = db.session.scalars(sa.select(User).order_by(User.role, User.email)).all()
    tokens = db.session.scalars(
        sa.select(ApiToken).options(sa.orm.joinedload(ApiToken.user)).order_by(ApiToken.id.desc())
    ).all()
    return list(staff), list(tokens)


def staff_list() -> list[User]:
    """The Staff page: active accounts first, by name."""
    return list(db.session.scalars(sa.select(User).order_by(User.active.desc(), User.name, User.email)))


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def email_problem(email: str) -> str | None:
    try:
        validate_email(email, check_deliverability=False, test_environment=True)  # allows the .test domain
    except EmailNotValidError:
        return "Enter a valid e-mail address, like name@clinic.org."
    return None


def temporary_password() -> str:
    """Readable, 4 groups of 4 (about 80 bits); it must be replaced at the next sign-in."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_user(email: str, role: str, password: str | None, name: str = "",
                must_change_password: bool = False) -> User:
    """Create an account. The password is the operator's (CLI) or a temporary one (Staff page)."""
    email = normalise_email(email)
    fields = {}
    if problem := email_problem(email):
        fields["email"] = problem
    if role not in ROLES:
        fields["role"] = f"Choose one of: {', '.join(ROLES)}."
    if len(password or "") < MIN_PASSWORD_LENGTH:
        fields["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(name or "") > 120:
        fields["name"] = "Use at most 120 characters."
    if fields:
        raise ServiceError("The account could not be created.", fields)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this e-mail already exists.", {"email": "Already in use."})
    user = User(
        email=email,
        name=(name or "").strip() or email.split("@")[0].replace(".", " ").title(),
        role=role,
        password_hash=hash_password(password),
        calendar_secret=secrets.token_urlsafe(24),
        must_change_password=must_change_password,
        session_version=0,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id,
                 after={"email": email, "name": user.name, "role": role, "temporary_password": must_change_password})
    return user


def create_user_with_temporary_password(email: str, role: str, name: str) -> tuple[User, str]:
    temp = temporary_password()
    return create_user(email, role, temp, name, must_change_password=True), temp


def _active_admin_ids() -> list[int]:
    """The active administrators, their rows locked (PostgreSQL) so two guards cannot both pass."""
    return list(db.session.scalars(
        sa.select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id).with_for_update()
    ))


def _guard_admin_loss(user: User, actor: User | None, what: str) -> None:
    if actor is not None and actor.id == user.id:
        raise ServiceError(f"You cannot {what} your own account; ask another administrator.",
                           {"role" if what == "demote" else "active": "Not for your own account."})
    if user.role == "admin" and user.active and _active_admin_ids() == [user.id]:
        raise Conflict(f"This is the last active administrator; you cannot {what} it. "
                       "Make someone else an administrator first.",
                       {"role" if what == "demote" else "active": "Last active administrator."})


_KEEP = object()


def update_user(user: User, name: str, role: str, actor: User | None, facilitator_id=_KEEP) -> bool:
    """Change name and role (and which facilitator record the account is). Returns whether anything changed."""
    name = (name or "").strip()
    fields = {}
    if not name:
        fields["name"] = "Enter the person's name."
    elif len(name) > 120:
        fields["name"] = "Use at most 120 characters."
    if role not in ROLES:
        fields["role"] = "Choose a role."
    if fields:
        raise ServiceError("The account was not changed.", fields)
    if user.role == "admin" and role != "admin":
        _guard_admin_loss(user, actor, "demote")
    changes = {"name": name, "role": role}
    if facilitator_id is not _KEEP:
        if facilitator_id is not None and db.session.get(Facilitator, facilitator_id) is None:
            raise ServiceError("The account was not changed.", {"facilitator_id": "No such facilitator."})
        changes["facilitator_id"] = facilitator_id
    return audit.apply_changes(user, changes, ("name", "role", "facilitator_id"), "user.update", "user")


def set_active(user: User, active: bool, actor: User | None, now: datetime) -> bool:
    """Deactivate (every session, token and calendar link ends) or reactivate."""
    if user.active == active:
        return False
    if not active:
        _guard_admin_loss(user, actor, "deactivate")
    user.active = active
    if not active:
        end_sessions(user)
        revoke_all_tokens(user, now)
        user.calendar_secret = secrets.token_urlsafe(24)
    db.session.flush()
    audit.record("user.reactivate" if active else "user.deactivate", "user", user.id,
                 before={"active": not active}, after={"active": active})
    return True


def reset_password(user: User, now: datetime) -> str:
    """A one-time temporary password to be replaced at the next sign-in.

    A reset is account recovery: every session, token and calendar link ends,
    and two-factor sign-in is cleared so the person can enrol again (a lost phone).
    """
    temp = temporary_password()
    had_two_factor = user.two_factor_enabled
    user.password_hash = hash_password(temp)
    user.must_change_password = True
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_sessions(user)
    revoke_all_tokens(user, now)
    user.calendar_secret = secrets.token_urlsafe(24)
    throttle.lift(lock_prefixes(user))
    db.session.flush()
    audit.record("user.reset_password", "user", user.id,
                 after={"temporary_password": True, "two_factor_cleared": had_two_factor})
    return temp


def lock_prefixes(user: User) -> list[str]:
    return [f"pair:{user.email}|", f"email:{user.email}", f"code:{user.id}"]


def is_delayed(user: User, now: datetime) -> bool:
    return throttle.is_delayed(lock_prefixes(user), now)


def unlock(user: User) -> int:
    """Forget the failed attempts against this account (from every address)."""
    lifted = throttle.lift(lock_prefixes(user))
    audit.record("user.unlock", "user", user.id, after={"throttle_rows_cleared": lifted})
    return lifted


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """The person's own change: current password required; every other session ends."""
    fields = {}
    if not check_password_hash(user.password_hash, current or ""):
        fields["current_password"] = "That is not your current password."
    if problem := password_problem(new or "", user.email, user.name):
        fields["new_password"] = problem
    elif new == current:
        fields["new_password"] = "Choose a password different from the current one."
    if not fields and new != confirm:
        fields["confirm_password"] = "The two new passwords differ."
    if fields:
        raise ServiceError("Your password was not changed.", fields)
    user.password_hash = hash_password(new)
    was_temporary = user.must_change_password
    user.must_change_password = False
    end_sessions(user)
    audit.record("user.change_password", "user", user.id, after={"replaced_temporary": was_temporary})


def end_sessions(user: User) -> None:
    """Every session cookie issued so far stops working (an atomic increment in the database)."""
    user.session_version = User.session_version + 1
    db.session.flush()


def sign_out(user: User) -> None:
    end_sessions(user)
    audit.record("auth.sign_out", "user", user.id)


def set_role_by_email(email: str, role: str) -> User:
    """CLI: an operator locked out of the web."""
    user = _must_find(email)
    update_user(user, user.name, role, actor=None)
    return user


def _must_find(email: str) -> User:
    user = by_email(email)
    if user is None:
        raise ServiceError(f"No account for {email}.", {"email": "No such account."})
    return user
