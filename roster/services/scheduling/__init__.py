"""Classes, sessions and enrolment (capacity in caregiver seats, waitlist).

A package by responsibility; callers keep writing ``scheduling.create_class(...)``:

- ``classes``: validate a class and plan its sessions, create and update it;
- ``sessions``: add, move, cancel and look up sessions;
- ``conflicts``: double bookings of a room or a facilitator;
- ``enrolment``: caregiver sets in classes, seats and the waitlist;
- ``pages``: read-only page data in a fixed number of queries.
"""

from roster.domain.recurrence import utc_to_local
from roster.services.scheduling.classes import (
    CLASS_AUDIT_FIELDS,
    MAX_SESSIONS,
    NewClass,
    PlannedSession,
    archive_class,
    create_class,
    delete_class,
    has_attendance,
    plan_sessions,
    update_class,
    validate_class,
)
from roster.services.scheduling.conflicts import check_conflicts, find_conflict
from roster.services.scheduling.enrolment import (
    EnrollResult,
    class_roster,
    enroll,
    find_enrollment,
    move_into_class,
    promote_waiting,
    seats_taken,
    withdraw,
)
from roster.services.scheduling.pages import (
    ClassPage,
    ClassSummary,
    class_page,
    class_summaries,
    patient_for_enrolment,
)
from roster.services.scheduling.sessions import (
    SESSION_AUDIT_FIELDS,
    add_session,
    cancel_session,
    edit_session,
    get_session,
    local_day_bounds,
    overlap_params,
    overlapping,
    overlapping_bound,
)
from roster.services.validation import parse_local, valid_timezone

__all__ = [
    "CLASS_AUDIT_FIELDS", "MAX_SESSIONS", "SESSION_AUDIT_FIELDS", "ClassPage", "ClassSummary", "EnrollResult",
    "NewClass", "PlannedSession", "add_session", "archive_class", "cancel_session", "check_conflicts", "class_page", "class_roster",
    "class_summaries", "create_class", "delete_class", "edit_session", "enroll", "find_conflict", "find_enrollment", "get_session",
    "has_attendance",
    "local_day_bounds", "move_into_class", "parse_local", "patient_for_enrolment", "plan_sessions", "promote_waiting",
    "seats_taken", "overlap_params", "overlapping", "overlapping_bound", "update_class", "utc_to_local", "valid_timezone", "validate_class",
    "withdraw",
]
