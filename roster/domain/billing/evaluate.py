"""Evaluation: a session's lines and findings from its facts (R1-R15), a day's sessions (R9)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from roster.domain.billing.facts import (
    DEFAULT_POLICY,
    FINDING_CODES,
    HELD,
    NO_ACTUAL_TIMES,
    SINGLE_CAREGIVER_SET,
    UNDER_MINIMUM_TIME,
    BillingPolicy,
    Evaluation,
    Finding,
    LineDraft,
    PatientFacts,
    SessionFacts,
    _finding,
)
from roster.domain.billing.findings import (
    _duplicate_same_day,
    _patient_line_findings,
    _patient_present,
    _present_patients,
    represented_patients,
)
from roster.domain.billing.ladders import individual_codes
from roster.domain.billing.modifiers import line_modifiers, place_of_service


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


def _require_known_patients(facts: SessionFacts) -> None:
    referenced = {c.patient_id for c in facts.checkins} | facts.present_patient_ids
    missing = sorted(referenced - set(facts.patients))
    if missing:
        raise ValueError(f"session {facts.session_id}: no PatientFacts for patient ids {missing}")


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
