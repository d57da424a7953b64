"""The clinic's answers billing is evaluated with: its unit caps (R21) and its payers' profiles.

Each is read once per evaluation (one query); the settings themselves are
changed by `roster.services.families` and `roster.services.clinic`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import sqlalchemy as sa

from roster.domain import billing as rules
from roster.domain.families import PayerProfile
from roster.extensions import db
from roster.models import Payer, UnitCap


_CAPS = sa.select(UnitCap.cpt, UnitCap.max_units)
_PAYERS = sa.select(Payer.name, Payer.name_key, Payer.telehealth_from, Payer.verbal_consent_from, Payer.families)


def current_policy() -> rules.BillingPolicy:
    """The billing policy with the clinic's unit caps (no row: no cap)."""
    caps = dict(db.session.connection().execute(_CAPS).tuples().all())
    return rules.BillingPolicy(unit_caps=MappingProxyType(caps))


def payer_profiles() -> Mapping[str, PayerProfile]:
    """The payer list's profiles by matching key (`roster.domain.families.payer_key`, the list's
    `name_key`). A payer not on the list is not here: billing gives its patients Medicare's answers."""
    rows = db.session.connection().execute(_PAYERS)
    return MappingProxyType({
        row.name_key: PayerProfile(row.name, row.telehealth_from, row.verbal_consent_from,
                                   frozenset(row.families or ()))
        for row in rows
    })
