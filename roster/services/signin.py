"""Signing in: the password step (throttled, same work for every address), the code step
(time-based one-time codes or single-use recovery codes, throttled too), enrolment in
two-factor sign-in, and the clinic setting that requires it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import pyotp
import segno
import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from roster.extensions import db
from roster.models import ClinicSetting, RecoveryCode, User
from roster.services import ServiceError, audit, throttle
from roster.services.accounts import normalise_email
from roster.services.passwords import hash_method

TWO_FACTOR_ROLES = ("admin", "biller")
RECOVERY_CODES = 10
ISSUER = "Roster"


def dummy_hash() -> str:
    """A hash of nothing anyone knows, made like real ones: unknown addresses cost the same work."""
    return _dummy_hash(hash_method())


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def verify_password(stored_hash: str, password: str) -> bool:
    return check_password_hash(stored_hash, password)


@dataclass
class Outcome:
    """``ok`` (signed in), ``code`` (password right, a code is needed), ``invalid`` or ``delayed``."""

    status: str
    user: User | None = None
    wait: timedelta = timedelta(0)


@dataclass(frozen=True)
class Candidate:
    """What the password step needs of an account, read before the slow hash (no row held)."""

    user_id: int
    password_hash: str
    active: bool


def admit_password(email: str, addr: str, now: datetime, limits=None) -> tuple[throttle.Attempt, Candidate | None]:
    """Charge the attempt before the password is checked, and read the account's hash.

    The caller commits straight after, so the hash is computed with no transaction open.
    """
    throttle.clean_stale(now)
    email = normalise_email(email)
    row = db.session.execute(
        sa.select(User.id, User.password_hash, User.active).where(User.email == email)
    ).first()
    # The charge comes last, so the throttle's shared rows are held only until the caller's commit.
    attempt = throttle.admit(throttle.password_buckets(email, addr, limits or throttle.DEFAULT_LIMITS), now)
    return attempt, Candidate(*row) if row and attempt.admitted else None


def check_password(attempt: throttle.Attempt, candidate: Candidate | None, email: str, password: str) -> Outcome:
    """Same hashing work whether the address is known, unknown or deactivated."""
    if not attempt.admitted:
        return Outcome("delayed", wait=attempt.wait)
    matches = verify_password(candidate.password_hash if candidate else dummy_hash(), password or "")
    if not (matches and candidate is not None and candidate.active):
        if attempt.locked_now:
            audit.record("auth.locked", "user", candidate.user_id if candidate else None,
                         after={"email": normalise_email(email)[:254]})
            return Outcome("delayed", wait=attempt.wait)
        return Outcome("invalid")
    user = db.session.get(User, candidate.user_id)
    throttle.forgive(attempt)  # last: the caller commits straight after, releasing the shared rows
    return Outcome("code" if user.two_factor_enabled else "ok", user)


# --------------------------------------------------------------------------- the code step


def _recovery_hash(user_id: int, code: str) -> str:
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(f"roster-recovery:{user_id}:{normal}".encode()).hexdigest()


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step a six-digit code belongs to (now, or one step either side), else None."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        at = now + timedelta(seconds=30 * drift)
        if hmac.compare_digest(totp.at(at), digits):
            return totp.timecode(at)
    return None


def check_code(user: User, code: str, now: datetime, limits=None) -> Outcome:
    """A code from the authenticator app (each used once) or a recovery code (used once)."""
    attempt = throttle.admit(throttle.code_buckets(user.id, limits or throttle.DEFAULT_LIMITS), now)
    if not attempt.admitted:
        return Outcome("delayed", wait=attempt.wait)
    code = (code or "").strip()
    used = None
    step = _totp_step(user.totp_secret, code, now) if user.totp_secret else None
    if step is not None:
        # Atomic: a code is accepted once, even by two parallel requests.
        done = db.session.execute(
            sa.update(User).where(User.id == user.id,
                                  sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step).execution_options(synchronize_session=False)
        ).rowcount
        used = "totp" if done == 1 else None
    elif len(code) >= 10:
        done = db.session.execute(
            sa.update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                          RecoveryCode.code_hash == _recovery_hash(user.id, code),
                                          RecoveryCode.used_at.is_(None))
            .values(used_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if done == 1:
            used = "recovery"
            audit.record("auth.recovery_code_used", "user", user.id,
                         after={"recovery_codes_left": recovery_codes_left(user)})
    if used is None:
        if attempt.locked_now:
            return Outcome("delayed", wait=attempt.wait)
        return Outcome("invalid", user)
    throttle.forgive(attempt)
    return Outcome("ok", user)


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


# --------------------------------------------------------------------------- enrolment


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str:
    """The QR code drawn here, as an inline SVG image (no outside service)."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, dark="#111", light="#fff")


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = ["-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
             for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, c)) for c in codes)
    db.session.flush()
    return codes


def enable_two_factor(user: User, secret: str, code: str, now: datetime) -> list[str]:
    """Turn two-factor on once the person proves their app has the secret; returns the recovery codes."""
    if not secret or len(secret) < 16:
        raise ServiceError("Start the set-up again.", {"code": "The set-up expired; start again."})
    step = _totp_step(secret, code or "", now)
    if step is None:
        raise ServiceError("Two-factor sign-in is not on yet.",
                           {"code": "That code does not match. Check the time on your phone and try the newest code."})
    user.totp_secret = secret
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    audit.record("user.two_factor_on", "user", user.id, after={"recovery_codes": RECOVERY_CODES})
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    if not user.two_factor_enabled:
        raise ServiceError("Turn on two-factor sign-in first.")
    codes = _new_recovery_codes(user)
    audit.record("user.recovery_codes_replaced", "user", user.id, after={"recovery_codes": RECOVERY_CODES})
    return codes


def disable_two_factor(user: User, password: str) -> None:
    if not check_password_hash(user.password_hash, password or ""):
        raise ServiceError("Two-factor sign-in is still on.", {"password": "That is not your password."})
    if two_factor_required(user):
        raise ServiceError("The clinic requires two-factor sign-in for your role; it stays on.")
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record("user.two_factor_off", "user", user.id)


# --------------------------------------------------------------------------- clinic setting


def clinic_settings() -> ClinicSetting:
    """The clinic's settings row; defaults when none was saved yet (reading never writes)."""
    return db.session.get(ClinicSetting, 1) or ClinicSetting(id=1, require_two_factor=False)


def two_factor_required(user: User) -> bool:
    return user.role in TWO_FACTOR_ROLES and clinic_settings().require_two_factor


def set_require_two_factor(required: bool) -> bool:
    settings = db.session.get(ClinicSetting, 1)
    if settings is None:
        settings = ClinicSetting(id=1, require_two_factor=False)
        db.session.add(settings)
        db.session.flush()
    if settings.require_two_factor == required:
        return False
    settings.require_two_factor = required
    if required:  # everyone concerned signs in again, and is then asked to set it up
        db.session.execute(
            sa.update(User).where(User.role.in_(TWO_FACTOR_ROLES), User.totp_secret.is_(None))
            .values(session_version=User.session_version + 1).execution_options(synchronize_session="fetch")
        )
    audit.record("clinic.require_two_factor", "clinic_setting", 1,
                 before={"require_two_factor": not required}, after={"require_two_factor": required})
    return True
