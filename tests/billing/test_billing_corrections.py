"""Billing stays right after corrections: held facts (S8), check-in relationships (S9), claim
identity (S6, S7), same-day duplicates (S3, R9), unfocused classes (S4), and re-evaluation that
touches exactly the sessions a change concerns."""

from __future__ import annotations

import csv
import io

import pytest

from roster.services.billing import evaluate as billing_evaluate
from tests.billing.clinic import Clinic


def rows(clinic: Clinic, batch: dict) -> list[dict]:
    return list(csv.DictReader(io.StringIO(clinic.csv(batch["id"]))))


def codes(billing: dict) -> set[tuple[str, str]]:
    return {(f["patient_mrn"], f["code"]) for f in billing["findings"]}


# --------------------------------------------------------------------------- S8


def test_s8_class_edits_never_rebill_a_held_session(api):
    clinic = Clinic(api("admin"))
    a, b = clinic.patient(), clinic.patient()
    (held, later) = clinic.group_class(["2026-02-03T10:00", "2026-02-10T10:00"])
    class_id = clinic.last_class_id
    ca, cb = clinic.caregiver(a), clinic.caregiver(b)
    for mrn, cg in ((a, ca), (b, cb)):
        clinic.enroll(class_id, mrn, [cg])
        clinic.check_in(held, cg, mrn)
    clinic.close(held, "2026-02-03T10:00", clinic.facilitator())
    first = clinic.export()
    assert first["rows"] == 2

    clinic.call("patch", f"/classes/{class_id}", {
        "modality": "telehealth", "place_of_service": "10", "timezone": "Asia/Tokyo", "needs": []})
    lines = clinic.billing(held)["lines"]
    assert [(l["status"], l["place_of_service"], l["modifiers"], l["date_of_service"]) for l in lines] == [
        ("exported", "11", ["GP"], "2026-02-03")] * 2
    assert codes(clinic.billing(held)) == set()
    assert clinic.export()["rows"] == 0  # nothing voided, nothing re-issued

    # Closing the held session again (a corrected end time) keeps the facts it was held with.
    clinic.close(held, "2026-02-03T10:00", clinic.facilitator(), minutes=55)
    assert {l["place_of_service"] for l in clinic.billing(held)["lines"]} == {"11"}

    # The session not yet held is held with the class as it is now.
    for mrn, cg in ((a, ca), (b, cb)):
        clinic.check_in(later, cg, mrn)
    clinic.close(later, "2026-02-10T10:00", clinic.facilitator())
    billing = clinic.billing(later)
    assert {(l["place_of_service"], tuple(l["modifiers"])) for l in billing["lines"]} == {("10", ("GP", "95"))}
    assert codes(billing) == {(a, "NEEDS_MISMATCH"), (b, "NEEDS_MISMATCH")}  # S4: no focus needs


# --------------------------------------------------------------------------- S9


def test_s9_unlinking_a_caregiver_keeps_the_past_check_in_and_its_relationship(api):
    clinic = Clinic(api("admin"))
    a, b = clinic.patient(), clinic.patient()
    ca = clinic.caregiver(a, relationship="daughter")
    cb = clinic.caregiver(b, relationship="spouse")
    session_id = clinic.held_session([(ca, a), (cb, b)], clinic.facilitator())
    before = [(l["patient_mrn"], l["cpt"], l["status"]) for l in clinic.billing(session_id)["lines"]]

    clinic.call("patch", f"/caregivers/{ca}", {"links": [{"patient_mrn": b, "relationship": "friend"}]})
    assert [(l["patient_mrn"], l["cpt"], l["status"]) for l in clinic.billing(session_id)["lines"]] == before
    exported = rows(clinic, clinic.export())
    by_mrn = {r["patient_mrn"]: r["caregivers"] for r in exported}
    assert by_mrn[a].endswith("(daughter)")
    assert by_mrn[b].endswith("(spouse)")


# --------------------------------------------------------------------------- S6, S7


@pytest.mark.parametrize("change", [
    {"member_id": "1EG4TE5MK99"}, {"payer": "Aetna"}, {"last_name": "Ames-Cole"}, {"first_name": "Walt"},
    {"dob": "1951-04-02"}, {"mrn": "Z9999"},
])
def test_s6_a_claim_identity_correction_voids_and_replaces_the_exported_line(api, change):
    clinic = Clinic(api("admin"))
    a, b = clinic.patient(), clinic.patient()
    session_id = clinic.group_session([a, b], clinic.facilitator())
    (sent,) = [r for r in rows(clinic, clinic.export()) if r["patient_mrn"] == a]

    clinic.call("patch", f"/patients/{a}", change)
    # S7: a range that does not cover the DOS does not carry the void.
    assert clinic.export("2026-03-01", "2026-03-31")["rows"] == 0
    out = rows(clinic, clinic.export("2026-02-01", "2026-02-28"))
    assert sorted(r["action"] for r in out) == ["new", "void"]
    void = next(r for r in out if r["action"] == "void")
    new = next(r for r in out if r["action"] == "new")
    assert {k: v for k, v in void.items() if k != "action"} == {k: v for k, v in sent.items() if k != "action"}
    field = {"mrn": "patient_mrn", "last_name": "patient_last_name", "first_name": "patient_first_name",
             "dob": "patient_dob"}.get(next(iter(change)), next(iter(change)))
    assert new[field] == next(iter(change.values()))
    assert new["line_id"] != void["line_id"]
    assert len([l for l in clinic.billing(session_id)["lines"] if l["status"] != "void"]) == 2


def test_s6_changes_that_do_not_reach_the_claim_do_not_void(api):
    clinic = Clinic(api("admin"))
    a, b = clinic.patient(), clinic.patient()
    clinic.group_session([a, b], clinic.facilitator())
    clinic.export()
    clinic.call("patch", f"/patients/{a}", {"needs": ["stroke", "dementia"]})
    assert clinic.export()["rows"] == 0


# --------------------------------------------------------------------------- S3


def _two_same_day(clinic: Clinic, first: str = "2026-02-03T09:00", second: str = "2026-02-03T14:00",
                  **second_class):
    a, b, c = clinic.patient(), clinic.patient(), clinic.patient()
    fac = clinic.facilitator()
    ca, cb, cc = clinic.caregiver(a), clinic.caregiver(b), clinic.caregiver(c)
    early = clinic.held_session([(ca, a), (cb, b)], fac, first)
    late = clinic.held_session([(ca, a), (cc, c)], fac, second, **second_class)
    return a, early, late


def test_s3_cancelling_the_earlier_session_clears_the_duplicate_on_the_later(api):
    clinic = Clinic(api("admin"))
    a, early, late = _two_same_day(clinic)
    assert (a, "DUPLICATE_SAME_DAY") in codes(clinic.billing(late))
    assert (a, "DUPLICATE_SAME_DAY") not in codes(clinic.billing(early))
    clinic.call("post", f"/sessions/{early}/cancel", {"reason": "entered twice"})
    assert (a, "DUPLICATE_SAME_DAY") not in codes(clinic.billing(late))


def test_s3_reopening_the_earlier_session_clears_the_duplicate_and_closing_it_brings_it_back(api):
    clinic = Clinic(api("admin"))
    a, early, late = _two_same_day(clinic)
    clinic.call("post", f"/sessions/{early}/reopen", {"reason": "fix attendance"})
    assert (a, "DUPLICATE_SAME_DAY") not in codes(clinic.billing(late))
    clinic.close(early, "2026-02-03T09:00", clinic.facilitator())
    assert (a, "DUPLICATE_SAME_DAY") in codes(clinic.billing(late))


def test_s3_moving_the_earlier_session_to_another_date_reevaluates_both_dates(api):
    clinic = Clinic(api("admin"))
    a, early, late = _two_same_day(clinic, first="2026-02-03T20:00", second="2026-02-03T21:00")
    assert (a, "DUPLICATE_SAME_DAY") in codes(clinic.billing(late))
    # The actual start was the evening before: its DOS moves to Feb 2.
    clinic.close(early, "2026-02-02T21:30", clinic.facilitator())
    assert clinic.billing(early)["lines"][0]["date_of_service"] == "2026-02-02"
    assert (a, "DUPLICATE_SAME_DAY") not in codes(clinic.billing(late))
    # And back: the duplicate is on whichever session started later.
    clinic.close(early, "2026-02-03T22:00", clinic.facilitator())
    assert (a, "DUPLICATE_SAME_DAY") in codes(clinic.billing(early))
    assert (a, "DUPLICATE_SAME_DAY") not in codes(clinic.billing(late))


def test_s3_later_is_by_real_instant_across_time_zones(api):
    clinic = Clinic(api("admin"))
    # 10:00 in Chicago is 16:00 UTC; 10:30 in New York is 15:30 UTC: the New York session, made
    # second (higher id), started first in real time.
    a, chicago, new_york = _two_same_day(clinic, first="2026-02-03T10:00", second="2026-02-03T10:30",
                                         timezone="America/New_York")
    assert (a, "DUPLICATE_SAME_DAY") in codes(clinic.billing(chicago))
    assert (a, "DUPLICATE_SAME_DAY") not in codes(clinic.billing(new_york))


def test_s3_equal_instants_the_higher_session_id_is_later(api):
    clinic = Clinic(api("admin"))
    a, first, second = _two_same_day(clinic, first="2026-02-03T10:00", second="2026-02-03T11:00",
                                     timezone="America/New_York")
    assert first < second
    assert (a, "DUPLICATE_SAME_DAY") in codes(clinic.billing(second))
    assert (a, "DUPLICATE_SAME_DAY") not in codes(clinic.billing(first))


# --------------------------------------------------------------------------- narrow re-evaluation


def _count_evaluated(monkeypatch) -> list[int]:
    seen: list[int] = []
    real = billing_evaluate.load_facts

    def counting(sessions, *rest):
        seen.extend(s.id for s in sessions)
        return real(sessions, *rest)

    monkeypatch.setattr(billing_evaluate, "load_facts", counting)
    return seen


def test_a_consent_change_reevaluates_exactly_that_patients_held_sessions(api, monkeypatch):
    clinic = Clinic(api("admin"))
    walter, helen, omar = clinic.patient(), clinic.patient(), clinic.patient()
    cw, ch, co = clinic.caregiver(walter), clinic.caregiver(helen), clinic.caregiver(omar)
    fac = clinic.facilitator()
    starts = [f"2026-{m:02d}-{d:02d}T10:00" for m in (2, 3, 4, 5) for d in range(2, 15)][:50]
    walter_sessions = clinic.group_class(starts)
    class_id = clinic.last_class_id
    clinic.enroll(class_id, walter, [cw])
    clinic.enroll(class_id, helen, [ch])
    for session_id, start in zip(walter_sessions, starts):
        clinic.check_in(session_id, cw, walter)
        clinic.check_in(session_id, ch, helen)
        clinic.close(session_id, start, fac)
    # Other held sessions on the same days and on other days: Helen and Omar without Walter.
    others = [clinic.held_session([(ch, helen), (co, omar)], fac, start.replace("T10", "T15"))
              for start in starts[:5]]
    others.append(clinic.held_session([(ch, helen), (co, omar)], fac, "2026-06-01T10:00"))
    evaluated = _count_evaluated(monkeypatch)

    clinic.call("patch", f"/patients/{walter}", {"consent": {"date": "2026-03-01", "kind": "written"}})

    assert sorted(evaluated) == sorted(walter_sessions)
    assert len(evaluated) == 50
    held = {s: clinic.billing(s) for s in walter_sessions}
    assert sum((walter, "NO_CONSENT") in codes(b) for b in held.values()) == len(
        [s for s in starts if s < "2026-03-01"])


def test_an_attendance_change_reevaluates_the_session_and_its_same_day_neighbours_only(api, monkeypatch):
    clinic = Clinic(api("admin"))
    a, early, late = _two_same_day(clinic)
    b, c = clinic.patient(), clinic.patient()
    unrelated = clinic.held_session([(clinic.caregiver(b), b), (clinic.caregiver(c), c)],
                                    clinic.facilitator(), "2026-02-03T16:00")
    evaluated = _count_evaluated(monkeypatch)
    clinic.call("post", f"/sessions/{early}/reopen", {"reason": "fix attendance"})
    assert sorted(evaluated) == sorted([early, late])
    assert unrelated not in evaluated


def test_s8_the_review_dates_line_less_findings_in_the_zone_the_session_was_held_in(api, app):
    """A class moved to another time zone after a session was held: the session's findings stay on the
    day it was billed for (8 PM in New York is the next morning in Tokyo)."""
    from datetime import date

    from roster.services import billing

    clinic = Clinic(api("admin"))
    fid = clinic.facilitator()
    a, b = clinic.patient(), clinic.patient()
    sid = clinic.held_session([(clinic.caregiver(a), a), (clinic.caregiver(b), b)], fid,
                              start="2026-02-03T20:00", timezone="America/New_York")
    clinic.close(sid, "2026-02-03T20:00", fid, present=(b,))
    clinic.call("patch", f"/classes/{clinic.last_class_id}", {"timezone": "Asia/Tokyo"})
    with app.app_context():
        held_day = billing.review(date(2026, 2, 3), date(2026, 2, 3), None)
        next_day = billing.review(date(2026, 2, 4), date(2026, 2, 4), None)
    assert held_day.session_findings and {f.finding.session_id for f in held_day.session_findings} == {sid}
    assert {f.date_of_service for f in held_day.session_findings} == {date(2026, 2, 3)}
    assert next_day.session_findings == []
