"""R2: the individual-code time ladder of the functional codes (the families' tables hold the rest)."""

from __future__ import annotations

from roster.domain.billing.facts import DEFAULT_POLICY, BillingPolicy
from roster.domain.families import FUNCTIONAL


def individual_codes(minutes: int, policy: BillingPolicy = DEFAULT_POLICY) -> list[tuple[str, int]]:
    """Individual caregiver-training codes for a session of `minutes` (R2).

    [] under 16 min; [("97550", 1)] for 16-37; [("97550", 1), ("97551", n)] from 38,
    n = floor((minutes - 23) / 15). 97551 never appears without 97550. Every family's
    individual codes follow the same ladder (R17): ``policy.family(name).individual.lines``.
    """
    return policy.family(FUNCTIONAL).individual.lines(minutes)
