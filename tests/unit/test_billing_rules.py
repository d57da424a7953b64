"""Example-based tests of the caregiver-training rule book (R1-R15).

Facts are built the way the service builds them; the shared scenarios
(shared/scenarios/*.json) appear here expressed as facts.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date

import pytest

from roster.domain.billing import (
    BLOCK,
    DEFAULT_POLICY,
    FINDING_CODES,
    WARN,
    BillingPolicy,
    CheckInFacts,
    Evaluation,
    FacilitatorFacts,
    Finding,
    LineDraft,
    PatientFacts,
    SessionFacts,
    evaluate_day,
    evaluate_session,
    individual_codes,
)
from roster.domain.npi import npi_has_shape, npi_is_valid, npi_with_check_digit

DOS = date(2026, 2, 3)

DANA_PT = FacilitatorFacts(1, "Dana Reyes, PT", "PT", "1234567893")
SAM_OT = FacilitatorFacts(2, "Sam Ortiz, OT", "OT", "1987654328")
LEE_SLP = FacilitatorFacts(3, "Lee Park, SLP", "SLP", "1456789019")

# Caregiver ids of the scenarios.
RITA, TOM, JUNE, LUIS = 11, 12, 13, 14


def patient(pid: int, mrn: str, first: str, last: str, **changes) -> PatientFacts:
    base = PatientFacts(
        id=pid, mrn=mrn, first_name=first, last_name=last,
        needs=frozenset({"stroke"}),
        diagnosis_codes=("I69.351",),
        consent_date=date(2026, 1, 5), consent_kind="written",
        poc_discipline="PT", poc_start=date(2026, 1, 2), poc_end=date(2026, 6, 30),
    )
    return dataclasses.replace(base, **changes)


WALTER = patient(1, "A1001", "Walter", "Ames")
HELEN = patient(2, "A1002", "Helen", "Brooks", diagnosis_codes=("I69.391", "R26.89"))
OMAR = patient(3, "A1003", "Omar", "Cruz", diagnosis_codes=("I69.354",))

# Who checks in for whom in the scenarios.
CAREGIVER_OF = {RITA: WALTER, TOM: WALTER, JUNE: HELEN, LUIS: OMAR}


def session(*checkins: tuple[int, PatientFacts], **changes) -> SessionFacts:
    """A held, in-person stroke class on DOS run by Dana (PT), 60 minutes."""
    patients = {p.id: p for _, p in checkins}
    patients.update({p.id: p for p in changes.pop("extra_patients", ())})
    base = SessionFacts(
        session_id=7,
        status="held",
        date_of_service=DOS,
        minutes=60,
        modality="in_person",
        place_of_service="11",
        class_needs=frozenset({"stroke"}),
        facilitator=DANA_PT,
        patients=patients,
        checkins=tuple(CheckInFacts(caregiver, p.id) for caregiver, p in checkins),
    )
    return dataclasses.replace(base, **changes)


def scenario_session(*caregivers: int, **changes) -> SessionFacts:
    return session(*((c, CAREGIVER_OF[c]) for c in caregivers), **changes)


ALL_FOUR = (RITA, TOM, JUNE, LUIS)


# ---------------------------------------------------------------- helpers

def summary(evaluation: Evaluation, facts: SessionFacts) -> Counter:
    """Lines as the scenarios compare them: (mrn, cpt, units, status, modifiers)."""
    return Counter(
        (facts.patients[line.patient_id].mrn, line.cpt, line.units, line.status, line.modifiers)
        for line in evaluation.lines
    )


def finding_pairs(evaluation: Evaluation, facts: SessionFacts) -> set[tuple[str | None, str]]:
    """(mrn, code) of the session's rule-book findings (our own codes left out)."""
    own_codes = {"NO_ACTUAL_TIMES"}
    return {
        (facts.patients[f.patient_id].mrn if f.patient_id is not None else None, f.code)
        for f in evaluation.findings
        if f.code not in own_codes
    }


def codes_of(line: LineDraft) -> list[str]:
    return [f.code for f in line.findings]


def only_line(evaluation: Evaluation) -> LineDraft:
    assert len(evaluation.lines) == 1, evaluation.lines
    return evaluation.lines[0]


def line_for(evaluation: Evaluation, patient_id: int, cpt: str = "97552") -> LineDraft:
    matches = [line for line in evaluation.lines if line.key == (patient_id, cpt)]
    assert len(matches) == 1, evaluation.lines
    return matches[0]


# ---------------------------------------------------------------- scenarios as facts

def test_scenario_01_group_of_three_patients_two_caregivers_one_line():
    facts = scenario_session(*ALL_FOUR)
    evaluation = evaluate_session(facts)
    assert summary(evaluation, facts) == Counter({
        ("A1001", "97552", 1, "ready", ("GP",)): 1,
        ("A1002", "97552", 1, "ready", ("GP",)): 1,
        ("A1003", "97552", 1, "ready", ("GP",)): 1,
    })
    assert evaluation.findings == ()


def test_scenario_01_line_content():
    evaluation = evaluate_session(scenario_session(*ALL_FOUR))
    helen = line_for(evaluation, HELEN.id)
    assert helen.place_of_service == "11"
    assert helen.diagnosis_codes == ("I69.391", "R26.89")
    assert helen.rendering_npi == "1234567893"
    assert helen.findings == ()


def test_scenario_02_single_caregiver_set_45_minutes():
    facts = scenario_session(RITA, TOM, minutes=45)
    evaluation = evaluate_session(facts)
    assert summary(evaluation, facts) == Counter({
        ("A1001", "97550", 1, "ready", ("GP",)): 1,
        ("A1001", "97551", 1, "ready", ("GP",)): 1,
    })
    assert finding_pairs(evaluation, facts) == {("A1001", "SINGLE_CAREGIVER_SET")}


def test_scenario_03_present_patient_gets_no_line():
    facts = scenario_session(*ALL_FOUR, present_patient_ids=frozenset({HELEN.id}))
    evaluation = evaluate_session(facts)
    assert summary(evaluation, facts) == Counter({
        ("A1001", "97552", 1, "ready", ("GP",)): 1,
        ("A1003", "97552", 1, "ready", ("GP",)): 1,
    })
    assert finding_pairs(evaluation, facts) == {("A1002", "PATIENT_PRESENT")}


def test_scenario_04_no_consent_holds_line_and_recording_consent_releases_it():
    omar_without_consent = dataclasses.replace(OMAR, consent_date=None, consent_kind=None)
    facts = session((RITA, WALTER), (TOM, WALTER), (JUNE, HELEN), (LUIS, omar_without_consent))
    evaluation = evaluate_session(facts)
    assert summary(evaluation, facts) == Counter({
        ("A1001", "97552", 1, "ready", ("GP",)): 1,
        ("A1002", "97552", 1, "ready", ("GP",)): 1,
        ("A1003", "97552", 1, "held", ("GP",)): 1,
    })
    assert finding_pairs(evaluation, facts) == {("A1003", "NO_CONSENT")}

    # R14: the same attendance with the consent recorded (2026-01-20) is ready.
    omar_consented = dataclasses.replace(OMAR, consent_date=date(2026, 1, 20), consent_kind="written")
    fixed = dataclasses.replace(facts, patients={**facts.patients, OMAR.id: omar_consented})
    fixed_evaluation = evaluate_session(fixed)
    assert [line.status for line in fixed_evaluation.lines] == ["ready"] * 3
    assert fixed_evaluation.findings == ()
    assert [line.key for line in fixed_evaluation.lines] == [line.key for line in evaluation.lines]


def test_scenario_05_undoing_a_checkin_removes_that_patients_line():
    # Export and voiding belong to the service; the domain part is that the line goes away.
    before = evaluate_session(scenario_session(*ALL_FOUR))
    after = evaluate_session(scenario_session(RITA, TOM, JUNE))
    assert {line.key for line in before.lines} - {line.key for line in after.lines} == {
        (OMAR.id, "97552")
    }
    assert [line.status for line in after.lines] == ["ready", "ready"]
    assert after.findings == ()


def test_scenario_06_modifier_by_discipline_ot_and_slp():
    ot_facts = scenario_session(RITA, JUNE, facilitator=SAM_OT)
    slp_facts = scenario_session(
        RITA, LUIS, facilitator=LEE_SLP, session_id=8, date_of_service=date(2026, 2, 4)
    )
    assert summary(evaluate_session(ot_facts), ot_facts) == Counter({
        ("A1001", "97552", 1, "ready", ("GO",)): 1,
        ("A1002", "97552", 1, "ready", ("GO",)): 1,
    })
    assert summary(evaluate_session(slp_facts), slp_facts) == Counter({
        ("A1001", "97552", 1, "ready", ("GN",)): 1,
        ("A1003", "97552", 1, "ready", ("GN",)): 1,
    })
    assert evaluate_session(ot_facts).findings == evaluate_session(slp_facts).findings == ()


def test_scenario_07_telehealth_2026():
    facts = scenario_session(RITA, JUNE, modality="telehealth", place_of_service="02")
    evaluation = evaluate_session(facts)
    assert summary(evaluation, facts) == Counter({
        ("A1001", "97552", 1, "ready", ("GP", "95")): 1,
        ("A1002", "97552", 1, "ready", ("GP", "95")): 1,
    })
    assert {line.place_of_service for line in evaluation.lines} == {"02"}
    assert evaluation.findings == ()


def test_scenario_08_single_set_15_minutes_no_line():
    facts = scenario_session(RITA, minutes=15)
    evaluation = evaluate_session(facts)
    assert evaluation.lines == ()
    assert finding_pairs(evaluation, facts) == {
        ("A1001", "SINGLE_CAREGIVER_SET"),
        ("A1001", "UNDER_MINIMUM_TIME"),
    }


def test_scenario_09_single_set_16_and_38_minutes():
    first = scenario_session(RITA, minutes=16)
    second = scenario_session(RITA, minutes=38, session_id=8, date_of_service=date(2026, 2, 10))
    assert summary(evaluate_session(first), first) == Counter({
        ("A1001", "97550", 1, "ready", ("GP",)): 1,
    })
    assert summary(evaluate_session(second), second) == Counter({
        ("A1001", "97550", 1, "ready", ("GP",)): 1,
        ("A1001", "97551", 1, "ready", ("GP",)): 1,
    })
    for facts in (first, second):
        assert finding_pairs(evaluate_session(facts), facts) == {("A1001", "SINGLE_CAREGIVER_SET")}


# ---------------------------------------------------------------- R1 group code

def test_r1_two_patients_make_a_group():
    evaluation = evaluate_session(scenario_session(RITA, JUNE))
    assert [(line.patient_id, line.cpt, line.units) for line in evaluation.lines] == [
        (WALTER.id, "97552", 1), (HELEN.id, "97552", 1)
    ]


def test_r1_counts_patients_not_caregivers():
    two_caregivers = evaluate_session(scenario_session(RITA, TOM, JUNE))
    one_caregiver = evaluate_session(scenario_session(RITA, JUNE))
    assert two_caregivers == one_caregiver


def test_r1_no_checkins_no_lines_no_findings():
    evaluation = evaluate_session(session())
    assert evaluation == Evaluation(7, (), ())


def test_r1_group_code_is_untimed():
    evaluation = evaluate_session(scenario_session(RITA, JUNE, minutes=5))
    assert [line.cpt for line in evaluation.lines] == ["97552", "97552"]
    assert evaluation.findings == ()
    assert evaluate_session(scenario_session(RITA, JUNE, minutes=None)).findings == ()


def test_r1_lines_are_ordered_by_mrn_then_cpt():
    zed = patient(9, "A0001", "Zed", "Young")
    facts = session((LUIS, OMAR), (RITA, WALTER), (40, zed))
    assert [line.patient_id for line in evaluate_session(facts).lines] == [9, 1, 3]
    single = evaluate_session(scenario_session(RITA, minutes=90))
    assert [line.cpt for line in single.lines] == ["97550", "97551"]


# ---------------------------------------------------------------- R2 time ladder

@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, []),
        (15, []),
        (16, [("97550", 1)]),
        (30, [("97550", 1)]),
        (37, [("97550", 1)]),
        (38, [("97550", 1), ("97551", 1)]),
        (52, [("97550", 1), ("97551", 1)]),
        (53, [("97550", 1), ("97551", 2)]),
        (67, [("97550", 1), ("97551", 2)]),
        (68, [("97550", 1), ("97551", 3)]),
        (82, [("97550", 1), ("97551", 3)]),
        (83, [("97550", 1), ("97551", 4)]),
    ],
)
def test_r2_individual_codes_time_ladder(minutes, expected):
    assert individual_codes(minutes) == expected


@pytest.mark.parametrize(
    ("minutes", "lines"),
    [
        (15, []),
        (16, [("97550", 1)]),
        (37, [("97550", 1)]),
        (38, [("97550", 1), ("97551", 1)]),
        (52, [("97550", 1), ("97551", 1)]),
        (53, [("97550", 1), ("97551", 2)]),
        (67, [("97550", 1), ("97551", 2)]),
        (68, [("97550", 1), ("97551", 3)]),
        (82, [("97550", 1), ("97551", 3)]),
        (83, [("97550", 1), ("97551", 4)]),
    ],
)
def test_r2_single_caregiver_set_billed_by_minutes(minutes, lines):
    facts = scenario_session(RITA, TOM, minutes=minutes)
    evaluation = evaluate_session(facts)
    assert [(line.cpt, line.units) for line in evaluation.lines] == lines
    expected = {("A1001", "SINGLE_CAREGIVER_SET")}
    if not lines:
        expected.add(("A1001", "UNDER_MINIMUM_TIME"))
    assert finding_pairs(evaluation, facts) == expected


def test_r2_single_set_findings_are_warnings_on_the_session():
    evaluation = evaluate_session(scenario_session(RITA, minutes=10))
    assert {(f.code, f.severity, f.rule, f.patient_id) for f in evaluation.findings} == {
        ("SINGLE_CAREGIVER_SET", WARN, "R2", WALTER.id),
        ("UNDER_MINIMUM_TIME", WARN, "R2", WALTER.id),
    }
    under = next(f for f in evaluation.findings if f.code == "UNDER_MINIMUM_TIME")
    assert "Walter Ames (A1001)" in under.message and "10 minutes" in under.message


def test_r2_unknown_minutes_for_a_single_set_is_our_no_actual_times_block():
    facts = scenario_session(RITA, minutes=None)
    evaluation = evaluate_session(facts)
    assert evaluation.lines == ()
    assert [(f.code, f.severity, f.rule) for f in evaluation.findings] == [
        ("SINGLE_CAREGIVER_SET", WARN, "R2"),
        ("NO_ACTUAL_TIMES", BLOCK, "R2"),
    ]
    assert finding_pairs(evaluation, facts) == {("A1001", "SINGLE_CAREGIVER_SET")}


def test_r2_policy_can_change_the_ladder():
    policy = BillingPolicy(initial_min_minutes=23)
    assert individual_codes(22, policy) == []
    assert individual_codes(23, policy) == [("97550", 1)]


def test_r2_a_single_set_takes_the_other_findings_on_both_lines():
    lone = dataclasses.replace(WALTER, diagnosis_codes=())
    evaluation = evaluate_session(session((RITA, lone), minutes=45))
    assert [codes_of(line) for line in evaluation.lines] == [["NO_DIAGNOSIS"], ["NO_DIAGNOSIS"]]
    assert [f.code for f in evaluation.findings] == ["SINGLE_CAREGIVER_SET", "NO_DIAGNOSIS"]


# ---------------------------------------------------------------- R3 patient present

def test_r3_present_patient_does_not_count_towards_the_group():
    facts = scenario_session(RITA, JUNE, present_patient_ids=frozenset({HELEN.id}), minutes=45)
    evaluation = evaluate_session(facts)
    assert [line.key for line in evaluation.lines] == [(WALTER.id, "97550"), (WALTER.id, "97551")]
    assert finding_pairs(evaluation, facts) == {
        ("A1002", "PATIENT_PRESENT"), ("A1001", "SINGLE_CAREGIVER_SET")
    }


def test_r3_present_patient_without_checkins_still_gets_the_warning():
    facts = scenario_session(RITA, JUNE, present_patient_ids=frozenset({OMAR.id}),
                             extra_patients=[OMAR])
    evaluation = evaluate_session(facts)
    assert len(evaluation.lines) == 2
    present = [f for f in evaluation.findings if f.code == "PATIENT_PRESENT"]
    assert [(f.patient_id, f.severity, f.rule) for f in present] == [(OMAR.id, WARN, "R3")]
    assert "Omar Cruz (A1003)" in present[0].message


# ---------------------------------------------------------------- R4 facilitator

def test_r4_no_facilitator_holds_every_line():
    evaluation = evaluate_session(scenario_session(*ALL_FOUR, facilitator=None))
    assert [line.status for line in evaluation.lines] == ["held"] * 3
    assert all(codes_of(line) == ["NO_FACILITATOR"] for line in evaluation.lines)
    assert all(line.rendering_npi is None for line in evaluation.lines)
    assert [(f.code, f.severity, f.rule, f.patient_id) for f in evaluation.findings] == [
        ("NO_FACILITATOR", BLOCK, "R4", pid) for pid in (WALTER.id, HELEN.id, OMAR.id)
    ]


def test_r4_invalid_npi_holds_the_lines():
    bad = FacilitatorFacts(4, "Pat Bad, PT", "PT", "1234567890")
    evaluation = evaluate_session(scenario_session(RITA, JUNE, facilitator=bad))
    assert [line.status for line in evaluation.lines] == ["held", "held"]
    assert all(codes_of(line) == ["INVALID_NPI"] for line in evaluation.lines)
    assert evaluation.lines[0].rendering_npi == "1234567890"
    assert "1234567890" in evaluation.findings[0].message


def test_r4_correcting_the_facilitator_releases_the_lines():
    bad = FacilitatorFacts(1, "Dana Reyes, PT", "PT", "1234567890")
    held = evaluate_session(scenario_session(RITA, JUNE, facilitator=bad))
    fixed = evaluate_session(scenario_session(RITA, JUNE))
    assert [line.key for line in held.lines] == [line.key for line in fixed.lines]
    assert [line.status for line in fixed.lines] == ["ready", "ready"]


@pytest.mark.parametrize("npi", ["1234567893", "1987654328", "1456789019"])
def test_npi_valid_examples(npi):
    assert npi_has_shape(npi) and npi_is_valid(npi)


@pytest.mark.parametrize("npi", ["1234567893", "1987654328", "1456789019"])
def test_npi_with_check_digit_completes_the_examples(npi):
    assert npi_with_check_digit(npi[:9]) == npi


@pytest.mark.parametrize("npi", ["1234567890", "1987654320", "0000000001"])
def test_npi_wrong_check_digit(npi):
    assert npi_has_shape(npi) and not npi_is_valid(npi)


@pytest.mark.parametrize("npi", ["", "123456789", "12345678930", "123456789X", " 1234567893",
                                 "1234567893\n", "１２３４５６７８９３"])
def test_npi_wrong_shape(npi):
    assert not npi_has_shape(npi)
    assert not npi_is_valid(npi)


# ---------------------------------------------------------------- R5 modifiers

@pytest.mark.parametrize(
    ("discipline", "npi", "expected"),
    [
        ("PT", "1234567893", ("GP",)),
        ("PTA", "1234567893", ("GP", "CQ")),
        ("OT", "1987654328", ("GO",)),
        ("OTA", "1987654328", ("GO", "CO")),
        ("SLP", "1456789019", ("GN",)),
    ],
)
def test_r5_modifier_from_facilitator_discipline(discipline, npi, expected):
    facilitator = FacilitatorFacts(5, "Someone", discipline, npi)
    evaluation = evaluate_session(scenario_session(RITA, JUNE, facilitator=facilitator))
    assert {line.modifiers for line in evaluation.lines} == {expected}


@pytest.mark.parametrize("discipline", ["MD", "DO", "NP", "PA", "CNS"])
def test_r5_practitioner_takes_plan_of_care_discipline(discipline):
    doctor = FacilitatorFacts(6, "Dr. Kim", discipline, "1234567893")
    walter_ot = dataclasses.replace(WALTER, poc_discipline="OT")
    helen_slp = dataclasses.replace(HELEN, poc_discipline="SLP")
    omar_none = dataclasses.replace(OMAR, poc_discipline=None)
    facts = session((RITA, walter_ot), (JUNE, helen_slp), (LUIS, omar_none), facilitator=doctor)
    evaluation = evaluate_session(facts)
    assert [line.modifiers for line in evaluation.lines] == [("GO",), ("GN",), ()]


def test_r5_without_facilitator_the_plan_of_care_gives_the_modifier():
    walter_ot = dataclasses.replace(WALTER, poc_discipline="OT")
    evaluation = evaluate_session(session((RITA, walter_ot), (JUNE, HELEN), facilitator=None))
    assert [line.modifiers for line in evaluation.lines] == [("GO",), ("GP",)]


def test_r5_modifier_order_therapy_assistant_telehealth():
    pta = FacilitatorFacts(7, "Ana Lim, PTA", "PTA", "1234567893")
    evaluation = evaluate_session(scenario_session(RITA, JUNE, facilitator=pta, modality="telehealth",
                                                   place_of_service="10"))
    assert {line.modifiers for line in evaluation.lines} == {("GP", "CQ", "95")}


# ---------------------------------------------------------------- R6 consent

def test_r6_no_consent_blocks_with_a_message_naming_the_patient():
    omar = dataclasses.replace(OMAR, consent_date=None, consent_kind=None)
    evaluation = evaluate_session(session((RITA, WALTER), (LUIS, omar)))
    line = line_for(evaluation, OMAR.id)
    assert line.status == "held"
    [finding] = line.findings
    assert (finding.code, finding.severity, finding.rule) == ("NO_CONSENT", BLOCK, "R6")
    assert finding.message == (
        "Omar Cruz (A1003) has no caregiver-training consent dated on or before 2026-02-03; "
        "record the consent on the patient's page."
    )


def test_r6_consent_after_the_date_of_service_is_missing():
    late = dataclasses.replace(OMAR, consent_date=date(2026, 2, 4))
    on_the_day = dataclasses.replace(OMAR, consent_date=DOS)
    assert codes_of(line_for(evaluate_session(session((RITA, WALTER), (LUIS, late))), OMAR.id)) == [
        "NO_CONSENT"
    ]
    assert codes_of(line_for(evaluate_session(session((RITA, WALTER), (LUIS, on_the_day))),
                             OMAR.id)) == []


def test_r6_verbal_consent_before_2025_warns():
    verbal = dataclasses.replace(
        WALTER, consent_date=date(2024, 10, 1), consent_kind="verbal",
        poc_start=date(2024, 10, 1), poc_end=date(2025, 3, 1),
    )
    helen = dataclasses.replace(HELEN, consent_date=date(2024, 10, 1),
                                poc_start=date(2024, 10, 1), poc_end=date(2025, 3, 1))
    facts = session((RITA, verbal), (JUNE, helen), date_of_service=date(2024, 12, 31))
    evaluation = evaluate_session(facts)
    line = line_for(evaluation, WALTER.id)
    assert codes_of(line) == ["CONSENT_VERBAL_PRE_2025"]
    assert line.status == "ready"
    assert line.findings[0].severity == WARN
    assert codes_of(line_for(evaluation, HELEN.id)) == []

    from_2025 = dataclasses.replace(facts, date_of_service=date(2025, 1, 1))
    assert evaluate_session(from_2025).findings == ()


# ---------------------------------------------------------------- R7 plan of care

@pytest.mark.parametrize(
    ("start", "end", "held"),
    [
        (date(2026, 1, 2), date(2026, 6, 30), False),
        (DOS, DOS, False),
        (date(2026, 2, 4), date(2026, 6, 30), True),
        (date(2025, 10, 1), date(2026, 2, 2), True),
        (None, None, True),
        (date(2026, 1, 2), None, True),
    ],
)
def test_r7_plan_of_care_must_cover_the_date_of_service(start, end, held):
    omar = dataclasses.replace(OMAR, poc_start=start, poc_end=end)
    line = line_for(evaluate_session(session((RITA, WALTER), (LUIS, omar))), OMAR.id)
    assert codes_of(line) == (["OUTSIDE_PLAN_OF_CARE"] if held else [])
    assert line.status == ("held" if held else "ready")


# ---------------------------------------------------------------- R8 diagnoses

def test_r8_line_carries_the_patients_codes_in_order():
    helen = dataclasses.replace(HELEN, diagnosis_codes=("R26.89", "I69.391", "Z74.09"))
    line = line_for(evaluate_session(session((RITA, WALTER), (JUNE, helen))), HELEN.id)
    assert line.diagnosis_codes == ("R26.89", "I69.391", "Z74.09")


def test_r8_no_diagnosis_blocks():
    helen = dataclasses.replace(HELEN, diagnosis_codes=())
    line = line_for(evaluate_session(session((RITA, WALTER), (JUNE, helen))), HELEN.id)
    assert codes_of(line) == ["NO_DIAGNOSIS"]
    assert line.status == "held"
    assert line.diagnosis_codes == ()


# ---------------------------------------------------------------- R9 same patient, same code, same day

def test_r9_earlier_same_day_flags_the_line():
    facts = scenario_session(RITA, JUNE)
    evaluation = evaluate_session(facts, earlier_same_day=frozenset({(WALTER.id, "97552")}))
    walter = line_for(evaluation, WALTER.id)
    assert codes_of(walter) == ["DUPLICATE_SAME_DAY"]
    assert walter.status == "ready"
    assert codes_of(line_for(evaluation, HELEN.id)) == []
    assert [(f.code, f.severity, f.rule, f.patient_id) for f in evaluation.findings] == [
        ("DUPLICATE_SAME_DAY", WARN, "R9", WALTER.id)
    ]


def test_r9_is_per_code():
    facts = scenario_session(RITA, minutes=45)
    evaluation = evaluate_session(facts, earlier_same_day=frozenset({(WALTER.id, "97552"),
                                                                     (WALTER.id, "97551")}))
    assert [codes_of(line) for line in evaluation.lines] == [[], ["DUPLICATE_SAME_DAY"]]


def test_r9_evaluate_day_flags_only_the_later_session():
    morning = scenario_session(RITA, JUNE, session_id=20, sort_key=(10, 20))
    afternoon = scenario_session(TOM, LUIS, session_id=10, sort_key=(14, 10))
    results = evaluate_day([afternoon, morning])
    assert results[20].findings == ()
    assert [codes_of(line) for line in results[10].lines] == [["DUPLICATE_SAME_DAY"], []]
    assert results[10].lines[0].patient_id == WALTER.id


def test_r9_evaluate_day_ignores_cancelled_sessions_and_other_days():
    cancelled = scenario_session(RITA, JUNE, session_id=1, sort_key=(8,), status="cancelled")
    other_day = scenario_session(RITA, JUNE, session_id=2, sort_key=(9,),
                                 date_of_service=date(2026, 2, 2))
    later = scenario_session(RITA, JUNE, session_id=3, sort_key=(10,))
    results = evaluate_day([later, other_day, cancelled])
    assert results[1] == Evaluation(1, (), ())
    assert results[3].findings == ()


def test_s3_lines_of_sessions_not_evaluated_count_where_their_session_is():
    """evaluate_day(others=...): the stored lines of unchanged sessions of the day (S3)."""
    from roster.domain.billing import SameDayLine

    now = scenario_session(RITA, JUNE, session_id=5, sort_key=(12,))
    earlier = [SameDayLine(DOS, (9,), 9, (WALTER.id, "97552"))]
    later = [SameDayLine(DOS, (15,), 1, (WALTER.id, "97552"))]
    tie_lower_id = [SameDayLine(DOS, (12,), 4, (WALTER.id, "97552"))]
    other_day = [SameDayLine(date(2026, 2, 2), (9,), 9, (WALTER.id, "97552"))]
    flagged = lambda others: {f.code for f in evaluate_day([now], others=others)[5].findings}  # noqa: E731
    assert flagged(earlier) == {"DUPLICATE_SAME_DAY"}
    assert flagged(tie_lower_id) == {"DUPLICATE_SAME_DAY"}
    assert flagged(later) == set()
    assert flagged(other_day) == set()


def test_r9_ties_in_sort_key_go_by_session_id():
    first = scenario_session(RITA, JUNE, session_id=4)
    second = scenario_session(RITA, JUNE, session_id=5)
    results = evaluate_day([second, first])
    assert results[4].findings == ()
    assert {f.code for f in results[5].findings} == {"DUPLICATE_SAME_DAY"}


# ---------------------------------------------------------------- R10 needs

def test_r10_needs_mismatch_warns():
    helen = dataclasses.replace(HELEN, needs=frozenset({"dementia"}))
    evaluation = evaluate_session(session((RITA, WALTER), (JUNE, helen)))
    line = line_for(evaluation, HELEN.id)
    assert codes_of(line) == ["NEEDS_MISMATCH"]
    assert line.status == "ready"
    assert codes_of(line_for(evaluation, WALTER.id)) == []


def test_r10_patient_without_needs_mismatches_a_focused_class():
    helen = dataclasses.replace(HELEN, needs=frozenset())
    line = line_for(evaluate_session(session((RITA, WALTER), (JUNE, helen))), HELEN.id)
    assert codes_of(line) == ["NEEDS_MISMATCH"]


def test_r10_one_shared_need_is_enough():
    helen = dataclasses.replace(HELEN, needs=frozenset({"dementia", "stroke"}))
    assert evaluate_session(session((RITA, WALTER), (JUNE, helen))).findings == ()


def test_s4_a_class_without_focus_needs_warns_every_billed_patient():
    other = dataclasses.replace(HELEN, needs=frozenset({"dementia"}))
    evaluation = evaluate_session(session((RITA, WALTER), (JUNE, other), class_needs=frozenset()))
    assert codes_of(line_for(evaluation, WALTER.id)) == ["NEEDS_MISMATCH"]
    assert codes_of(line_for(evaluation, HELEN.id)) == ["NEEDS_MISMATCH"]
    assert "no focus needs" in line_for(evaluation, WALTER.id).findings[0].message


# ---------------------------------------------------------------- R11 shared caregiver

def test_r11_caregiver_for_two_patients_bills_both_and_warns_on_both():
    facts = session((RITA, WALTER), (RITA, HELEN), (LUIS, OMAR))
    evaluation = evaluate_session(facts)
    assert len(evaluation.lines) == 3
    assert [codes_of(line) for line in evaluation.lines] == [
        ["SHARED_CAREGIVER"], ["SHARED_CAREGIVER"], []
    ]
    assert all(line.status == "ready" for line in evaluation.lines)
    assert "Helen Brooks (A1002)" in line_for(evaluation, WALTER.id).findings[0].message


def test_r11_a_shared_caregiver_alone_still_makes_a_group():
    evaluation = evaluate_session(session((RITA, WALTER), (RITA, HELEN)))
    assert [line.cpt for line in evaluation.lines] == ["97552", "97552"]


def test_r11_ignores_a_present_patient():
    facts = session((RITA, WALTER), (RITA, HELEN), (LUIS, OMAR),
                    present_patient_ids=frozenset({HELEN.id}))
    evaluation = evaluate_session(facts)
    assert {f.code for f in evaluation.findings} == {"PATIENT_PRESENT"}


def test_r11_repeated_checkin_of_the_same_caregiver_is_not_sharing():
    facts = session((RITA, WALTER), (RITA, WALTER), (JUNE, HELEN))
    assert evaluate_session(facts).findings == ()


# ---------------------------------------------------------------- R12 telehealth

@pytest.mark.parametrize(("class_pos", "line_pos"), [("02", "02"), ("10", "10"), ("11", "02"), ("", "02")])
def test_r12_telehealth_place_of_service(class_pos, line_pos):
    facts = scenario_session(RITA, JUNE, modality="telehealth", place_of_service=class_pos)
    evaluation = evaluate_session(facts)
    assert {line.place_of_service for line in evaluation.lines} == {line_pos}
    assert {line.modifiers for line in evaluation.lines} == {("GP", "95")}


def test_r12_in_person_takes_the_class_place_of_service():
    evaluation = evaluate_session(scenario_session(RITA, JUNE, place_of_service="22"))
    assert {line.place_of_service for line in evaluation.lines} == {"22"}
    assert {line.modifiers for line in evaluation.lines} == {("GP",)}


def test_r12_telehealth_before_2025_is_blocked():
    early = date(2024, 12, 31)
    walter = dataclasses.replace(WALTER, consent_date=date(2024, 11, 1), poc_start=date(2024, 11, 1))
    helen = dataclasses.replace(HELEN, consent_date=date(2024, 11, 1), poc_start=date(2024, 11, 1))
    facts = session((RITA, walter), (JUNE, helen), modality="telehealth", place_of_service="02",
                    date_of_service=early)
    evaluation = evaluate_session(facts)
    assert [codes_of(line) for line in evaluation.lines] == [["TELEHEALTH_NOT_COVERED"]] * 2
    assert [line.status for line in evaluation.lines] == ["held", "held"]
    in_person = dataclasses.replace(facts, modality="in_person", place_of_service="11")
    assert evaluate_session(in_person).findings == ()
    from_2025 = dataclasses.replace(facts, date_of_service=date(2025, 1, 1))
    assert evaluate_session(from_2025).findings == ()


# ---------------------------------------------------------------- R13 not held

@pytest.mark.parametrize("status", ["scheduled", "cancelled"])
def test_r13_sessions_not_held_produce_nothing(status):
    evaluation = evaluate_session(scenario_session(*ALL_FOUR, status=status, facilitator=None))
    assert evaluation == Evaluation(7, (), ())


# ---------------------------------------------------------------- R14 status

def test_r14_warnings_alone_leave_a_line_ready_and_any_block_holds_it():
    warn = Finding("NEEDS_MISMATCH", WARN, "R10", 1, "x")
    block = Finding("NO_CONSENT", BLOCK, "R6", 1, "y")
    line = LineDraft(1, (warn,), cpt="97552", units=1, modifiers=("GP",), place_of_service="11",
                     diagnosis_codes=("I69.351",), rendering_npi="1234567893")
    assert line.status == "ready"
    assert dataclasses.replace(line, findings=(warn, block)).status == "held"
    assert dataclasses.replace(line, findings=()).status == "ready"
    assert line.key == (1, "97552")


def test_r14_several_problems_all_reported_on_the_line_in_rule_order():
    messy = dataclasses.replace(
        OMAR, consent_date=None, diagnosis_codes=(), needs=frozenset({"dementia"}), poc_end=None
    )
    facts = session((RITA, WALTER), (RITA, messy), facilitator=None)
    line = line_for(evaluate_session(facts, earlier_same_day=frozenset({(OMAR.id, "97552")})),
                    OMAR.id)
    assert codes_of(line) == [
        "NO_FACILITATOR", "NO_CONSENT", "OUTSIDE_PLAN_OF_CARE", "NO_DIAGNOSIS",
        "DUPLICATE_SAME_DAY", "NEEDS_MISMATCH", "SHARED_CAREGIVER",
    ]
    assert line.status == "held"


# ---------------------------------------------------------------- R15 determinism, findings list

def test_r15_same_facts_same_evaluation_whatever_the_order_given():
    facts = session((LUIS, OMAR), (JUNE, HELEN), (RITA, WALTER), (RITA, OMAR), facilitator=None)
    reordered = dataclasses.replace(
        facts,
        checkins=tuple(reversed(facts.checkins)),
        patients=dict(reversed(list(facts.patients.items()))),
    )
    assert evaluate_session(facts) == evaluate_session(facts) == evaluate_session(reordered)


def test_session_findings_include_line_findings_once_per_patient_and_code():
    walter = dataclasses.replace(WALTER, consent_date=None)
    facts = session((RITA, walter), minutes=70, facilitator=None)
    evaluation = evaluate_session(facts, earlier_same_day=frozenset({(WALTER.id, "97550"),
                                                                     (WALTER.id, "97551")}))
    assert [line.cpt for line in evaluation.lines] == ["97550", "97551"]
    assert evaluation.lines[0].findings == evaluation.lines[1].findings
    assert [f.code for f in evaluation.findings] == [
        "SINGLE_CAREGIVER_SET", "NO_FACILITATOR", "NO_CONSENT", "DUPLICATE_SAME_DAY"
    ]
    duplicate = evaluation.findings[-1]
    assert "97550 and 97551" in duplicate.message
    line_findings = {f for line in evaluation.lines for f in line.findings}
    assert line_findings <= set(evaluation.findings)


def test_findings_are_ordered_by_patient_mrn_then_rule():
    helen = dataclasses.replace(HELEN, diagnosis_codes=())
    walter = dataclasses.replace(WALTER, consent_date=None)
    facts = session((JUNE, helen), (RITA, walter), (LUIS, OMAR),
                    present_patient_ids=frozenset({OMAR.id}))
    assert [(f.patient_id, f.code) for f in evaluate_session(facts).findings] == [
        (WALTER.id, "NO_CONSENT"), (HELEN.id, "NO_DIAGNOSIS"), (OMAR.id, "PATIENT_PRESENT")
    ]


def test_every_message_names_the_patient():
    messy = dataclasses.replace(
        OMAR, consent_date=None, diagnosis_codes=(), needs=frozenset(), poc_start=None
    )
    facts = session((RITA, WALTER), (RITA, messy), facilitator=FacilitatorFacts(9, "X", "PT", "1"),
                    present_patient_ids=frozenset({HELEN.id}), extra_patients=[HELEN],
                    modality="telehealth", date_of_service=date(2024, 6, 3))
    evaluation = evaluate_session(facts, earlier_same_day=frozenset({(OMAR.id, "97552")}))
    assert len(evaluation.findings) >= 8
    for finding in evaluation.findings:
        name = facts.patients[finding.patient_id].display_name
        assert name in finding.message, finding
        assert finding.message.endswith("."), finding


def test_finding_codes_table_matches_the_rule_book():
    assert FINDING_CODES == {
        "SINGLE_CAREGIVER_SET": (WARN, "R2"),
        "UNDER_MINIMUM_TIME": (WARN, "R2"),
        "NO_ACTUAL_TIMES": (BLOCK, "R2"),
        "PATIENT_PRESENT": (WARN, "R3"),
        "NO_FACILITATOR": (BLOCK, "R4"),
        "INVALID_NPI": (BLOCK, "R4"),
        "NO_CONSENT": (BLOCK, "R6"),
        "CONSENT_VERBAL_PRE_2025": (WARN, "R6"),
        "OUTSIDE_PLAN_OF_CARE": (BLOCK, "R7"),
        "NO_DIAGNOSIS": (BLOCK, "R8"),
        "DUPLICATE_SAME_DAY": (WARN, "R9"),
        "NEEDS_MISMATCH": (WARN, "R10"),
        "SHARED_CAREGIVER": (WARN, "R11"),
        "TELEHEALTH_NOT_COVERED": (BLOCK, "R12"),
        "CODE_NOT_EFFECTIVE": (WARN, "R19"),
        "DISCIPLINE_NOT_ELIGIBLE": (BLOCK, "R20"),
        "MUE_EXCEEDED": (WARN, "R21"),
        "NOT_COVERED_BY_PAYER": (BLOCK, "R22"),  # the rule book's "payer profiles"
    }


def test_display_name_and_default_policy():
    assert OMAR.display_name == "Omar Cruz (A1003)"
    assert DEFAULT_POLICY == BillingPolicy()
    assert hash(DEFAULT_POLICY) == hash(BillingPolicy())


def test_unknown_patient_reference_is_a_programming_error():
    facts = dataclasses.replace(scenario_session(RITA, JUNE), patients={WALTER.id: WALTER})
    with pytest.raises(ValueError, match="patient ids \\[2\\]"):
        evaluate_session(facts)
