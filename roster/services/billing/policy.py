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


def _null(type_) -> sa.Cast:
    return sa.cast(sa.null(), type_)


# Both in one statement (re-evaluation reads both every time): a cap row has a code and units, a
# payer row the rest.
BOTH = sa.union_all(
    sa.select(UnitCap.cpt, UnitCap.max_units, _null(sa.String).label("name"), _null(sa.String).label("name_key"),
              _null(sa.Date).label("telehealth_from"), _null(sa.Date).label("verbal_consent_from"),
              _null(sa.JSON).label("families")),  # labelled: read as a subquery too (`billing.stored`)
    sa.select(_null(sa.String), _null(sa.Integer), Payer.name, Payer.name_key, Payer.telehealth_from,
              Payer.verbal_consent_from, Payer.families),
)


def current_policy() -> rules.BillingPolicy:
    """The billing policy with the clinic's unit caps (no row: no cap)."""
    caps = dict(db.session.connection().execute(_CAPS).tuples().all())
    return rules.BillingPolicy(unit_caps=MappingProxyType(caps))


def payer_profiles() -> Mapping[str, PayerProfile]:
    """The payer list's profiles by matching key (`roster.domain.families.payer_key`, the list's
    `name_key`). A payer not on the list is not here: billing gives its patients Medicare's answers."""
    return MappingProxyType({key: _profile(*rest) for *rest, key in (
        (row.name, row.telehealth_from, row.verbal_consent_from, row.families, row.name_key)
        for row in db.session.connection().execute(_PAYERS).all())})


def policy_and_profiles() -> tuple[rules.BillingPolicy, Mapping[str, PayerProfile]]:
    """`current_policy()` and `payer_profiles()` in one statement."""
    return policy_from_rows(db.session.connection().execute(BOTH).all())


def policy_from_rows(rows) -> tuple[rules.BillingPolicy, Mapping[str, PayerProfile]]:
    """`policy_and_profiles` from the rows of `BOTH` (read with others, `billing.stored`)."""
    caps, profiles = {}, {}
    for cpt, units, name, key, telehealth_from, verbal_from, families in rows:
        if cpt is not None:
            caps[cpt] = units
        else:
            profiles[key] = _profile(name, telehealth_from, verbal_from, families)
    return rules.BillingPolicy(unit_caps=MappingProxyType(caps)), MappingProxyType(profiles)


def _profile(name, telehealth_from, verbal_from, families) -> PayerProfile:
    return PayerProfile(name, telehealth_from, verbal_from, frozenset(families or ()))
