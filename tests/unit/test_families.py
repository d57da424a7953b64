"""The code-family tables (R17-R21) and payer profiles, without the app."""

from __future__ import annotations

from datetime import date

import pytest

from roster.domain.families import (
    ALL_CODES,
    BEHAVIOR,
    BEHAVIOR_GROUP_LADDER,
    DIRECT_CARE,
    FAMILIES,
    FAMILY_OF_CODE,
    FUNCTIONAL,
    INDIVIDUAL_LADDER,
    MEDICARE,
    PayerProfile,
    family,
    over_cap,
    payer_key,
    profile_for,
)


@pytest.mark.parametrize("minutes, expected", [
    (0, []), (30, []), (31, [("96202", 1)]), (67, [("96202", 1)]),
    (68, [("96202", 1), ("96203", 1)]), (75, [("96202", 1), ("96203", 1)]),
    (82, [("96202", 1), ("96203", 1)]), (83, [("96202", 1), ("96203", 2)]),
    (97, [("96202", 1), ("96203", 2)]), (98, [("96202", 1), ("96203", 3)]),
])
def test_the_96202_ladder_r18(minutes, expected):
    assert FAMILIES[BEHAVIOR].codes_for(3, minutes) == expected


@pytest.mark.parametrize("training, initial, addon", [
    (FUNCTIONAL, "97550", "97551"), (DIRECT_CARE, "G0541", "G0542"), (BEHAVIOR, "G0539", "G0540"),
])
@pytest.mark.parametrize("minutes, units", [
    (15, None), (16, (1, 0)), (37, (1, 0)), (38, (1, 1)), (52, (1, 1)), (53, (1, 2)),
    (67, (1, 2)), (68, (1, 3)), (82, (1, 3)), (83, (1, 4)),
])
def test_every_individual_ladder_is_r2_r17(training, initial, addon, minutes, units):
    got = FAMILIES[training].codes_for(1, minutes)
    if units is None:
        assert got == []
    else:
        expected = [(initial, units[0])] + ([(addon, units[1])] if units[1] else [])
        assert got == expected


@pytest.mark.parametrize("training, code", [(FUNCTIONAL, "97552"), (DIRECT_CARE, "G0543")])
@pytest.mark.parametrize("minutes", [None, 0, 5, 60, 240])
def test_untimed_group_codes_are_one_unit_whatever_the_minutes(training, code, minutes):
    assert FAMILIES[training].codes_for(2, minutes) == [(code, 1)]
    assert FAMILIES[training].codes_for(7, minutes) == [(code, 1)]


def test_no_patients_no_codes_and_timed_codes_need_minutes():
    for fam in FAMILIES.values():
        assert fam.codes_for(0, 60) == []
        assert fam.codes_for(1, None) == []
    assert FAMILIES[BEHAVIOR].codes_for(2, None) == []


def test_ladders_are_the_cpt_midpoints():
    assert INDIVIDUAL_LADDER.units(37) == (1, 0) and INDIVIDUAL_LADDER.units(38) == (1, 1)
    assert BEHAVIOR_GROUP_LADDER.units(30) == (0, 0) and BEHAVIOR_GROUP_LADDER.units(31) == (1, 0)


@pytest.mark.parametrize("code, first", [
    ("97550", date(2024, 1, 1)), ("97551", date(2024, 1, 1)), ("97552", date(2024, 1, 1)),
    ("G0541", date(2025, 1, 1)), ("G0542", date(2025, 1, 1)), ("G0543", date(2025, 1, 1)),
    ("G0539", date(2025, 1, 1)), ("G0540", date(2025, 1, 1)),
    ("96202", date(2024, 1, 1)), ("96203", date(2024, 1, 1)),
])
def test_first_date_of_service_per_code_r19(code, first):
    fam = FAMILIES[FAMILY_OF_CODE[code]]
    assert fam.not_effective([code], first) == []
    assert fam.not_effective([code], date.fromordinal(first.toordinal() - 1)) == [code]


def test_eligible_disciplines_r20():
    for name in (FUNCTIONAL, DIRECT_CARE):
        fam = FAMILIES[name]
        assert all(fam.may_bill(d) for d in "PT PTA OT OTA SLP MD DO NP PA CNS".split())
        assert not fam.may_bill("PSY") and not fam.may_bill("CSW")
        assert fam.therapy_modifier
    behavior = FAMILIES[BEHAVIOR]
    assert all(behavior.may_bill(d) for d in "MD DO NP PA CNS PSY CSW".split())
    assert not any(behavior.may_bill(d) for d in "PT PTA OT OTA SLP".split())
    assert not behavior.therapy_modifier


def test_every_code_belongs_to_one_family():
    assert len(ALL_CODES) == len(set(ALL_CODES)) == 10
    assert family(None).name == FUNCTIONAL
    with pytest.raises(ValueError):
        family("yoga")


def test_unit_caps_r21():
    caps = {"G0540": 2}
    assert over_cap("G0540", 2, caps) is None
    assert over_cap("G0540", 3, caps) == 2
    assert over_cap("G0542", 30, caps) is None


def test_a_payer_not_on_the_list_is_medicare():
    aetna = PayerProfile("Aetna", telehealth_from=None, verbal_consent_from=None,
                         families=frozenset({FUNCTIONAL}))
    profiles = {payer_key(aetna.name): aetna}
    assert profile_for("  aETNA ", profiles) is aetna
    assert profile_for("Medicare", profiles) is MEDICARE
    assert profile_for("Humana", profiles) is MEDICARE
    assert profile_for(None, profiles) is MEDICARE
    assert not aetna.covers(BEHAVIOR) and aetna.covers(FUNCTIONAL)
    assert not aetna.covers_telehealth(date(2030, 1, 1))
    assert not aetna.accepts_verbal_consent(date(2030, 1, 1))
    assert MEDICARE.covers_telehealth(date(2025, 1, 1)) and not MEDICARE.covers_telehealth(date(2024, 12, 31))
    assert all(MEDICARE.covers(name) for name in FAMILIES)
