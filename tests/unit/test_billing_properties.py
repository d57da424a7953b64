"""Property tests of the billing rules over random session facts (hypothesis)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from roster.domain.billing import (
    BLOCK,
    CheckInFacts,
    FacilitatorFacts,
    PatientFacts,
    SessionFacts,
    evaluate_day,
    evaluate_session,
)

EXAMPLES = settings(max_examples=200, deadline=None)

DISCIPLINES = ["PT", "PTA", "OT", "OTA", "SLP", "MD", "DO", "NP", "PA", "CNS"]
NPIS = ["1234567893", "1987654328", "1456789019", "1234567890", "12345"]
NEEDS = ["stroke", "dementia", "parkinson", "tbi"]
# A few dates around the policy cut-over (2025-01-01) and the usual date of service.
DAYS = st.sampled_from([
    date(2024, 6, 3), date(2024, 12, 31), date(2025, 1, 1), date(2025, 7, 15),
    date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 4), date(2026, 6, 30),
])
DIAGNOSES = ["I69.351", "I69.391", "R26.89", "G30.9", "G20.A1"]

# Strategies are built once here: building them inside draw() is slow.
MAYBE_DAY = st.none() | DAYS
MRN_NUMBERS = st.integers(1000, 1020)
FIRST_NAMES = st.sampled_from(["Walter", "Helen", "Omar", "Ana"])
LAST_NAMES = st.sampled_from(["Ames", "Brooks", "Cruz", "Diaz"])
PATIENT_NEEDS = st.frozensets(st.sampled_from(NEEDS), max_size=2)
DIAGNOSIS_LISTS = st.lists(st.sampled_from(DIAGNOSES), max_size=3, unique=True)
CONSENT_KINDS = st.sampled_from(["written", "verbal"])
POC_DISCIPLINES = st.none() | st.sampled_from(["PT", "OT", "SLP"])
POC_LENGTHS = st.sampled_from([0, 1, 30, 400])
PATIENT_COUNTS = st.sampled_from(range(6))
CHECKIN_PAIRS = st.lists(st.tuples(st.integers(1, 8), st.integers(1, 5)), min_size=1, max_size=10)
PRESENT_SLOTS = st.frozensets(st.integers(1, 5), max_size=2)
SESSION_IDS = st.integers(1, 50)
MINUTES = st.none() | st.integers(0, 130)
MODALITIES = st.sampled_from(["in_person", "telehealth"])
PLACES = st.sampled_from(["11", "02", "10", "22"])
CLASS_NEEDS = st.just(frozenset({"stroke"})) | st.frozensets(st.sampled_from(NEEDS), max_size=2)
SORT_KEYS = st.tuples(st.integers(0, 3))
ANY_STATUS = st.sampled_from(["held", "held", "held", "scheduled", "cancelled"])
IN_ORDER = st.booleans()
FACILITATORS = st.none() | st.sampled_from([
    FacilitatorFacts(1, "Dana Reyes, PT", "PT", "1234567893"),
    FacilitatorFacts(2, "Ana Lim, OTA", "OTA", "1987654328"),
]) | st.builds(
    FacilitatorFacts,
    id=st.integers(1, 5),
    name=st.sampled_from(["Dana Reyes, PT", "Sam Ortiz, OT", "Dr. Kim"]),
    discipline=st.sampled_from(DISCIPLINES),
    npi=st.sampled_from(NPIS),
)


def patient_from(draw, pid: int) -> PatientFacts:
    """Half the time a patient whose own data is all in order, otherwise anything."""
    if draw(IN_ORDER):
        return PatientFacts(
            id=pid, mrn=f"A{draw(MRN_NUMBERS)}-{pid}", first_name="Walter", last_name="Ames",
            needs=frozenset({"stroke"}), diagnosis_codes=("I69.351",),
            consent_date=date(2024, 6, 3), consent_kind="written", poc_discipline="PT",
            poc_start=date(2024, 6, 3), poc_end=date(2026, 12, 31),
        )
    consent = draw(MAYBE_DAY)
    poc_start = draw(MAYBE_DAY)
    return PatientFacts(
        id=pid,
        mrn=f"A{draw(MRN_NUMBERS)}-{pid}",
        first_name=draw(FIRST_NAMES),
        last_name=draw(LAST_NAMES),
        needs=draw(PATIENT_NEEDS),
        diagnosis_codes=tuple(draw(DIAGNOSIS_LISTS)),
        consent_date=consent,
        consent_kind=None if consent is None else draw(CONSENT_KINDS),
        poc_discipline=draw(POC_DISCIPLINES),
        poc_start=poc_start,
        poc_end=None if poc_start is None else poc_start + timedelta(days=draw(POC_LENGTHS)),
    )


@st.composite
def sessions(draw, status=ANY_STATUS):
    """Random session facts: up to 5 patients, up to 10 check-ins by 8 caregivers."""
    count = draw(PATIENT_COUNTS)
    pool = {pid: patient_from(draw, pid) for pid in range(1, count + 1)}
    checkins = [
        CheckInFacts(caregiver, (slot - 1) % count + 1)
        for caregiver, slot in (draw(CHECKIN_PAIRS) if count else [])
    ]
    present = frozenset(pid for pid in draw(PRESENT_SLOTS) if pid in pool)
    return SessionFacts(
        session_id=draw(SESSION_IDS),
        status=draw(status),
        date_of_service=draw(DAYS),
        minutes=draw(MINUTES),
        modality=draw(MODALITIES),
        place_of_service=draw(PLACES),
        class_needs=draw(CLASS_NEEDS),
        facilitator=draw(FACILITATORS),
        patients=pool,
        checkins=tuple(checkins),
        present_patient_ids=present,
        sort_key=draw(SORT_KEYS),
    )


held_sessions = sessions(status=st.just("held"))
earlier_keys = st.frozensets(
    st.tuples(st.integers(1, 5), st.sampled_from(["97550", "97551", "97552"])), max_size=4
)


@EXAMPLES
@given(sessions(), earlier_keys)
def test_at_most_one_line_per_patient_and_code(facts, earlier):
    keys = Counter(line.key for line in evaluate_session(facts, earlier_same_day=earlier).lines)
    assert all(n == 1 for n in keys.values())
    group_lines = Counter(pid for pid, cpt in keys if cpt == "97552")
    assert all(n <= 1 for n in group_lines.values())


@EXAMPLES
@given(sessions())
def test_never_a_line_for_a_present_patient(facts):
    evaluation = evaluate_session(facts)
    assert not {line.patient_id for line in evaluation.lines} & facts.present_patient_ids


@EXAMPLES
@given(sessions())
def test_lines_only_for_represented_patients_and_a_group_gets_one_each(facts):
    evaluation = evaluate_session(facts)
    represented = {c.patient_id for c in facts.checkins} - facts.present_patient_ids
    assert {line.patient_id for line in evaluation.lines} <= represented
    if facts.status == "held" and len(represented) >= 2:
        assert sorted(line.key for line in evaluation.lines) == sorted(
            (pid, "97552") for pid in represented
        )
        assert all(line.units == 1 for line in evaluation.lines)


@EXAMPLES
@given(sessions(), st.data())
def test_never_a_line_per_caregiver(facts, data):
    """Another caregiver of a patient already checked in changes nothing at all."""
    checked_in = sorted({c.patient_id for c in facts.checkins})
    if not checked_in:
        return
    pid = data.draw(st.sampled_from(checked_in))
    extra = data.draw(st.integers(1, 3))
    new_caregivers = tuple(CheckInFacts(100 + i, pid) for i in range(extra))
    more = dataclasses.replace(facts, checkins=facts.checkins + new_caregivers)
    assert evaluate_session(more) == evaluate_session(facts)


@EXAMPLES
@given(sessions())
def test_97551_only_with_97550_for_the_same_patient(facts):
    keys = {line.key for line in evaluate_session(facts).lines}
    for pid, cpt in keys:
        if cpt == "97551":
            assert (pid, "97550") in keys
        if cpt in {"97550", "97551"}:
            assert (pid, "97552") not in keys


@EXAMPLES
@given(sessions(), earlier_keys, st.data())
def test_same_facts_same_result_whatever_the_order(facts, earlier, data):
    first = evaluate_session(facts, earlier_same_day=earlier)
    assert evaluate_session(facts, earlier_same_day=earlier) == first
    shuffled = dataclasses.replace(
        facts,
        checkins=tuple(data.draw(st.permutations(facts.checkins))),
        patients=dict(data.draw(st.permutations(list(facts.patients.items())))),
    )
    assert evaluate_session(shuffled, earlier_same_day=earlier) == first


@EXAMPLES
@given(sessions(status=st.sampled_from(["scheduled", "cancelled"])), earlier_keys)
def test_sessions_not_held_give_nothing(facts, earlier):
    evaluation = evaluate_session(facts, earlier_same_day=earlier)
    assert evaluation.lines == () and evaluation.findings == ()
    assert evaluation.session_id == facts.session_id


@EXAMPLES
@given(sessions(), earlier_keys)
def test_held_exactly_when_a_block_finding(facts, earlier):
    for line in evaluate_session(facts, earlier_same_day=earlier).lines:
        has_block = any(f.severity == BLOCK for f in line.findings)
        assert (line.status == "held") == has_block
        assert line.status in {"held", "ready"}


@EXAMPLES
@given(sessions(), earlier_keys)
def test_session_findings_hold_every_line_finding_once(facts, earlier):
    evaluation = evaluate_session(facts, earlier_same_day=earlier)
    for line in evaluation.lines:
        assert set(line.findings) <= set(evaluation.findings)
    ids = [(f.code, f.patient_id) for f in evaluation.findings]
    assert len(ids) == len(set(ids))
    for finding in evaluation.findings:
        if finding.patient_id is not None:
            assert facts.patients[finding.patient_id].display_name in finding.message


@EXAMPLES
@given(sessions())
def test_lines_in_mrn_then_cpt_order(facts):
    lines = evaluate_session(facts).lines
    order = [(facts.patients[line.patient_id].mrn, line.cpt) for line in lines]
    assert order == sorted(order)


@settings(max_examples=100, deadline=None)
@given(st.lists(held_sessions, max_size=4), st.data())
def test_evaluate_day_does_not_depend_on_the_order_given(day, data):
    day = [dataclasses.replace(s, session_id=i, date_of_service=date(2026, 2, 3))
           for i, s in enumerate(day)]
    results = evaluate_day(day)
    assert evaluate_day(data.draw(st.permutations(day))) == results
    first = min(day, key=lambda s: (s.sort_key, s.session_id), default=None)
    if first is not None:
        assert results[first.session_id] == evaluate_session(first)


@settings(max_examples=100, deadline=None)
@given(st.lists(held_sessions, max_size=4), st.integers(1, 5))
def test_one_patients_evaluation_is_the_whole_days_restricted_to_that_patient(day, pid):
    """A change to one patient's own facts re-derives only that patient's lines and findings
    (issue 12): they must be exactly what the whole day's evaluation gives that patient."""
    day = [dataclasses.replace(s, session_id=i, date_of_service=date(2026, 2, 3)) for i, s in enumerate(day)]
    whole, mine = evaluate_day(day), evaluate_day(day, only=frozenset({pid}))
    assert set(mine) == set(whole)
    for sid, evaluation in whole.items():
        assert mine[sid].lines == tuple(line for line in evaluation.lines if line.patient_id == pid)
        assert mine[sid].findings == tuple(f for f in evaluation.findings if f.patient_id == pid)
