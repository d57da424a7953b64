"""The caregiver-training rule book (CPT 97550, 97551, 97552) as pure functions.

Everything here works on frozen facts handed in by the caller: no Flask, no
database, no clock, no I/O. The same facts always give the same `Evaluation`
(R15). Rule ids (R1, R2, ...) refer to ``shared/spec/billing-rules.md``; the
payer-variable choices live in one place, `BillingPolicy`.

Entry points:

- `evaluate_session(facts, policy, earlier_same_day)` -> `Evaluation`
- `evaluate_day(sessions, policy)` -> ``{session_id: Evaluation}`` (R9 across sessions)
- `individual_codes(minutes, policy)` -> the R2 time ladder
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from roster.domain.npi import npi_is_valid

BLOCK = "block"
WARN = "warn"

HELD = "held"  # session status, and line status when a block finding applies
READY = "ready"
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
})


# --------------------------------------------------------------------------
# Facts (input)
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class FacilitatorFacts:
    id: int
    name: str
    discipline: str  # PT PTA OT OTA SLP MD DO NP PA CNS
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
    status: str  # "scheduled" | "held" | "cancelled"
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
    sort_key: tuple = ()  # order of sessions within a day (R9); filled by the service

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_needs", frozenset(self.class_needs))
        object.__setattr__(self, "checkins", tuple(self.checkins))
        object.__setattr__(self, "present_patient_ids", frozenset(self.present_patient_ids))


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
class LineDraft:
    patient_id: int
    cpt: str
    units: int
    modifiers: tuple[str, ...]
    place_of_service: str
    diagnosis_codes: tuple[str, ...]
    rendering_npi: str | None
    findings: tuple[Finding, ...]

    @property
    def status(self) -> str:
        """R14: held while any block finding applies, otherwise ready."""
        return HELD if any(f.severity == BLOCK for f in self.findings) else READY

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
    group_code: str = "97552"
    initial_code: str = "97550"
    additional_code: str = "97551"
    min_group_patients: int = 2
    # R2 time ladder (CPT midpoint rule): under 16 min nothing; 16-37 -> 97550;
    # from 38 min 97550 plus 97551 x floor((minutes - 23) / 15).
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


DEFAULT_POLICY = BillingPolicy()


# --------------------------------------------------------------------------
# R2: the time ladder
# --------------------------------------------------------------------------

def individual_codes(minutes: int, policy: BillingPolicy = DEFAULT_POLICY) -> list[tuple[str, int]]:
    """Individual caregiver-training codes for a session of `minutes` (R2).

    [] under 16 min; [("97550", 1)] for 16-37; [("97550", 1), ("97551", n)] from 38,
    n = floor((minutes - 23) / 15). 97551 never appears without 97550.
    """
    if minutes < policy.initial_min_minutes:
        return []
    codes = [(policy.initial_code, 1)]
    if minutes >= policy.additional_from_minutes:
        units = (minutes - policy.additional_base_minutes) // policy.additional_step_minutes
        if units > 0:
            codes.append((policy.additional_code, units))
    return codes


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

def evaluate_session(
    facts: SessionFacts,
    policy: BillingPolicy = DEFAULT_POLICY,
    earlier_same_day: frozenset[tuple[int, str]] = frozenset(),
) -> Evaluation:
    """Derive a session's billing lines and findings from its facts.

    `earlier_same_day` holds the (patient_id, cpt) keys of lines on earlier held
    sessions with the same date of service (R9).
    """
    if facts.status != HELD:  # R13
        return Evaluation(facts.session_id, (), ())
    _require_known_patients(facts)

    session_findings: list[Finding] = [_patient_present(facts, p) for p in _present_patients(facts)]
    represented = represented_patients(facts)
    codes, coding_findings = _codes_by_patient(facts, represented, policy)
    session_findings += coding_findings

    lines = [
        line
        for patient in represented
        for line in _patient_lines(facts, patient, codes[patient.id], policy, earlier_same_day)
    ]
    lines.sort(key=lambda line: (*_patient_order(facts, line.patient_id), line.cpt))
    all_findings = session_findings + [f for line in lines for f in line.findings]
    return Evaluation(facts.session_id, tuple(lines), _ordered_unique(facts, all_findings))


def evaluate_day(
    sessions: list[SessionFacts], policy: BillingPolicy = DEFAULT_POLICY
) -> dict[int, Evaluation]:
    """Evaluate the sessions of a day in order (sort_key, then session_id).

    Each session sees the line keys of the earlier sessions with the same date of
    service, so a repeated (patient, code) is flagged on the later line (R9).
    Sessions of different dates may be mixed; each date is tracked separately.
    """
    seen: dict[date, frozenset[tuple[int, str]]] = {}
    results: dict[int, Evaluation] = {}
    for facts in sorted(sessions, key=lambda s: (s.sort_key, s.session_id)):
        earlier = seen.get(facts.date_of_service, frozenset())
        evaluation = evaluate_session(facts, policy, earlier)
        seen[facts.date_of_service] = earlier | {line.key for line in evaluation.lines}
        results[facts.session_id] = evaluation
    return results


def represented_patients(facts: SessionFacts) -> list[PatientFacts]:
    """P of R1: patients with a caregiver checked in, minus those present (R3), by MRN."""
    ids = {c.patient_id for c in facts.checkins} - facts.present_patient_ids
    return _by_mrn(facts.patients[i] for i in ids)


# --------------------------------------------------------------------------
# R1, R2, R3: which codes for whom
# --------------------------------------------------------------------------

def _codes_by_patient(
    facts: SessionFacts, represented: list[PatientFacts], policy: BillingPolicy
) -> tuple[dict[int, list[tuple[str, int]]], list[Finding]]:
    if len(represented) >= policy.min_group_patients:  # R1
        return {p.id: [(policy.group_code, 1)] for p in represented}, []
    if len(represented) == 1:  # R2
        patient = represented[0]
        codes, findings = _single_set_codes(facts, patient, policy)
        return {patient.id: codes}, findings
    return {}, []


def _single_set_codes(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy
) -> tuple[list[tuple[str, int]], list[Finding]]:
    findings = [_finding(
        SINGLE_CAREGIVER_SET, patient,
        f"Only {patient.display_name}'s caregivers attended this session, so it is billed as "
        f"individual caregiver training ({policy.initial_code}/{policy.additional_code}) by time "
        f"instead of group {policy.group_code}; no action needed unless another patient's "
        f"caregiver check-in is missing.",
    )]
    if facts.minutes is None:
        findings.append(_finding(
            NO_ACTUAL_TIMES, patient,
            f"This session has no actual start and end times, which individual caregiver training "
            f"for {patient.display_name} is billed by; record the actual times by closing the "
            f"session again.",
        ))
        return [], findings
    codes = individual_codes(facts.minutes, policy)
    if not codes:
        findings.append(_finding(
            UNDER_MINIMUM_TIME, patient,
            f"This session lasted {facts.minutes} minutes, under the {policy.initial_min_minutes} "
            f"needed to bill {policy.initial_code} for {patient.display_name}, so no line is billed; "
            f"correct the actual start and end times if they are wrong.",
        ))
    return codes, findings


def _present_patients(facts: SessionFacts) -> list[PatientFacts]:
    return _by_mrn(facts.patients[i] for i in facts.present_patient_ids)


def _patient_present(facts: SessionFacts, patient: PatientFacts) -> Finding:  # R3
    return _finding(
        PATIENT_PRESENT, patient,
        f"{patient.display_name} was present at this session, so caregiver training without the "
        f"patient present cannot be billed for this patient; if the patient was not there, "
        f"correct the attendance by closing the session again.",
    )


# --------------------------------------------------------------------------
# Lines and their findings (R4-R12)
# --------------------------------------------------------------------------

def _patient_lines(
    facts: SessionFacts,
    patient: PatientFacts,
    codes: list[tuple[str, int]],
    policy: BillingPolicy,
    earlier_same_day: frozenset[tuple[int, str]],
) -> list[LineDraft]:
    patient_findings = _patient_line_findings(facts, patient, policy)
    duplicate = _duplicate_same_day(facts, patient, codes, earlier_same_day)
    lines = []
    for cpt, units in codes:
        findings = list(patient_findings)
        if duplicate is not None and (patient.id, cpt) in earlier_same_day:
            findings.append(duplicate)
        lines.append(LineDraft(
            patient_id=patient.id,
            cpt=cpt,
            units=units,
            modifiers=line_modifiers(facts, patient, policy),
            place_of_service=place_of_service(facts, policy),
            diagnosis_codes=patient.diagnosis_codes,
            rendering_npi=facts.facilitator.npi if facts.facilitator else None,
            findings=tuple(sorted(findings, key=_rule_order)),
        ))
    return lines


def _patient_line_findings(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy
) -> list[Finding]:
    """The findings that hold or flag every line of this patient in this session."""
    checks = (
        _facilitator_findings(facts, patient),
        _consent_findings(facts, patient, policy),
        _plan_of_care_findings(facts, patient),
        _diagnosis_findings(patient),
        _needs_findings(facts, patient),
        _shared_caregiver_findings(facts, patient),
        _telehealth_findings(facts, patient, policy),
    )
    return [f for found in checks for f in found]


def _facilitator_findings(facts: SessionFacts, patient: PatientFacts) -> list[Finding]:  # R4
    facilitator = facts.facilitator
    if facilitator is None:
        return [_finding(
            NO_FACILITATOR, patient,
            f"This session has no facilitator recorded, so {patient.display_name}'s line is held; "
            f"record the actual facilitator by closing the session again.",
        )]
    if not npi_is_valid(facilitator.npi):
        return [_finding(
            INVALID_NPI, patient,
            f"The facilitator {facilitator.name} has NPI {facilitator.npi or '(none)'}, which fails "
            f"the NPI check, so {patient.display_name}'s line is held; correct the NPI on the "
            f"facilitator's page.",
        )]
    return []


def _consent_findings(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy
) -> list[Finding]:  # R6
    dos = facts.date_of_service
    if patient.consent_date is None or patient.consent_date > dos:
        return [_finding(
            NO_CONSENT, patient,
            f"{patient.display_name} has no caregiver-training consent dated on or before "
            f"{dos.isoformat()}; record the consent on the patient's page.",
        )]
    if patient.consent_kind == "verbal" and dos < policy.verbal_consent_ok_from:
        return [_finding(
            CONSENT_VERBAL_PRE_2025, patient,
            f"{patient.display_name}'s caregiver-training consent is verbal, which a payer may not "
            f"accept for a date of service before {policy.verbal_consent_ok_from.isoformat()} "
            f"(this one is {dos.isoformat()}); record written consent on the patient's page if the "
            f"payer requires it.",
        )]
    return []


def _plan_of_care_findings(facts: SessionFacts, patient: PatientFacts) -> list[Finding]:  # R7
    dos = facts.date_of_service
    start, end = patient.poc_start, patient.poc_end
    if start is None or end is None:
        return [_finding(
            OUTSIDE_PLAN_OF_CARE, patient,
            f"{patient.display_name} has no plan of care with start and end dates on file; "
            f"record the plan of care covering {dos.isoformat()} on the patient's page.",
        )]
    if not start <= dos <= end:
        return [_finding(
            OUTSIDE_PLAN_OF_CARE, patient,
            f"{patient.display_name}'s plan of care ({start.isoformat()} to {end.isoformat()}) does "
            f"not cover {dos.isoformat()}; record the current plan of care on the patient's page.",
        )]
    return []


def _diagnosis_findings(patient: PatientFacts) -> list[Finding]:  # R8
    if patient.diagnosis_codes:
        return []
    return [_finding(
        NO_DIAGNOSIS, patient,
        f"{patient.display_name} has no ICD-10-CM diagnosis code on file; add the diagnosis "
        f"codes on the patient's page.",
    )]


def _duplicate_same_day(
    facts: SessionFacts,
    patient: PatientFacts,
    codes: list[tuple[str, int]],
    earlier_same_day: frozenset[tuple[int, str]],
) -> Finding | None:  # R9
    repeated = [cpt for cpt, _ in codes if (patient.id, cpt) in earlier_same_day]
    if not repeated:
        return None
    return _finding(
        DUPLICATE_SAME_DAY, patient,
        f"{patient.display_name} already has {' and '.join(repeated)} on "
        f"{facts.date_of_service.isoformat()} from an earlier session; if both sessions took "
        f"place no action is needed, otherwise undo the check-ins of the wrong one.",
    )


def _needs_findings(facts: SessionFacts, patient: PatientFacts) -> list[Finding]:  # R10
    if not facts.class_needs or patient.needs & facts.class_needs:
        return []
    patient_needs = ", ".join(sorted(patient.needs)) or "none recorded"
    return [_finding(
        NEEDS_MISMATCH, patient,
        f"{patient.display_name}'s needs ({patient_needs}) share none with this class's focus "
        f"({', '.join(sorted(facts.class_needs))}); check the patient's needs or the enrollment.",
    )]


def _shared_caregiver_findings(facts: SessionFacts, patient: PatientFacts) -> list[Finding]:  # R11
    others = _patients_sharing_a_caregiver_with(facts, patient)
    if not others:
        return []
    names = ", ".join(p.display_name for p in others)
    return [_finding(
        SHARED_CAREGIVER, patient,
        f"A caregiver checked in for {patient.display_name} was also checked in for {names} in "
        f"this session; confirm the caregiver cares for each of them, or correct the check-ins.",
    )]


def _patients_sharing_a_caregiver_with(
    facts: SessionFacts, patient: PatientFacts
) -> list[PatientFacts]:
    represented_ids = {p.id for p in represented_patients(facts)}
    caregivers = {c.caregiver_id for c in facts.checkins if c.patient_id == patient.id}
    other_ids = {
        c.patient_id
        for c in facts.checkins
        if c.caregiver_id in caregivers and c.patient_id != patient.id
    }
    return _by_mrn(facts.patients[i] for i in other_ids & represented_ids)


def _telehealth_findings(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy
) -> list[Finding]:  # R12
    if facts.modality != TELEHEALTH or facts.date_of_service >= policy.telehealth_covered_from:
        return []
    return [_finding(
        TELEHEALTH_NOT_COVERED, patient,
        f"This telehealth session on {facts.date_of_service.isoformat()} is before "
        f"{policy.telehealth_covered_from.isoformat()}, when these codes joined the Medicare "
        f"telehealth list, so {patient.display_name}'s line is held; check the session's date "
        f"and whether the class is really telehealth.",
    )]


# --------------------------------------------------------------------------
# R5 modifiers and R12 place of service
# --------------------------------------------------------------------------

def line_modifiers(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy = DEFAULT_POLICY
) -> tuple[str, ...]:
    """R5: therapy modifier, then assistant modifier, then the telehealth modifier."""
    result = []
    therapy = _therapy_modifier(facts.facilitator, patient, policy)
    if therapy:
        result.append(therapy)
    if facts.facilitator is not None:
        assistant = policy.assistant_modifiers.get(facts.facilitator.discipline)
        if assistant:
            result.append(assistant)
    if facts.modality == TELEHEALTH:
        result.append(policy.telehealth_modifier)
    return tuple(result)


def _therapy_modifier(
    facilitator: FacilitatorFacts | None, patient: PatientFacts, policy: BillingPolicy
) -> str | None:
    """The facilitator's discipline decides; a practitioner (or no facilitator) takes the
    modifier of the patient's plan-of-care discipline."""
    if facilitator is not None and facilitator.discipline in policy.discipline_modifiers:
        return policy.discipline_modifiers[facilitator.discipline]
    if facilitator is None or facilitator.discipline in policy.practitioner_disciplines:
        return policy.discipline_modifiers.get(patient.poc_discipline or "")
    return None


def place_of_service(facts: SessionFacts, policy: BillingPolicy = DEFAULT_POLICY) -> str:
    """R12: telehealth lines take the class's POS if it is a telehealth POS, else 02."""
    if facts.modality != TELEHEALTH:
        return facts.place_of_service
    if facts.place_of_service in policy.telehealth_allowed_pos:
        return facts.place_of_service
    return policy.telehealth_default_pos


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def _finding(code: str, patient: PatientFacts | None, message: str) -> Finding:
    severity, rule = FINDING_CODES[code]
    return Finding(code, severity, rule, patient.id if patient else None, message)


def _require_known_patients(facts: SessionFacts) -> None:
    referenced = {c.patient_id for c in facts.checkins} | facts.present_patient_ids
    missing = sorted(referenced - set(facts.patients))
    if missing:
        raise ValueError(f"session {facts.session_id}: no PatientFacts for patient ids {missing}")


def _by_mrn(patients: Iterable[PatientFacts]) -> list[PatientFacts]:
    return sorted(patients, key=lambda p: (p.mrn, p.id))


def _patient_order(facts: SessionFacts, patient_id: int | None) -> tuple:
    if patient_id is None:
        return (0, "", 0)
    return (1, facts.patients[patient_id].mrn, patient_id)


_TABLE_POSITION = {code: position for position, code in enumerate(FINDING_CODES)}


def _rule_order(finding: Finding) -> tuple[int, int]:
    """Rule-book order: by rule, then as the finding-code table lists the codes."""
    return (int(finding.rule[1:]), _TABLE_POSITION[finding.code])


def _ordered_unique(facts: SessionFacts, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Session-level findings first, then by patient MRN, rule and code; one per
    (code, patient)."""
    unique: dict[tuple[str, int | None], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.code, finding.patient_id), finding)
    return tuple(sorted(
        unique.values(),
        key=lambda f: (*_patient_order(facts, f.patient_id), *_rule_order(f), f.message),
    ))
