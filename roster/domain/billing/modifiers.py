"""R5 modifiers and R12 place of service."""

from __future__ import annotations

from roster.domain.billing.facts import (
    DEFAULT_POLICY,
    TELEHEALTH,
    BillingPolicy,
    FacilitatorFacts,
    PatientFacts,
    SessionFacts,
)


def line_modifiers(
    facts: SessionFacts, patient: PatientFacts, policy: BillingPolicy = DEFAULT_POLICY
) -> tuple[str, ...]:
    """R5: therapy modifier, then assistant modifier, then the telehealth modifier.

    A family that takes no therapy modifier (behavior, R20) takes neither of the first two."""
    result = []
    therapy_family = policy.family(facts.training).therapy_modifier
    therapy = _therapy_modifier(facts.facilitator, patient, policy) if therapy_family else None
    if therapy:
        result.append(therapy)
    if facts.facilitator is not None and therapy_family:
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
