"""Attendance: who came to a session (check-ins) and patients who came along (presence).

Re-exported by ``roster.models``; import them from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from roster.extensions import db
from roster.model_base import UTCDateTime, cascade_fk, unique_pair, utcnow

if TYPE_CHECKING:
    from roster.models import Caregiver, Patient, User


class CheckIn(db.Model):
    """A caregiver came to a session for a patient. Never twice (unique)."""

    __tablename__ = "check_in"
    __table_args__ = (sa.UniqueConstraint("session_id", "caregiver_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique constraint's index (session_id first) serves look-ups by session
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("class_session.id", ondelete="CASCADE"))
    caregiver_id: Mapped[int] = cascade_fk("caregiver")
    patient_id: Mapped[int] = cascade_fk("patient")
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_in_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    walk_in: Mapped[bool] = mapped_column(default=False)

    caregiver: Mapped[Caregiver] = relationship()
    patient: Mapped[Patient] = relationship()
    checked_in_by: Mapped[Optional[User]] = relationship()
    # The caregiver's relationship to the patient at check-in (S9): later link edits keep it.
    # (Last: the name shadows relationship() in the class body.)
    relationship: Mapped[str] = mapped_column(sa.String(40), default="")


class PatientPresence(unique_pair(session_id="class_session", patient_id="patient"), db.Model):
    """The patient came along to the session: their caregivers' training is not billed."""

    __tablename__ = "patient_presence"

    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    marked_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    patient: Mapped[Patient] = relationship()
