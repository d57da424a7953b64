"""R2: the individual-code time ladder."""

from __future__ import annotations

from roster.domain.billing.facts import DEFAULT_POLICY, BillingPolicy


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
