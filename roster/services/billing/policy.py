"""The clinic's answers billing is evaluated with: its unit caps (R21).

Read once per evaluation (one query); the settings themselves are changed by
`roster.services.families`.
"""

from __future__ import annotations

from types import MappingProxyType

import sqlalchemy as sa

from roster.domain import billing as rules
from roster.extensions import db
from roster.models import UnitCap


def current_policy() -> rules.BillingPolicy:
    """The billing policy with the clinic's unit caps (no row: no cap)."""
    caps = dict(db.session.execute(sa.select(UnitCap.cpt, UnitCap.max_units)).tuples().all())
    return rules.BillingPolicy(unit_caps=MappingProxyType(caps))
