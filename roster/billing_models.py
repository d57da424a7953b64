"""Billing lines and their findings, export batches, unit caps (R21), the audit trail and background jobs.

Re-exported by ``roster.models``; import them from there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from roster.domain.statuses import JobStatus
from roster.extensions import db
from roster.model_base import PerCodeMixin, TimestampMixin, UTCDateTime, _in, cascade_fk, positive, utcnow
from roster.models import LINE_STATUSES, SEVERITIES

if TYPE_CHECKING:
    from roster.models import ClassSession, Facilitator, Patient, User


# --------------------------------------------------------------------------- billing


class ExportBatch(TimestampMixin, db.Model):
    __tablename__ = "export_batch"
    __table_args__ = (sa.CheckConstraint("date_from <= date_to", name="range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    date_from: Mapped[date]
    date_to: Mapped[date]
    row_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    created_by: Mapped[Optional[User]] = relationship()


class BillingLine(TimestampMixin, db.Model):
    """One claim line derived from a held session. Exported lines are never edited."""

    __tablename__ = "billing_line"
    __table_args__ = (
        sa.CheckConstraint(_in("status", LINE_STATUSES), name="status"),
        sa.CheckConstraint("units > 0", name="units_positive"),
        sa.CheckConstraint(
            "status NOT IN ('exported') OR export_batch_id IS NOT NULL", name="exported_has_batch"
        ),
        # One live line per patient and code in a session; void lines are history.
        sa.Index(
            "uq_billing_line_live",
            "session_id",
            "patient_id",
            "cpt",
            unique=True,
            sqlite_where=sa.text("status <> 'void'"),
            postgresql_where=sa.text("status <> 'void'"),
        ),
        # the review's counts and totals of a range read this index alone (no table rows)
        sa.Index("ix_billing_line_totals", "date_of_service", "status", "cpt", "facilitator_id", "units"),
        # A batch's lines and voids are found by these; a line outside a batch has no entry (a line is
        # written without them, and an export's claim, which rewrites every line it takes, writes one
        # index entry fewer). Every reader asks for a batch (`= :id`), which implies IS NOT NULL.
        sa.Index("ix_billing_line_export_batch_id", "export_batch_id",
                 sqlite_where=sa.text("export_batch_id IS NOT NULL"),
                 postgresql_where=sa.text("export_batch_id IS NOT NULL")),
        sa.Index("ix_billing_line_void_batch_id", "void_batch_id",
                 sqlite_where=sa.text("void_batch_id IS NOT NULL"),
                 postgresql_where=sa.text("void_batch_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("class_session.id", ondelete="RESTRICT"), index=True
    )
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id", ondelete="RESTRICT"), index=True)
    date_of_service: Mapped[date]
    cpt: Mapped[str] = mapped_column(sa.String(5))
    units: Mapped[int]
    modifiers: Mapped[list] = mapped_column(sa.JSON, default=list)
    place_of_service: Mapped[str] = mapped_column(sa.String(2))
    diagnosis_codes: Mapped[list] = mapped_column(sa.JSON, default=list)
    rendering_npi: Mapped[Optional[str]] = mapped_column(sa.String(10))
    facilitator_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("facilitator.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(sa.String(10))
    export_batch_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("export_batch.id", ondelete="RESTRICT"))
    voided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    void_batch_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("export_batch.id", ondelete="RESTRICT"))
    # The patient's claim identity the line was derived with (S6): a change voids an exported line.
    patient_mrn: Mapped[Optional[str]] = mapped_column(sa.String(40))
    patient_last_name: Mapped[Optional[str]] = mapped_column(sa.String(80))
    patient_first_name: Mapped[Optional[str]] = mapped_column(sa.String(80))
    patient_dob: Mapped[Optional[date]]
    payer: Mapped[Optional[str]] = mapped_column(sa.String(80))
    member_id: Mapped[Optional[str]] = mapped_column(sa.String(40))
    # The roster row exactly as exported: later downloads and the void row repeat it unchanged.
    exported_row: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[ClassSession] = relationship()
    patient: Mapped[Patient] = relationship()
    facilitator: Mapped[Optional[Facilitator]] = relationship()
    findings: Mapped[list[Finding]] = relationship(
        back_populates="line", order_by="Finding.id", passive_deletes=True
    )


class Finding(db.Model):
    """What the rules found about a session or one of its lines."""

    __tablename__ = "finding"
    __table_args__ = (sa.CheckConstraint(_in("severity", SEVERITIES), name="severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = cascade_fk("class_session")
    line_id: Mapped[Optional[int]] = cascade_fk("billing_line")
    patient_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("patient.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(40))
    severity: Mapped[str] = mapped_column(sa.String(5))
    rule: Mapped[str] = mapped_column(sa.String(4))
    message: Mapped[str] = mapped_column(sa.Text)
    # the session's date of service as evaluated (its line's, for a finding on a line), written with the
    # finding: the review finds a range's findings by it without looking up each one's line or session
    date_of_service: Mapped[date] = mapped_column(index=True)

    line: Mapped[Optional[BillingLine]] = relationship(back_populates="findings")
    patient: Mapped[Optional[Patient]] = relationship()


class BillingDayTotal(db.Model):
    """The lines and units of a day of service by status, code and facilitator (0: none recorded),
    kept by the writers of lines in their transaction, so the review's totals of a year read a few
    thousand sums instead of every line (issue 12; ``services/billing/day_totals.py``).

    The export's step from ready to exported is not written here (a year's export would rewrite the
    sums of every day it takes, and hold them locked until it commits): each export adds what it took
    to ``BillingExportTotal`` instead."""

    __tablename__ = "billing_day_total"
    __table_args__ = {"sqlite_with_rowid": False}  # the sums sit in the key's own B-tree (no row look-ups)

    date_of_service: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    cpt: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 0: none recorded
    lines: Mapped[int]
    units: Mapped[int]


class BillingExportTotal(db.Model):
    """The lines and units an export batch took from ready to exported, by day, code and facilitator
    (0: none): written once by the export, never changed (see ``BillingDayTotal``)."""

    __tablename__ = "billing_export_total"
    __table_args__ = (sa.Index("ix_billing_export_total_day", "date_of_service"),)

    export_batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("export_batch.id", ondelete="RESTRICT"), primary_key=True)
    date_of_service: Mapped[date] = mapped_column(primary_key=True)
    cpt: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    lines: Mapped[int]
    units: Mapped[int]


class UnitCap(PerCodeMixin, db.Model):
    """R21: the clinic's cap on a code's units per patient per date of service (a Medically
    Unlikely Edit). No row: no cap."""

    __tablename__ = "unit_cap"

    max_units: Mapped[int] = positive("max_units", "max_units_positive")


# --------------------------------------------------------------------------- audit


class AuditEvent(db.Model):
    """Who changed what, when, with the state before and after."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(254), default="")
    action: Mapped[str] = mapped_column(sa.String(60))
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[Optional[int]]
    session_id: Mapped[Optional[int]] = mapped_column(index=True)  # context, not a foreign key
    before: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    after: Mapped[Optional[dict]] = mapped_column(sa.JSON)

    actor: Mapped[Optional[User]] = relationship()


# --------------------------------------------------------------------------- background jobs

JOB_STATUSES = tuple(JobStatus)  # the CHECK constraint, same text as before


class Job(TimestampMixin, db.Model):
    """Work too long for a request (an export of a year), queued in the database itself.

    `flask roster worker` claims queued jobs (SKIP LOCKED on PostgreSQL); with SQLite
    the web process runs a job in a thread once queued (see roster/services/jobs.py).
    """

    __tablename__ = "job"
    __table_args__ = (
        sa.CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        sa.Index("ix_job_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(10), default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(sa.String(300), default="")
    result: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    created_by: Mapped[Optional[User]] = relationship()
