"""Property tests of the pure core over random sessions of every code family (R17-R21, payers)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from roster.domain.billing import BLOCK, BillingPolicy, evaluate_day, evaluate_session
from roster.domain.families import (
    BEHAVIOR,
    FAMILIES,
    FAMILY_OF_CODE,
    MEDICARE,
    TRAININGS,
    PayerProfile,
)
from tests.unit.test_billing_properties import sessions as base_sessions

EXAMPLES = settings(max_examples=200, deadline=None)

ALL_DISCIPLINES = ["PT", "PTA", "OT", "OTA", "SLP", "MD", "DO", "NP", "PA", "CNS", "PSY", "CSW"]
DAYS = st.sampled_from([date(2023, 12, 31), date(2024, 1, 1), date(2024, 6, 3), date(2024, 12, 31),
                        date(2025, 1, 1), date(2025, 7, 15), date(2026, 2, 3)])
MINUTES = st.none() | st.integers(0, 140)
PROFILES = st.none() | st.builds(
    PayerProfile,
    name=st.sampled_from(["Acme Health", "Blue Valley"]),
    telehealth_from=st.none() | DAYS,
    verbal_consent_from=st.none() | DAYS,
    families=st.frozensets(st.sampled_from(TRAININGS)),
)
CAPS = st.dictionaries(st.sampled_from(sorted(FAMILY_OF_CODE)), st.integers(1, 4), max_size=3)
GROUP_CODES = {f.group.initial for f in FAMILIES.values()}
ADD_ONS = {f.individual.addon: f.individual.initial for f in FAMILIES.values()} | {
    f.group.addon: f.group.initial for f in FAMILIES.values() if f.group.addon}


@st.composite
def family_sessions(draw, status=st.just("held")):
    """The billing core's random sessions, in any family, with any discipline, any payer profile."""
    facts = draw(base_sessions(status=status))
    facilitator = facts.facilitator
    if facilitator is not None and draw(st.booleans()):
        facilitator = dataclasses.replace(facilitator, discipline=draw(st.sampled_from(ALL_DISCIPLINES)))
    patients = {
        pid: dataclasses.replace(p, payer_profile=draw(PROFILES)) for pid, p in facts.patients.items()
    }
    return dataclasses.replace(
        facts, training=draw(st.sampled_from(TRAININGS)), date_of_service=draw(DAYS),
        minutes=draw(MINUTES), facilitator=facilitator, patients=patients,
    )


policies = st.builds(lambda caps: BillingPolicy(unit_caps=caps), CAPS)


@EXAMPLES
@given(family_sessions(), policies)
def test_never_two_group_code_lines_for_one_patient(facts, policy):
    lines = evaluate_session(facts, policy).lines
    keys = Counter(line.key for line in lines)
    assert all(n == 1 for n in keys.values())
    group = Counter(line.patient_id for line in lines if line.cpt in GROUP_CODES)
    assert all(n <= 1 for n in group.values())


@EXAMPLES
@given(family_sessions(), policies)
def test_an_add_on_never_without_its_initial_code(facts, policy):
    keys = {line.key for line in evaluate_session(facts, policy).lines}
    for pid, cpt in keys:
        if cpt in ADD_ONS:
            assert (pid, ADD_ONS[cpt]) in keys


@EXAMPLES
@given(family_sessions(), policies)
def test_only_the_class_familys_codes_and_no_therapy_modifier_on_behavior_codes(facts, policy):
    for line in evaluate_session(facts, policy).lines:
        assert FAMILY_OF_CODE[line.cpt] == facts.training
        if facts.training == BEHAVIOR:
            assert not {"GP", "GO", "GN", "CQ", "CO"} & set(line.modifiers)


@EXAMPLES
@given(family_sessions(), policies)
def test_no_line_before_its_codes_first_date_of_service(facts, policy):
    family = FAMILIES[facts.training]
    for line in evaluate_session(facts, policy).lines:
        assert facts.date_of_service >= family.first_dos[line.cpt]


@EXAMPLES
@given(family_sessions(), policies)
def test_an_ineligible_discipline_or_an_uncovered_family_holds_the_line(facts, policy):
    family = FAMILIES[facts.training]
    for line in evaluate_session(facts, policy).lines:
        codes = {f.code for f in line.findings}
        if facts.facilitator is not None and not family.may_bill(facts.facilitator.discipline):
            assert "DISCIPLINE_NOT_ELIGIBLE" in codes and line.status == "held"
        profile = facts.patients[line.patient_id].payer_profile or MEDICARE
        if not profile.covers(facts.training):
            assert "NOT_COVERED_BY_PAYER" in codes and line.status == "held"
        assert (line.status == "held") == any(f.severity == BLOCK for f in line.findings)
        cap = policy.unit_caps.get(line.cpt)
        assert ("MUE_EXCEEDED" in codes) == (cap is not None and line.units > cap)


@EXAMPLES
@given(family_sessions(), policies, st.data())
def test_the_same_facts_give_the_same_lines(facts, policy, data):
    first = evaluate_session(facts, policy)
    assert evaluate_session(facts, policy) == first
    shuffled = dataclasses.replace(
        facts,
        checkins=tuple(data.draw(st.permutations(facts.checkins))),
        patients=dict(data.draw(st.permutations(list(facts.patients.items())))),
    )
    assert evaluate_session(shuffled, policy) == first
    assert evaluate_session(dataclasses.replace(facts), BillingPolicy(unit_caps=dict(policy.unit_caps))) == first


@settings(max_examples=100, deadline=None)
@given(st.lists(family_sessions(), max_size=4), policies, st.data())
def test_a_days_unit_caps_count_every_session_of_the_day(day, policy, data):
    day = [dataclasses.replace(s, session_id=i, date_of_service=date(2026, 2, 3)) for i, s in enumerate(day)]
    results = evaluate_day(day, policy)
    assert evaluate_day(data.draw(st.permutations(day)), policy) == results
    totals: Counter = Counter()
    for facts in sorted(day, key=lambda s: (s.sort_key, s.session_id)):
        for line in results[facts.session_id].lines:
            totals[line.key] += line.units
            cap = policy.unit_caps.get(line.cpt)
            flagged = "MUE_EXCEEDED" in {f.code for f in line.findings}
            assert flagged == (cap is not None and totals[line.key] > cap)
