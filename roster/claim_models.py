"""What claims need beyond the roster: the clinic's billing settings, its payer
list and fee schedule, and what Roster keeps of every claim file and charge
message it made (control numbers, claim identity, send status).

Imported at the end of ``roster.models``; one metadata, one migration history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from roster.domain.families import FAMILIES
from roster.extensions import db
from roster.domain.statuses import ClaimFrequency, MessageStatus
from roster.model_base import PerCodeMixin, PostalAddressMixin, positive
from roster.models import ExportBatch, Patient, TimestampMixin, User, UTCDateTime, _in, utcnow

X12_USAGE = ("T", "P")
CLAIM_FREQUENCIES = tuple(ClaimFrequency)  # the CHECK constraints, same text as before
HL7_STATUSES = tuple(MessageStatus)


class ClaimSettings(PostalAddressMixin, db.Model):
    """The clinic as the billing provider, and where its claims and charges go. One row (id 1).

    Not to be confused with ``ClinicSetting`` (roster/account_models.py, the two-factor switch): the
    class was called ``ClinicSettings`` until issue 14's second session; its table keeps that name
    (``clinic_settings``), so no migration was needed."""

    __tablename__ = "clinic_settings"
    __table_args__ = (
        sa.CheckConstraint(_in("x12_usage", X12_USAGE), name="x12_usage"),
        sa.CheckConstraint("hl7_port IS NULL OR (hl7_port > 0 AND hl7_port < 65536)", name="hl7_port"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_name: Mapped[str] = mapped_column(sa.String(60), default="")
    npi: Mapped[str] = mapped_column(sa.String(10), default="")
    tax_id: Mapped[str] = mapped_column(sa.String(9), default="")  # EIN, 9 digits
    taxonomy: Mapped[str] = mapped_column(sa.String(10), default="")  # the address: PostalAddressMixin
    contact_name: Mapped[str] = mapped_column(sa.String(60), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    submitter_id: Mapped[str] = mapped_column(sa.String(15), default="")
    receiver_id: Mapped[str] = mapped_column(sa.String(15), default="")
    receiver_name: Mapped[str] = mapped_column(sa.String(60), default="")
    x12_usage: Mapped[str] = mapped_column(sa.String(1), default="T")
    hl7_host: Mapped[str] = mapped_column(sa.String(255), default="")
    hl7_port: Mapped[Optional[int]]
    hl7_receiving_application: Mapped[str] = mapped_column(sa.String(40), default="")
    hl7_receiving_facility: Mapped[str] = mapped_column(sa.String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Payer(TimestampMixin, db.Model):
    """A payer on the clinic's list. Patients name their payer; the list is matched by name,
    whatever the case (``name_key`` is the folded name and is unique)."""

    __tablename__ = "payer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    name_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    payer_id: Mapped[str] = mapped_column(sa.String(80), default="")
    claim_filing_indicator: Mapped[str] = mapped_column(sa.String(2), default="MB")
    # Its profile (rule book R17-R21): the first date of service telehealth is covered / verbal
    # consent counts (None: never), and the code families it covers. Billing reads it through
    # roster.services.billing.policy; a payer not on the list is billed by Medicare's answers.
    telehealth_from: Mapped[Optional[date]]
    verbal_consent_from: Mapped[Optional[date]]
    families: Mapped[list] = mapped_column(sa.JSON, default=lambda: ["functional", "direct_care", "behavior"])

    @property
    def families_label(self) -> str:
        """The caregiver training it covers, as a biller reads it."""
        return ", ".join(FAMILIES[f].label for f in self.families or () if f in FAMILIES) or "None"


class Fee(PerCodeMixin, db.Model):
    """The clinic's charge for one unit of a code, in cents."""

    __tablename__ = "fee"

    charge_cents: Mapped[int] = positive("charge_cents", "charge_positive")


class ControlCounter(db.Model):
    """A number that only goes up, taken with one atomic UPDATE (X12 interchange, HL7 message ids)."""

    __tablename__ = "control_counter"

    name: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class LineCharge(db.Model):
    """A billing line's charge, fixed the first time it goes on a claim or a charge message, so a
    later void or replacement repeats it whatever the fee schedule says by then."""

    __tablename__ = "line_charge"
    __table_args__ = (sa.CheckConstraint("charge_cents >= 0", name="charge_not_negative"),)

    billing_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("billing_line.id", ondelete="RESTRICT"), primary_key=True
    )
    charge_cents: Mapped[int]


class Claim(TimestampMixin, db.Model):
    """One claim Roster wrote: a patient's date of service in an export batch.

    ``control_number`` is the claim's CLM01; a replacement (7) or void (8)
    names the claim it corrects in ``original_claim_id``. ``content`` is the
    claim as written (a later void repeats it). A batch holds at most one claim
    of each frequency per patient's date of service: a corrected claim identity
    (S6) travels as a void (8) of what was sent and a new original (1).
    """

    __tablename__ = "claim"
    __table_args__ = (
        sa.UniqueConstraint("export_batch_id", "patient_id", "date_of_service", "frequency_code",
                            name="uq_claim_batch_visit_frequency"),
        sa.CheckConstraint(_in("frequency_code", CLAIM_FREQUENCIES), name="frequency_code"),
        sa.Index("ix_claim_patient_dos", "patient_id", "date_of_service"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    export_batch_id: Mapped[int] = mapped_column(sa.ForeignKey("export_batch.id", ondelete="RESTRICT"))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id", ondelete="RESTRICT"))
    date_of_service: Mapped[date]
    frequency_code: Mapped[str] = mapped_column(sa.String(1))
    control_number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    original_claim_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("claim.id", ondelete="RESTRICT"))
    total_cents: Mapped[int] = mapped_column(default=0)
    content: Mapped[dict] = mapped_column(sa.JSON)

    patient: Mapped[Patient] = relationship()
    original: Mapped[Optional[Claim]] = relationship(remote_side=[id])


class ClaimFile(TimestampMixin, db.Model):
    """The 837P interchange made for an export batch, kept as written (a later download repeats it)."""

    __tablename__ = "claim_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("export_batch.id", ondelete="RESTRICT"), unique=True
    )
    interchange_number: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    content: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    batch: Mapped[ExportBatch] = relationship()
    created_by: Mapped[Optional[User]] = relationship()


class Hl7Message(TimestampMixin, db.Model):
    """One DFT^P03 charge message (a patient's visit in an export batch) and how its send went.

    A visit is one message, or more when its lines carry different claim identities (S6: a credit
    of what was sent under the old member id or name, a charge under the corrected one); ``part``
    numbers them (0, 1, ...)."""

    __tablename__ = "hl7_message"
    __table_args__ = (
        sa.UniqueConstraint("export_batch_id", "patient_id", "date_of_service", "part",
                            name="uq_hl7_message_batch_visit_part"),
        sa.CheckConstraint(_in("status", HL7_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    export_batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("export_batch.id", ondelete="RESTRICT"), index=True
    )
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id", ondelete="RESTRICT"))
    date_of_service: Mapped[date]
    part: Mapped[int] = mapped_column(default=0, server_default="0")
    control_id: Mapped[str] = mapped_column(sa.String(20), unique=True)
    content: Mapped[str] = mapped_column(sa.Text)
    line_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(12), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[Optional[str]] = mapped_column(sa.Text)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship()


class PreflightTally(db.Model):
    """What an export batch's new rows carry that the claim preflight looks at, counted once (the first
    time the batch page asks; services/preflight_summary.py): one row per patient (lines, and lines whose
    kept row lacks a date of birth, member id, payer or diagnosis), per payer name, per code and per
    rendering NPI and facilitator, and one ``all`` row (the batch is counted). A batch's new rows never
    change after the export; what does (the patient's address and sex, payers, fees, settings, fixed
    charges, void rows) is read as it is on every page."""

    __tablename__ = "preflight_tally"

    export_batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("export_batch.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8), primary_key=True)  # patient, payer, code, npi, all
    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    patient_id: Mapped[Optional[int]]
    payer: Mapped[Optional[str]] = mapped_column(sa.String(80))
    cpt: Mapped[Optional[str]] = mapped_column(sa.String(5))
    npi: Mapped[Optional[str]] = mapped_column(sa.String(10))
    facilitator_id: Mapped[Optional[int]]
    lines: Mapped[int]
    row_held: Mapped[int]
    no_dob: Mapped[int]
    no_member_id: Mapped[int]
    no_payer: Mapped[int]
    no_diagnosis: Mapped[int]
