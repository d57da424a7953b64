"""Facts in, results out: the frozen dataclasses of the rule book, its finding codes and policy.

Rule ids (R1, R2, ...) refer to ``shared/spec/billing-rules.md``; the
payer-variable choices live in one place, `BillingPolicy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import date
from types import MappingProxyType

from roster.domain.families import (
    CODE_NOT_EFFECTIVE,
    DEFAULT_TRAINING,
    DISCIPLINE_NOT_ELIGIBLE,
    FAMILIES,
    FAMILY_FINDING_CODES,
    FUNCTIONAL,
    MUE_EXCEEDED,
    NOT_COVERED_BY_PAYER,
    Family,
    Ladder,
    PayerProfile,
)
from roster.domain.line_coding import LineCoding
from roster.domain.statuses import LineStatus

BLOCK = "block"
WARN = "warn"

TELEHEALTH = "telehealth"

# --------------------------------------------------------------------------
# Finding codes: code -> (severity, rule)
# --------------------------------------------------------------------------

SINGLE_CAREGIVER_SET = "SINGLE_CAREGIVER_SET"
UNDER_MINIMUM_TIME = "UNDER_MINIMUM_TIME"
NO_ACTUAL_TIMES = "NO_ACTUAL_TIMES"  # Roster's own code (not in the rule book's table)
PATIENT_PRESENT = "PATIENT_PRESENT"
NO_FACILITATOR = "NO_FACILITATOR"
INVALID_NPI = "INVALID_NPI"
NO_CONSENT = "NO_CONSENT"
CONSENT_VERBAL_PRE_2025 = "CONSENT_VERBAL_PRE_2025"
OUTSIDE_PLAN_OF_CARE = "OUTSIDE_PLAN_OF_CARE"
NO_DIAGNOSIS = "NO_DIAGNOSIS"
DUPLICATE_SAME_DAY = "DUPLICATE_SAME_DAY"
NEEDS_MISMATCH = "NEEDS_MISMATCH"
SHARED_CAREGIVER = "SHARED_CAREGIVER"
TELEHEALTH_NOT_COVERED = "TELEHEALTH_NOT_COVERED"

FINDING_CODES: Mapping[str, tuple[str, str]] = MappingProxyType({
    SINGLE_CAREGIVER_SET: (WARN, "R2"),
    UNDER_MINIMUM_TIME: (WARN, "R2"),
    NO_ACTUAL_TIMES: (BLOCK, "R2"),
    PATIENT_PRESENT: (WARN, "R3"),
    NO_FACILITATOR: (BLOCK, "R4"),
    INVALID_NPI: (BLOCK, "R4"),
    NO_CONSENT: (BLOCK, "R6"),
    CONSENT_VERBAL_PRE_2025: (WARN, "R6"),
    OUTSIDE_PLAN_OF_CARE: (BLOCK, "R7"),
    NO_DIAGNOSIS: (BLOCK, "R8"),
    DUPLICATE_SAME_DAY: (WARN, "R9"),
    NEEDS_MISMATCH: (WARN, "R10"),
    SHARED_CAREGIVER: (WARN, "R11"),
    TELEHEALTH_NOT_COVERED: (BLOCK, "R12"),
    # R19-R21 and payer profiles (roster.domain.families)
    **FAMILY_FINDING_CODES,
})



# --------------------------------------------------------------------------
# Facts (input)
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class FacilitatorFacts:
    id: int
    name: str
    discipline: str  # PT PTA OT OTA SLP MD DO NP PA CNS PSY CSW
    npi: str


@dataclass(frozen=True)
class PatientFacts:
    id: int
    mrn: str
    first_name: str
    last_name: str
    needs: frozenset[str] = frozenset()
    diagnosis_codes: tuple[str, ...] = ()
    consent_date: date | None = None
    consent_kind: str | None = None  # "written" | "verbal"
    poc_discipline: str | None = None  # PT | OT | SLP
    poc_start: date | None = None
    poc_end: date | None = None
    # The patient's payer's own answers (telehealth, verbal consent, families); None: Medicare's.
    payer_profile: PayerProfile | None = None
    # The rest of the claim identity (S6); MRN and names above are part of it too.
    dob: date | None = None
    payer: str = ""
    member_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "needs", frozenset(self.needs))
        object.__setattr__(self, "diagnosis_codes", tuple(self.diagnosis_codes))

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.mrn})"


@dataclass(frozen=True)
class CheckInFacts:
    caregiver_id: int
    patient_id: int


@dataclass(frozen=True)
class SessionFacts:
    session_id: int
    status: str  # a SessionStatus
    date_of_service: date  # local date in the class's time zone
    minutes: int | None  # actual end - actual start, whole minutes; None if unknown
    modality: str  # "in_person" | "telehealth"
    place_of_service: str  # the class's POS code
    class_needs: frozenset[str]
    facilitator: FacilitatorFacts | None
    # Every patient referenced by checkins or present_patient_ids. Compared, not hashed.
    patients: Mapping[int, PatientFacts] = field(hash=False)
    checkins: tuple[CheckInFacts, ...]
    present_patient_ids: frozenset[int] = frozenset()
    # Order of sessions within a day (R9, S3): the service gives the actual start instant;
    # equal keys go by session id (the higher id is the later session).
    sort_key: tuple = ()
    training: str = DEFAULT_TRAINING  # the code family the session was held with (R17-R21)

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_needs", frozenset(self.class_needs))
        object.__setattr__(self, "checkins", tuple(self.checkins))
        object.__setattr__(self, "present_patient_ids", frozenset(self.present_patient_ids))


@dataclass(frozen=True)
class SameDayLine:
    """A line of a held session that is not being evaluated now, for R9: its date of service,
    its session's place in the day (the session's `sort_key`) and its (patient_id, cpt)."""

    date_of_service: date
    sort_key: tuple
    session_id: int
    key: tuple[int, str]
    units: int = 1  # for the unit caps of R21


# --------------------------------------------------------------------------
# Results (output)
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # BLOCK | WARN
    rule: str  # "R4"
    patient_id: int | None
    message: str  # one sentence for a biller: who, what is wrong, what to fix


@dataclass(frozen=True)
class LineDraft(LineCoding):
    """A patient's line as the rule book makes it: its coding and the findings on it."""

    patient_id: int
    findings: tuple[Finding, ...]

    @property
    def status(self) -> str:
        """R14: held while any block finding applies, otherwise ready."""
        return LineStatus.HELD if any(f.severity == BLOCK for f in self.findings) else LineStatus.READY

    @property
    def key(self) -> tuple[int, str]:
        """Identity of a line within a session."""
        return (self.patient_id, self.cpt)


@dataclass(frozen=True)
class Evaluation:
    session_id: int
    lines: tuple[LineDraft, ...]  # by patient MRN, then CPT
    findings: tuple[Finding, ...]  # every finding of the session, once each


# --------------------------------------------------------------------------
# Policy: the payer-variable choices, in one place
# --------------------------------------------------------------------------

def _frozen_mapping(**items: str) -> MappingProxyType:
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class BillingPolicy:
    min_group_patients: int = 2
    # R2/R17 time ladder of every family's individual codes (CPT midpoint rule): under 16 min
    # nothing; 16-37 -> initial; from 38 min initial plus add-on x floor((minutes - 23) / 15).
    initial_min_minutes: int = 16
    additional_from_minutes: int = 38
    additional_base_minutes: int = 23
    additional_step_minutes: int = 15
    # R6: verbal consent is accepted for dates of service from this day on.
    verbal_consent_ok_from: date = date(2025, 1, 1)
    # R12: first date of service on the Medicare telehealth list.
    telehealth_covered_from: date = date(2025, 1, 1)
    telehealth_default_pos: str = "02"
    telehealth_allowed_pos: frozenset[str] = frozenset({"02", "10"})
    telehealth_modifier: str = "95"
    # R5: therapy modifier by discipline (also used for the plan-of-care discipline).
    discipline_modifiers: Mapping[str, str] = field(
        default_factory=lambda: _frozen_mapping(PT="GP", PTA="GP", OT="GO", OTA="GO", SLP="GN"),
        hash=False,
    )
    assistant_modifiers: Mapping[str, str] = field(
        default_factory=lambda: _frozen_mapping(PTA="CQ", OTA="CO"),
        hash=False,
    )
    # Physicians and non-physician practitioners: modifier from the plan of care.
    practitioner_disciplines: frozenset[str] = frozenset({"MD", "DO", "NP", "PA", "CNS"})
    # R17-R20: the code families as data (codes, group ladder, first DOS, disciplines).
    families: Mapping[str, Family] = field(default_factory=lambda: FAMILIES, hash=False)
    # R21: the clinic's unit caps per code per patient per date of service (empty: no cap).
    unit_caps: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @cached_property  # asked for every line (R17, R6, R12): made once per policy
    def individual_ladder(self) -> Ladder:
        return Ladder(self.initial_min_minutes, self.additional_from_minutes,
                      self.additional_base_minutes, self.additional_step_minutes)

    def family(self, training: str = FUNCTIONAL) -> Family:
        """The family's table, its individual codes on this policy's ladder (R17)."""
        fam = self.families[training or DEFAULT_TRAINING]
        if fam.individual.ladder == self.individual_ladder:
            return fam
        return replace(fam, individual=replace(fam.individual, ladder=self.individual_ladder))

    @cached_property
    def medicare(self) -> PayerProfile:
        """Medicare's answers (R6, R12): every payer not on the clinic's list follows them."""
        return PayerProfile("Medicare", telehealth_from=self.telehealth_covered_from,
                            verbal_consent_from=self.verbal_consent_ok_from)

    def payer_profile(self, patient: PatientFacts) -> PayerProfile:
        return patient.payer_profile or self.medicare


DEFAULT_POLICY = BillingPolicy()


# --------------------------------------------------------------------------
# Helpers shared by the rule modules
# --------------------------------------------------------------------------

def _finding(code: str, patient: PatientFacts | None, message: str) -> Finding:
    severity, rule = FINDING_CODES[code]
    return Finding(code, severity, rule, patient.id if patient else None, message)


def _by_mrn(patients: Iterable[PatientFacts]) -> list[PatientFacts]:
    return sorted(patients, key=lambda p: (p.mrn, p.id))
