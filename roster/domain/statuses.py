"""The states a session, an enrolment, a billing line and a background job go through: one name each, used by the models'
CHECK constraints, the services and the pure core (a ``StrEnum`` member equals its text)."""

from enum import StrEnum


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"  # closed: attendance and the facilitator who ran it are recorded; billing reads it
    CANCELLED = "cancelled"


class EnrollmentStatus(StrEnum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"


class LineStatus(StrEnum):
    READY = "ready"
    HELD = "held"  # a blocking finding keeps it out of exports
    EXPORTED = "exported"
    VOID = "void"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class MessageStatus(StrEnum):
    """An HL7 charge message on its way to the interface engine."""

    PENDING = "pending"  # not sent yet, or the engine could not be reached
    SENDING = "sending"  # taken by a sender, waiting for the ACK (a stale one is taken again)
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"  # with the engine's words; re-sent after a fix


class ClaimFrequency(StrEnum):
    """CLM05-3, the claim frequency type code."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"
