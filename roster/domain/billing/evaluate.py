"""Evaluation: a session's lines and findings from its facts (R1-R15), a day's sessions (R9)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from roster.domain.billing.facts import (
    DEFAULT_POLICY,
    FINDING_CODES,
    NO_ACTUAL_TIMES,
    SINGLE_CAREGIVER_SET,
    UNDER_MINIMUM_TIME,
    BillingPolicy,
    Family,
    Evaluation,
    Finding,
    LineDraft,
    PatientFacts,
    SameDayLine,
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
from roster.domain.billing.modifiers import line_modifiers, place_of_service
from roster.domain.families import (
    CODE_NOT_EFFECTIVE,
    MUE_EXCEEDED,
    mue_message,
    not_effective_message,
    over_cap,
)
from roster.domain.statuses import SessionStatus

UnitCounts = Mapping[tuple[int, str], int]


def evaluate_session(
    facts: SessionFacts,
    policy: BillingPolicy = DEFAULT_POLICY,
    earlier_same_day: frozenset[tuple[int, str]] = frozenset(),
    earlier_units: UnitCounts | None = None,
    only: frozenset[int] | None = None,
) -> Evaluation:
    """Derive a session's billing lines and findings from its facts.

    `earlier_same_day` holds the (patient_id, cpt) keys of lines on earlier held
    sessions with the same date of service (R9); `earlier_units` their units, for
    the unit caps of R21 (missing: the line's own units are counted alone).
    `only` (patient ids): just these patients' lines and findings, exactly as the whole
    evaluation has them (the others still count for R1's group, R11's names and R3).
    """
    if facts.status != SessionStatus.HELD:  # R13
        return Evaluation(facts.session_id, (), ())
    _require_known_patients(facts)

    session_findings: list[Finding] = [_patient_present(facts, p) for p in _present_patients(facts)
                                       if only is None or p.id in only]
    represented = represented_patients(facts)
    billed = represented if only is None else [p for p in represented if p.id in only]
    codes, coding_findings = _codes_by_patient(facts, represented, policy, billed)
    session_findings += coding_findings

    lines = [
        line
        for patient in billed
        for line in _patient_lines(facts, patient, codes[patient.id], policy, earlier_same_day,
                                   earlier_units or {})
    ]
    lines.sort(key=lambda line: (*_patient_order(facts, line.patient_id), line.cpt))
    all_findings = session_findings + [f for line in lines for f in line.findings]
    return Evaluation(facts.session_id, tuple(lines), _ordered_unique(facts, all_findings))


def evaluate_day(
    sessions: list[SessionFacts],
    policy: BillingPolicy = DEFAULT_POLICY,
    others: Iterable[SameDayLine] = (),
    only: frozenset[int] | None = None,
) -> dict[int, Evaluation]:
    """Evaluate the sessions of a day in order (sort_key, then session_id).

    Each session sees the line keys of the earlier sessions with the same date of
    service, so a repeated (patient, code) is flagged on the later line (R9).
    Sessions of different dates may be mixed; each date is tracked separately.
    `others` are lines of held sessions not evaluated now (their facts did not
    change); they count as earlier when their session is earlier (S3).
    `only` (patient ids): just these patients' lines and findings (R9 and R21 count a
    patient's own lines only, so the others' need not be derived).
    """
    by_day: dict[date, list[SameDayLine]] = defaultdict(list)
    for line in others:
        by_day[line.date_of_service].append(line)
    seen: dict[date, frozenset[tuple[int, str]]] = {}
    units: dict[date, Counter] = {}
    results: dict[int, Evaluation] = {}
    for facts in sorted(sessions, key=_day_order):
        order = _day_order(facts)
        context = [line for line in by_day.get(facts.date_of_service, ())
                   if (line.sort_key, line.session_id) < order]
        earlier = seen.get(facts.date_of_service, frozenset())
        counted = units.setdefault(facts.date_of_service, Counter())
        context_units = Counter(counted)
        for line in context:
            context_units[line.key] += line.units
        evaluation = evaluate_session(facts, policy, earlier | {line.key for line in context}, context_units, only)
        seen[facts.date_of_service] = earlier | {line.key for line in evaluation.lines}
        counted.update({line.key: line.units for line in evaluation.lines})
        results[facts.session_id] = evaluation
    return results


def _day_order(facts: SessionFacts) -> tuple:
    return (facts.sort_key, facts.session_id)


def _codes_by_patient(
    facts: SessionFacts, represented: list[PatientFacts], policy: BillingPolicy,
    billed: list[PatientFacts],
) -> tuple[dict[int, list[tuple[str, int]]], list[Finding]]:
    fam = policy.family(facts.training)
    codes: dict[int, list[tuple[str, int]]] = {}
    findings: list[Finding] = []
    group = len(represented) >= policy.min_group_patients  # R1 (R2 below it)
    for patient in billed:
        if not group:
            findings.append(_single_set(patient, fam))
        patient_codes, found = _timed_codes(facts, patient, fam, group)
        kept, not_effective = _effective(facts, patient, fam, patient_codes)  # R19
        codes[patient.id] = kept
        findings += found + not_effective
    return codes, findings


def _single_set(patient: PatientFacts, fam: Family) -> Finding:  # R2
    individual = "/".join(fam.individual.codes)
    return _finding(
        SINGLE_CAREGIVER_SET, patient,
        f"Only {patient.display_name}'s caregivers attended this session, so it is billed as "
        f"individual caregiver training ({individual}) by time instead of group "
        f"{'/'.join(fam.group.codes)}; no action needed unless another patient's caregiver "
        f"check-in is missing.",
    )


def _timed_codes(
    facts: SessionFacts, patient: PatientFacts, fam: Family, group: bool
) -> tuple[list[tuple[str, int]], list[Finding]]:
    """R1/R2/R17/R18: the patient's codes by the family's table and the session's minutes."""
    code_set = fam.group if group else fam.individual
    codes = code_set.lines(facts.minutes)
    if codes or not code_set.timed:
        return codes, []
    kind = "group" if group else "individual"
    if facts.minutes is None:
        return [], [_finding(
            NO_ACTUAL_TIMES, patient,
            f"This session has no actual start and end times, which {kind} caregiver training "
            f"({'/'.join(code_set.codes)}) for {patient.display_name} is billed by; record the "
            f"actual times by closing the session again.",
        )]
    return [], [_finding(
        UNDER_MINIMUM_TIME, patient,
        f"This session lasted {facts.minutes} minutes, under the {code_set.minimum_minutes} "
        f"needed to bill {code_set.initial} for {patient.display_name}, so no line is billed; "
        f"correct the actual start and end times if they are wrong.",
    )]


def _effective(
    facts: SessionFacts, patient: PatientFacts, fam: Family, codes: list[tuple[str, int]]
) -> tuple[list[tuple[str, int]], list[Finding]]:
    """R19: drop the codes not yet payable on the date of service, naming them."""
    late = fam.not_effective([cpt for cpt, _ in codes], facts.date_of_service)
    if not late:
        return codes, []
    message = not_effective_message(patient.display_name, late, fam, facts.date_of_service)
    return [c for c in codes if c[0] not in late], [_finding(CODE_NOT_EFFECTIVE, patient, message)]


def _patient_lines(
    facts: SessionFacts,
    patient: PatientFacts,
    codes: list[tuple[str, int]],
    policy: BillingPolicy,
    earlier_same_day: frozenset[tuple[int, str]],
    earlier_units: UnitCounts,
) -> list[LineDraft]:
    patient_findings = _patient_line_findings(facts, patient, policy)
    duplicate = _duplicate_same_day(facts, patient, codes, earlier_same_day)
    over = _over_caps(patient, codes, policy, earlier_units)  # R21
    mue = over and _finding(MUE_EXCEEDED, patient, mue_message(
        patient.display_name, [(cpt, units, cap) for cpt, (units, cap) in over.items()],
        facts.date_of_service))
    lines = []
    for cpt, units in codes:
        findings = list(patient_findings)
        if duplicate is not None and (patient.id, cpt) in earlier_same_day:
            findings.append(duplicate)
        if cpt in over:
            findings.append(mue)
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


def _over_caps(
    patient: PatientFacts, codes: list[tuple[str, int]], policy: BillingPolicy, earlier_units: UnitCounts
) -> dict[str, tuple[int, int]]:
    """R21: code -> (the patient's units of it that day, the cap) for the codes over their cap."""
    out = {}
    for cpt, units in codes:
        day_units = earlier_units.get((patient.id, cpt), 0) + units
        cap = over_cap(cpt, day_units, policy.unit_caps)
        if cap is not None:
            out[cpt] = (day_units, cap)
    return out


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
