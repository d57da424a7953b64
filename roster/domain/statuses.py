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
