"""Billing: map sessions to rule facts, evaluate, reconcile lines, export rosters.

Lines are derived from the facts (R15): re-evaluating unchanged facts leaves
every line as it is. The package splits the work by responsibility:

- `facts`: held sessions and their rows -> the pure core's frozen facts
- `evaluate`: which sessions a change touches; evaluate them together (R9)
- `locks`: the row locks re-evaluation takes on PostgreSQL (patients, sessions, lines)
- `reconcile`: stored lines and findings follow a fresh evaluation (R14-R16)
- `reading`: line and finding dictionaries, a session's billing, ranges
- `export`: export batches and their roster CSV (R16)
- `review`: the biller's review page data

Every public name stays importable from ``roster.services.billing``.
"""

from roster.services.billing.evaluate import (
    SHOWN_TO_OTHERS,
    facts_changed,
    reevaluate_for_caregiver,
    reevaluate_for_facilitator,
    reevaluate_for_patients,
    reevaluate_sessions,
)
from roster.services.billing.export import (
    CSV_CHUNK,
    ExportPage,
    export_history,
    export_page,
    export_range,
    iter_batch_csv,
)
from roster.services.billing.facts import (
    HELD_FROM_CLASS,
    class_fact,
    class_facts_to_keep,
    date_of_service,
    forget_class_facts,
    load_facts,
    session_timezone,
)
from roster.services.billing.locks import enter_gate, lock_before_change
from roster.services.billing.reading import (
    MAX_RANGE_DAYS,
    SessionAnswer,
    finding_dict,
    line_dict,
    lines_between,
    parse_range,
    range_problems,
    session_billing,
)
from roster.services.billing.reconcile import LINE_CONTENT
from roster.services.billing.review import (
    LINE_STATUS_ORDER,
    NO_FACILITATOR_LABEL,
    Review,
    SessionFinding,
    Total,
    review,
    session_findings_without_lines,
)

__all__ = [
    "HELD_FROM_CLASS", "SHOWN_TO_OTHERS", "class_fact", "class_facts_to_keep", "facts_changed", "enter_gate", "lock_before_change", "forget_class_facts",
    "session_timezone",
    "CSV_CHUNK", "LINE_CONTENT", "LINE_STATUS_ORDER", "MAX_RANGE_DAYS", "NO_FACILITATOR_LABEL",
    "ExportPage", "Review", "SessionAnswer", "SessionFinding", "Total",
    "date_of_service", "export_history", "export_page", "export_range", "finding_dict",
    "iter_batch_csv", "line_dict", "lines_between", "load_facts", "parse_range", "range_problems",
    "reevaluate_for_caregiver", "reevaluate_for_facilitator", "reevaluate_for_patients",
    "reevaluate_sessions", "review", "session_billing", "session_findings_without_lines",
]
