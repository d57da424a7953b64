"""The caregiver-training rule book (CPT 97550, 97551, 97552) as pure functions.

Everything here works on frozen facts handed in by the caller: no Flask, no
database, no clock, no I/O. The same facts always give the same `Evaluation`
(R15). Rule ids (R1, R2, ...) refer to ``shared/spec/billing-rules.md``; the
payer-variable choices live in one place, `BillingPolicy`.

Entry points:

- `evaluate_session(facts, policy, earlier_same_day)` -> `Evaluation`
- `evaluate_day(sessions, policy)` -> ``{session_id: Evaluation}`` (R9 across sessions)
- `individual_codes(minutes, policy)` -> the R2 time ladder

Modules: `facts` (dataclasses, finding codes, policy), `ladders` (R2),
`modifiers` (R5, R12 place of service), `findings` (R1, R3-R12 checks),
`evaluate` (sessions and days). Every public name stays importable from
``roster.domain.billing``.
"""

# the finding codes (FINDING_CODES lists them all)
from roster.domain.billing.facts import FINDING_CODES, CODE_NOT_EFFECTIVE, CONSENT_VERBAL_PRE_2025
from roster.domain.billing.facts import DISCIPLINE_NOT_ELIGIBLE, DUPLICATE_SAME_DAY, INVALID_NPI, MUE_EXCEEDED
from roster.domain.billing.facts import NEEDS_MISMATCH, NOT_COVERED_BY_PAYER, NO_ACTUAL_TIMES, NO_CONSENT
from roster.domain.billing.facts import NO_DIAGNOSIS, NO_FACILITATOR, OUTSIDE_PLAN_OF_CARE, PATIENT_PRESENT
from roster.domain.billing.facts import SHARED_CAREGIVER, SINGLE_CAREGIVER_SET, TELEHEALTH_NOT_COVERED
from roster.domain.billing.facts import UNDER_MINIMUM_TIME
# severities, policy, the facts handed in and the evaluation handed back
from roster.domain.billing.facts import BLOCK, WARN, TELEHEALTH, DEFAULT_POLICY, BillingPolicy, CheckInFacts
from roster.domain.billing.facts import Evaluation, FacilitatorFacts, Finding, LineDraft, PatientFacts, SameDayLine
from roster.domain.billing.facts import SessionFacts
from roster.domain.billing.ladders import (
    individual_codes,
)
from roster.domain.billing.modifiers import (
    line_modifiers,
    place_of_service,
)
from roster.domain.billing.findings import (
    represented_patients,
)
from roster.domain.billing.evaluate import (
    evaluate_day,
    evaluate_session,
)

__all__ = [
    "BLOCK",
    "CODE_NOT_EFFECTIVE",
    "DISCIPLINE_NOT_ELIGIBLE",
    "MUE_EXCEEDED",
    "NOT_COVERED_BY_PAYER",
    "CONSENT_VERBAL_PRE_2025",
    "DEFAULT_POLICY",
    "DUPLICATE_SAME_DAY",
    "FINDING_CODES",
    "INVALID_NPI",
    "NEEDS_MISMATCH",
    "NO_ACTUAL_TIMES",
    "NO_CONSENT",
    "NO_DIAGNOSIS",
    "NO_FACILITATOR",
    "OUTSIDE_PLAN_OF_CARE",
    "PATIENT_PRESENT",
    "SHARED_CAREGIVER",
    "SINGLE_CAREGIVER_SET",
    "TELEHEALTH",
    "TELEHEALTH_NOT_COVERED",
    "UNDER_MINIMUM_TIME",
    "WARN",
    "BillingPolicy",
    "CheckInFacts",
    "Evaluation",
    "FacilitatorFacts",
    "Finding",
    "LineDraft",
    "PatientFacts",
    "SameDayLine",
    "SessionFacts",
    "individual_codes",
    "line_modifiers",
    "place_of_service",
    "represented_patients",
    "evaluate_day",
    "evaluate_session",
]
