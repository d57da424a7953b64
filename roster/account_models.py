"""Staff accounts: users, API tokens, sign-in throttling, recovery codes, clinic settings.

Re-exported by ``roster.models``; import them from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from roster.extensions import db
from roster.model_base import TimestampMixin, UTCDateTime, _in, cascade_fk

if TYPE_CHECKING:
    from roster.models import Facilitator

ROLES = ("admin", "coordinator", "front_desk", "biller", "facilitator")


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (sa.CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    calendar_secret: Mapped[str] = mapped_column(sa.String(64), unique=True)
    facilitator_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("facilitator.id", ondelete="SET NULL")
    )
    # Raised whenever every open session must end (sign-out, password change, reset, deactivation);
    # a session cookie carries the version it was issued with and is refused once it differs.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set by an administrator's reset (and for new accounts): the next sign-in must choose a password.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Two-factor sign-in: base32 TOTP secret once enrolled, and the last time step accepted (no replay).
    totp_secret: Mapped[Optional[str]] = mapped_column(sa.String(64))
    totp_last_step: Mapped[Optional[int]] = mapped_column(sa.BigInteger)

    facilitator: Mapped[Optional[Facilitator]] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret is not None

    def get_id(self) -> str:  # Flask-Login: the session remembers id *and* version
        return f"{self.id}:{self.session_version}"


class LoginThrottle(db.Model):
    """Failed attempts per bucket ("pair:<email>|<addr>", "email:…", "addr:…", "global", "code:<user>").

    Counted with atomic UPDATEs in the database; ``locked_until`` is a delay that
    grows with every failure past the bucket's limit (see roster/services/throttle.py).
    """

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(sa.String(320), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class ApiToken(TimestampMixin, db.Model):
    """A Bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = cascade_fk("user")
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    prefix: Mapped[str] = mapped_column(sa.String(12))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A single-use two-factor recovery code; only its hash is stored."""

    __tablename__ = "recovery_code"
    __table_args__ = (sa.UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = cascade_fk("user")
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class ClinicSetting(db.Model):
    """Clinic-wide settings: one row (id 1). Other settings may join it as columns."""

    __tablename__ = "clinic_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Administrators and billers must sign in with a second factor.
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
