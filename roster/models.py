"""The data model. Constraints live in the database, not only in Python.

Times are stored as UTC instants (``UTCDateTime``); a class's sessions are
shown in the class's IANA time zone. Lists of short codes (needs tags,
ICD-10 codes, modifiers) are JSON arrays.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column, relationship

from roster.domain.families import DEFAULT_TRAINING, FAMILIES, TRAININGS
from roster.domain.statuses import EnrollmentStatus, LineStatus, SessionStatus  # noqa: F401 (re-exported)
from roster.domain.text import caregiver_search_key, patient_search_key
from roster.extensions import db

DISCIPLINES = ("PT", "PTA", "OT", "OTA", "SLP", "MD", "DO", "NP", "PA", "CNS", "PSY", "CSW")
POC_DISCIPLINES = ("PT", "OT", "SLP")
CONSENT_KINDS = ("written", "verbal")
MODALITIES = ("in_person", "telehealth")


# The CHECK constraints are generated from these (same text as before, so no migration).
SESSION_STATUSES = tuple(SessionStatus)
ENROLLMENT_STATUSES = tuple(EnrollmentStatus)
LINE_STATUSES = tuple(LineStatus)
SEVERITIES = ("warn", "block")
SEXES = ("F", "M", "U")

# Staff accounts, sign-in and clinic settings live in roster/account_models.py; re-exported here.
from roster.account_models import (  # noqa: E402,F401
    ROLES, ApiToken, ClinicSetting, LoginThrottle, RecoveryCode, User,
)
from roster.model_base import PostalAddressMixin, TimestampMixin, UTCDateTime, _in, cascade_fk, unique_pair, utcnow  # noqa: E402,F401


# --------------------------------------------------------------------------- people


def _trigram_index(name: str, column: str) -> sa.Index:
    """A pg_trgm GIN index for substring search; PostgreSQL only (migration 0005 skips it on SQLite). Its
    pending list stays short (64 kB, migration 0017): every search reads all of it."""
    return sa.Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"},
                    postgresql_with={"gin_pending_list_limit": 64}, info={"postgresql_only": True})


class SearchKeyMixin:
    """``search_key``: the folded words of the names (``roster.domain.text``), kept by the model itself
    whenever a name changes, so every writer (form, API, CSV import) keeps it true."""

    SEARCH_FIELDS: tuple[str, ...] = ("first_name", "last_name")
    SEARCH_KEY = staticmethod(caregiver_search_key)

    search_key: Mapped[str] = mapped_column(sa.String(300), default="")

    def _refresh_search_key(self, key: str, value):
        parts = {name: getattr(self, name, None) for name in self.SEARCH_FIELDS}
        parts[key] = value
        self.search_key = self.SEARCH_KEY(*(parts[name] for name in self.SEARCH_FIELDS))
        return value


class Facilitator(TimestampMixin, db.Model):
    __tablename__ = "facilitator"
    __table_args__ = (
        sa.CheckConstraint(_in("discipline", DISCIPLINES), name="discipline"),
        sa.CheckConstraint("length(npi) = 10", name="npi_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    discipline: Mapped[str] = mapped_column(sa.String(4))
    npi: Mapped[str] = mapped_column(sa.String(10))
    active: Mapped[bool] = mapped_column(default=True)


def mrn_key(mrn: str | None) -> str:
    """An MRN compared without regard to case."""
    return (mrn or "").strip().upper()


class Patient(SearchKeyMixin, TimestampMixin, PostalAddressMixin, db.Model):
    __tablename__ = "patient"
    SEARCH_FIELDS = ("first_name", "last_name", "mrn")
    SEARCH_KEY = staticmethod(patient_search_key)
    __table_args__ = (
        _trigram_index("ix_patient_search_key_trgm", "search_key"),
        sa.CheckConstraint(
            "consent_kind IS NULL OR " + _in("consent_kind", CONSENT_KINDS), name="consent_kind"
        ),
        sa.CheckConstraint(
            "(consent_date IS NULL) = (consent_kind IS NULL)", name="consent_complete"
        ),
        sa.CheckConstraint(
            "poc_discipline IS NULL OR " + _in("poc_discipline", POC_DISCIPLINES),
            name="poc_discipline",
        ),
        sa.CheckConstraint(
            "poc_start IS NULL OR poc_end IS NULL OR poc_start <= poc_end", name="poc_dates"
        ),
        sa.CheckConstraint("sex IS NULL OR " + _in("sex", SEXES), name="sex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(sa.String(40), unique=True)
    # the MRN without regard to case (a1001 and A1001 are one patient): unique, set whenever mrn is
    mrn_key: Mapped[str] = mapped_column(sa.String(60), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(80))
    last_name: Mapped[str] = mapped_column(sa.String(80), index=True)
    dob: Mapped[Optional[date]]
    payer: Mapped[str] = mapped_column(sa.String(80), default="")
    member_id: Mapped[str] = mapped_column(sa.String(40), default="")
    needs: Mapped[list] = mapped_column(sa.JSON, default=list)
    diagnosis_codes: Mapped[list] = mapped_column(sa.JSON, default=list)
    consent_date: Mapped[Optional[date]]
    consent_kind: Mapped[Optional[str]] = mapped_column(sa.String(10))
    poc_discipline: Mapped[Optional[str]] = mapped_column(sa.String(4))
    poc_start: Mapped[Optional[date]]
    poc_end: Mapped[Optional[date]]
    # What a claim needs and the roster does not (issue 14); the payer list is matched by ``payer``.
    sex: Mapped[Optional[str]] = mapped_column(sa.String(1))  # the address: PostalAddressMixin
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    links: Mapped[list[CaregiverLink]] = relationship(
        back_populates="patient", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @orm.validates("first_name", "last_name", "mrn")
    def _names_changed(self, key: str, value):
        if key == "mrn":
            self.mrn_key = mrn_key(value)  # MRNs are unique without regard to case
        return self._refresh_search_key(key, value)


class Caregiver(SearchKeyMixin, TimestampMixin, db.Model):
    __tablename__ = "caregiver"
    __table_args__ = (
        _trigram_index("ix_caregiver_search_key_trgm", "search_key"),
        _trigram_index("ix_caregiver_phone_digits_trgm", "phone_digits"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(80))
    last_name: Mapped[str] = mapped_column(sa.String(80), index=True)
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    phone_digits: Mapped[str] = mapped_column(sa.String(40), default="", index=True)
    email: Mapped[Optional[str]] = mapped_column(sa.String(254))

    links: Mapped[list[CaregiverLink]] = relationship(
        back_populates="caregiver", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @orm.validates("first_name", "last_name")
    def _names_changed(self, key: str, value):
        return self._refresh_search_key(key, value)


class CaregiverLink(unique_pair(caregiver_id="caregiver", patient_id="patient"), db.Model):
    """A caregiver cares for a patient, with a relationship (spouse, son, ...)."""

    __tablename__ = "caregiver_link"
    __table_args__ = (
        sa.UniqueConstraint("caregiver_id", "patient_id"),
        # a patient's caregivers in name order without visiting them (the walk-in search's patient branch)
        sa.Index("ix_caregiver_link_patient_names", "patient_id", "caregiver_last_name", "caregiver_first_name",
                 "caregiver_id"),
    )

    caregiver: Mapped[Caregiver] = orm.relationship(back_populates="links")
    patient: Mapped[Patient] = orm.relationship(back_populates="links")
    relationship: Mapped[str] = mapped_column(sa.String(40), default="")
    # the caregiver's names, copied and kept by the database (migration 0017's triggers), never by the app
    caregiver_last_name: Mapped[str] = mapped_column(sa.String(80), server_default="")
    caregiver_first_name: Mapped[str] = mapped_column(sa.String(80), server_default="")


# --------------------------------------------------------------------------- scheduling


class GroupClass(TimestampMixin, db.Model):
    """A caregiver-training class: a series of sessions for patients with similar needs."""

    __tablename__ = "group_class"
    __table_args__ = (
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint(_in("modality", MODALITIES), name="modality"),
        sa.CheckConstraint(_in("training", TRAININGS), name="training"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    needs: Mapped[list] = mapped_column(sa.JSON, default=list)
    room: Mapped[str] = mapped_column(sa.String(80), default="")
    capacity: Mapped[int]
    facilitator_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("facilitator.id", ondelete="SET NULL"), index=True
    )
    timezone: Mapped[str] = mapped_column(sa.String(64))
    modality: Mapped[str] = mapped_column(sa.String(12), default="in_person")
    place_of_service: Mapped[str] = mapped_column(sa.String(2), default="11")
    # The caregiver-training code family (rule book R17-R21).
    training: Mapped[str] = mapped_column(sa.String(12), default=DEFAULT_TRAINING,
                                          server_default=DEFAULT_TRAINING)
    archived_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # kept for its attendance, no longer run

    facilitator: Mapped[Optional[Facilitator]] = relationship()
    sessions: Mapped[list[ClassSession]] = relationship(
        back_populates="group_class", order_by="ClassSession.starts_at"
    )

    @property
    def training_label(self) -> str:
        return FAMILIES[self.training or DEFAULT_TRAINING].label

    @property
    def training_codes(self) -> str:
        return ", ".join(FAMILIES[self.training or DEFAULT_TRAINING].codes)


class ClassSession(db.Model):
    """One meeting of a class: scheduled, then held or cancelled."""

    __tablename__ = "class_session"
    __table_args__ = (
        sa.CheckConstraint(_in("status", SESSION_STATUSES), name="status"),
        sa.CheckConstraint("ends_at > starts_at", name="scheduled_order"),
        sa.CheckConstraint(
            "actual_start IS NULL OR actual_end IS NULL OR actual_end > actual_start",
            name="actual_order",
        ),
        sa.CheckConstraint(
            "status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancel_has_reason"
        ),
        sa.Index("ix_class_session_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = cascade_fk("group_class")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(10), default="scheduled")
    room: Mapped[Optional[str]] = mapped_column(sa.String(80))  # overrides the class's room
    facilitator_id: Mapped[Optional[int]] = mapped_column(  # planned; overrides the class's
        sa.ForeignKey("facilitator.id", ondelete="SET NULL")
    )
    actual_facilitator_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("facilitator.id", ondelete="SET NULL")
    )
    actual_start: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    actual_end: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[Optional[str]] = mapped_column(sa.String(300))
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE, raised on every change
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # What billing reads from the class, as it was when the session was held (S8): later
    # class edits apply to sessions not yet held. NULL while the session is not held.
    held_modality: Mapped[Optional[str]] = mapped_column(sa.String(12))
    held_place_of_service: Mapped[Optional[str]] = mapped_column(sa.String(2))
    held_timezone: Mapped[Optional[str]] = mapped_column(sa.String(64))
    held_needs: Mapped[Optional[list]] = mapped_column(sa.JSON)
    held_training: Mapped[Optional[str]] = mapped_column(sa.String(12))  # the code family (R17-R21)

    group_class: Mapped[GroupClass] = relationship(back_populates="sessions")
    planned_facilitator: Mapped[Optional[Facilitator]] = relationship(foreign_keys=[facilitator_id])
    actual_facilitator: Mapped[Optional[Facilitator]] = relationship(
        foreign_keys=[actual_facilitator_id]
    )

    @property
    def effective_room(self) -> str:
        return self.room if self.room is not None else self.group_class.room

    @property
    def effective_facilitator_id(self) -> Optional[int]:
        return self.facilitator_id if self.facilitator_id is not None else self.group_class.facilitator_id

    @property
    def held_training_label(self) -> Optional[str]:
        """The training family a held session is billed as (S8), when its class has changed since."""
        if self.held_training is None or self.held_training == self.group_class.training:
            return None
        return FAMILIES[self.held_training].label

    @property
    def effective_facilitator(self) -> Optional[Facilitator]:
        """The facilitator planned for this session, else the class's (load both to avoid queries)."""
        return self.planned_facilitator or self.group_class.facilitator


class Enrollment(TimestampMixin, db.Model):
    """A patient's caregiver set in a class. A patient is in a class at most once."""

    __tablename__ = "enrollment"
    __table_args__ = (
        sa.UniqueConstraint("class_id", "patient_id"),
        sa.CheckConstraint(_in("status", ENROLLMENT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = cascade_fk("group_class")
    patient_id: Mapped[int] = cascade_fk("patient")
    status: Mapped[str] = mapped_column(sa.String(12))
    position: Mapped[int] = mapped_column(default=0)  # order on the waitlist
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    group_class: Mapped[GroupClass] = relationship()
    patient: Mapped[Patient] = relationship()
    members: Mapped[list[EnrollmentCaregiver]] = relationship(
        back_populates="enrollment", cascade="all, delete-orphan"
    )

    @property
    def seats(self) -> int:
        return len(self.members)


class EnrollmentCaregiver(unique_pair(enrollment_id="enrollment", caregiver_id="caregiver"), db.Model):
    """One caregiver of an enrolment's caregiver set."""

    __tablename__ = "enrollment_caregiver"

    enrollment: Mapped[Enrollment] = relationship(back_populates="members")
    caregiver: Mapped[Caregiver] = relationship()


# Check-ins and patient presence live in roster/attendance_models.py; re-exported here.
from roster.attendance_models import CheckIn, PatientPresence  # noqa: E402,F401


# Billing lines, findings, export batches, unit caps, the audit trail and background jobs live in
# roster/billing_models.py; re-exported here.
from roster.billing_models import (  # noqa: E402,F401
    JOB_STATUSES, AuditEvent, BillingDayTotal, BillingExportTotal, BillingLine, ExportBatch, Finding, Job, UnitCap,
)


# Claim settings and claim records live beside this module (one metadata).
from roster.claim_models import (  # noqa: E402,F401
    Claim,
    ClaimFile,
    ClaimSettings,
    ControlCounter,
    Fee,
    Hl7Message,
    LineCharge,
    Payer,
    PreflightTally,
)
