"""Who is billed (R1, R3) and the findings that hold or flag a patient's lines (R3-R12)."""

from __future__ import annotations

from roster.domain.billing.facts import (
    CONSENT_VERBAL_PRE_2025,
    DUPLICATE_SAME_DAY,
    INVALID_NPI,
    NEEDS_MISMATCH,
    NO_CONSENT,
    NO_DIAGNOSIS,
    NO_FACILITATOR,
    OUTSIDE_PLAN_OF_CARE,
    PATIENT_PRESENT,
    SHARED_CAREGIVER,
    TELEHEALTH,
    TELEHEALTH_NOT_COVERED,
    BillingPolicy,
    Finding,
    PatientFacts,
    SessionFacts,
    _by_mrn,
    _finding,
)
from roster.domain.families import (
    DISCIPLINE_NOT_ELIGIBLE,
    NOT_COVERED_BY_PAYER,
    discipline_message,
    not_covered_message,
)
from roster.domain.npi import npi_is_valid


def represented_patients(facts: SessionFacts) -> list[PatientFacts]:
    """P of R1: patients with a caregiver checked in, minus those present (R3), by MRN."""
    ids = {c.patient_id for c in facts.checkins} - facts.present_patient_ids
    return _by_mrn(facts.patients[i] for i in ids)


def _present_patients(facts: SessionFacts) -> list[PatientFacts]:
    return _by_mrn(facts.patients[i] for i in facts.present_patient_ids)


def _patient_present(facts: SessionFacts, patient: PatientFacts) -> Finding:  # R3
    return _finding(
        PATIENT_PRESENT, patient,
        f"{patient.display_name} was present at this session, so caregiver training without the "
        f"patient present cannot be billed for this patient; if the patient was not there, "
        f"correct the attendance by closing the session again.",
    )


def _patient_line_findings(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy
) -> list[Finding]:
    """The findings that hold or flag every line of this patient in this session."""
    checks = (
        _facilitator_findings(facts, patient),
        _discipline_findings(facts, patient, policy),
        _payer_findings(facts, patient, policy),
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


def _discipline_findings(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy
) -> list[Finding]:  # R20
    facilitator, fam = facts.facilitator, policy.family(facts.training)
    if facilitator is None or fam.may_bill(facilitator.discipline):
        return []
    return [_finding(DISCIPLINE_NOT_ELIGIBLE, patient, discipline_message(
        patient.display_name, facilitator.name, facilitator.discipline, fam))]


def _payer_findings(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy
) -> list[Finding]:  # payer profiles
    profile = policy.payer_profile(patient)
    if profile.covers(facts.training):
        return []
    return [_finding(NOT_COVERED_BY_PAYER, patient, not_covered_message(
        patient.display_name, profile.name, policy.family(facts.training)))]


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
    profile = policy.payer_profile(patient)
    if patient.consent_kind == "verbal" and not profile.accepts_verbal_consent(dos):
        if patient.payer_profile is None:  # Medicare's rule
            when = f"a date of service before {profile.verbal_consent_from.isoformat()}"
            who = "a payer"
        else:
            when = (f"a date of service before {profile.verbal_consent_from.isoformat()}"
                    if profile.verbal_consent_from else "any date of service")
            who = f"the patient's payer {profile.name}"
        return [_finding(
            CONSENT_VERBAL_PRE_2025, patient,
            f"{patient.display_name}'s caregiver-training consent is verbal, which {who} may not "
            f"accept for {when} (this one is {dos.isoformat()}); record written consent on the "
            f"patient's page if the payer requires it.",
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


def _needs_findings(facts: SessionFacts, patient: PatientFacts) -> list[Finding]:  # R10, S4
    if patient.needs & facts.class_needs:
        return []
    patient_needs = ", ".join(sorted(patient.needs)) or "none recorded"
    if not facts.class_needs:
        return [_finding(
            NEEDS_MISMATCH, patient,
            f"This class has no focus needs recorded, so {patient.display_name}'s needs "
            f"({patient_needs}) cannot be shown to be similar to the group's; record the class's "
            f"focus needs on the class page.",
        )]
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
    caregivers = {c.caregiver_id for c in facts.checkins if c.patient_id == patient.id}
    other_ids = {
        c.patient_id
        for c in facts.checkins
        if c.caregiver_id in caregivers and c.patient_id != patient.id
    }
    # checked in, so represented unless present (R1, R3): P itself need not be built per patient
    return _by_mrn(facts.patients[i] for i in other_ids - facts.present_patient_ids)


def _telehealth_findings(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy
) -> list[Finding]:  # R12
    profile = policy.payer_profile(patient)
    if facts.modality != TELEHEALTH or profile.covers_telehealth(facts.date_of_service):
        return []
    if patient.payer_profile is not None:
        since = (f"only from {profile.telehealth_from.isoformat()}" if profile.telehealth_from
                 else "not at all")
        return [_finding(
            TELEHEALTH_NOT_COVERED, patient,
            f"{patient.display_name}'s payer {profile.name} covers caregiver training by telehealth "
            f"{since}, so the line of this telehealth session on "
            f"{facts.date_of_service.isoformat()} is held; check the patient's payer, the payer's "
            f"profile in the billing settings, or whether the class is really telehealth.",
        )]
    return [_finding(
        TELEHEALTH_NOT_COVERED, patient,
        f"This telehealth session on {facts.date_of_service.isoformat()} is before "
        f"{policy.telehealth_covered_from.isoformat()}, when these codes joined the Medicare "
        f"telehealth list, so {patient.display_name}'s line is held; check the session's date "
        f"and whether the class is really telehealth.",
    )]
