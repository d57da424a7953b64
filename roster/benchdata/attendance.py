"""Attendance and billing of a bench year's past sessions, as plain rows.

Sessions before today (in their class's time zone) are held (2% cancelled):
about seven in ten enrolled patients' caregivers come, now and then a walk-in
or a patient who came along; the session is closed with actual times and its
facilitator (a few have none). Billing lines and findings come from the same
pure rule book the services use (``evaluate_day``), mapped as the services map
them, so a later re-evaluation finds nothing to change.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from roster.domain import billing as rules
from roster.domain.recurrence import utc_to_local
from roster.domain.statuses import SessionStatus
from roster.benchdata.plan import Year


def attend_year(year: Year, today: date, desk_user: tuple[int, str], seed: int = 12) -> None:
    """Add the past sessions' check-ins, presence, lines, findings and audit rows to ``year``."""
    rng = random.Random(seed + 1)
    classes = {c["id"]: c for c in year.classes}
    facilitators = {f["id"]: f for f in year.facilitators}
    facts: list[rules.SessionFacts] = []
    session_by_id = {}
    for s in year.sessions:
        klass = classes[s["class_id"]]
        if utc_to_local(s["starts_at"], klass["timezone"]).date() >= today:
            continue
        if rng.random() < 0.02:
            s.update(status=SessionStatus.CANCELLED, cancel_reason="Facilitator ill; the class was called off.", sequence=1)
            continue
        _hold(rng, s, klass, desk_user, year)
        _attend(rng, year, s, klass, desk_user)
        session_by_id[s["id"]] = s
    patient_facts = _patient_facts(year)
    by_session_checkins: dict[int, list[rules.CheckInFacts]] = defaultdict(list)
    for c in year.checkins:
        by_session_checkins[c["session_id"]].append(rules.CheckInFacts(c["caregiver_id"], c["patient_id"]))
    by_session_present: dict[int, set[int]] = defaultdict(set)
    for p in year.presence:
        by_session_present[p["session_id"]].add(p["patient_id"])
    for sid, s in session_by_id.items():
        klass = classes[s["class_id"]]
        fac = facilitators.get(s["actual_facilitator_id"])
        ci = sorted(by_session_checkins[sid], key=lambda c: (c.patient_id, c.caregiver_id))
        involved = {c.patient_id for c in ci} | by_session_present[sid]
        facts.append(rules.SessionFacts(
            session_id=sid, status=SessionStatus.HELD,
            date_of_service=utc_to_local(s["actual_start"], klass["timezone"]).date(),
            minutes=int((s["actual_end"] - s["actual_start"]).total_seconds() // 60),
            modality=klass["modality"], place_of_service=klass["place_of_service"],
            class_needs=frozenset(klass["needs"]),
            facilitator=rules.FacilitatorFacts(fac["id"], fac["name"], fac["discipline"], fac["npi"]) if fac else None,
            patients={pid: patient_facts[pid] for pid in sorted(involved)},
            checkins=tuple(ci), present_patient_ids=frozenset(by_session_present[sid]),
            sort_key=(s["actual_start"].isoformat(), sid),
        ))
    _bill(rules.evaluate_day(facts), {f.session_id: f for f in facts}, session_by_id, year)


def _hold(rng, s: dict, klass: dict, desk_user, year: Year) -> None:
    start = s["starts_at"] + timedelta(minutes=rng.choice((0, 0, 2, 5, 8)))
    length = s["ends_at"] - s["starts_at"]
    end = start + length - timedelta(minutes=rng.choice((0, 0, 0, 5, 10)))
    no_facilitator = rng.random() < 0.005
    s.update(status=SessionStatus.HELD, actual_start=start, actual_end=end,
             actual_facilitator_id=None if no_facilitator else klass["facilitator_id"],
             closed_at=end + timedelta(minutes=rng.randint(2, 40)), closed_by_id=desk_user[0], sequence=1,
             held_modality=klass["modality"], held_place_of_service=klass["place_of_service"],
             held_timezone=klass["timezone"], held_needs=list(klass["needs"]))  # S8
    year.audit.append(_event(desk_user, s["closed_at"], "session.close", "class_session", s["id"], s["id"], None,
                            {"status": SessionStatus.HELD, "actual_start": start.isoformat(), "actual_end": end.isoformat(),
                             "actual_facilitator_id": s["actual_facilitator_id"]}))


def _attend(rng, year: Year, s: dict, klass: dict, desk_user) -> None:
    if not hasattr(year, "relationship_of"):
        year.relationship_of = {(l["caregiver_id"], l["patient_id"]): l["relationship"] for l in year.links}
    for patient_id, chosen in year.enrolled_sets[klass["id"]]:
        if rng.random() > (0.97 if patient_id in year.regulars else 0.7):
            continue
        came = chosen[:1] + [c for c in chosen[1:] if rng.random() < 0.75]
        walk_ins = []
        if rng.random() < 0.01:
            others = [c for c in year.caregivers_of[patient_id] if c not in chosen]
            walk_ins = [rng.choice(others)]
        for caregiver_id in came + walk_ins:
            at = s["actual_start"] - timedelta(minutes=rng.randint(0, 12))
            cid = len(year.checkins) + 1
            walk_in = caregiver_id in walk_ins
            year.checkins.append({"id": cid, "session_id": s["id"], "caregiver_id": caregiver_id,
                                 "patient_id": patient_id, "checked_in_at": at,
                                 "checked_in_by_id": desk_user[0], "walk_in": walk_in,
                                 "relationship": year.relationship_of.get((caregiver_id, patient_id), "")})
            year.audit.append(_event(desk_user, at, "checkin.create", "check_in", cid, s["id"], None,
                                    {"caregiver_id": caregiver_id, "patient_id": patient_id, "walk_in": walk_in}))
        if rng.random() < 0.02:
            year.presence.append({"id": len(year.presence) + 1, "session_id": s["id"], "patient_id": patient_id,
                                 "marked_at": s["actual_start"], "marked_by_id": desk_user[0]})


def _patient_facts(year: Year) -> dict[int, rules.PatientFacts]:
    return {
        p["id"]: rules.PatientFacts(
            id=p["id"], mrn=p["mrn"], first_name=p["first_name"], last_name=p["last_name"],
            needs=frozenset(p["needs"]), diagnosis_codes=tuple(p["diagnosis_codes"]),
            consent_date=p["consent_date"], consent_kind=p["consent_kind"],
            poc_discipline=p["poc_discipline"], poc_start=p["poc_start"], poc_end=p["poc_end"],
            dob=p.get("dob"), payer=p.get("payer") or "", member_id=p.get("member_id") or "",
        ) for p in year.patients
    }


def _bill(evaluations: dict[int, rules.Evaluation], facts: dict[int, rules.SessionFacts],
          sessions: dict[int, dict], year: Year) -> None:
    """Lines and findings exactly as the billing service's reconcile would store them."""
    for sid in sorted(evaluations):
        evaluation, s, dos = evaluations[sid], sessions[sid], facts[sid].date_of_service
        line_ids: dict[tuple[int, str], int] = {}
        for draft in evaluation.lines:
            line_id = len(year.lines) + 1
            line_ids[draft.key] = line_id
            line = {
                "id": line_id, "session_id": sid, "patient_id": draft.patient_id, "cpt": draft.cpt,
                "status": draft.status, "date_of_service": dos, "units": draft.units,
                "modifiers": list(draft.modifiers), "place_of_service": draft.place_of_service,
                "diagnosis_codes": list(draft.diagnosis_codes), "rendering_npi": draft.rendering_npi,
                "facilitator_id": s["actual_facilitator_id"], "created_at": s["closed_at"],
                "updated_at": s["closed_at"], **_claim_identity(facts[sid].patients[draft.patient_id]),
            }
            year.lines.append(line)
            year.audit.append(_event((None, "system"), s["closed_at"], "line.create", "billing_line", line_id, sid,
                                    None, _line_picture(line)))
        on_lines = set()
        for draft in evaluation.lines:
            for f in draft.findings:
                on_lines.add((f.patient_id, f.code))
                year.findings.append(_finding(sid, line_ids[draft.key], f, dos))
        for f in evaluation.findings:
            if (f.patient_id, f.code) not in on_lines:
                year.findings.append(_finding(sid, None, f, dos))


def _claim_identity(p: rules.PatientFacts) -> dict:
    """The patient's claim identity a line keeps (S6), as the billing service stores it."""
    return {"patient_mrn": p.mrn, "patient_last_name": p.last_name, "patient_first_name": p.first_name,
            "patient_dob": p.dob, "payer": p.payer, "member_id": p.member_id}


def _finding(session_id: int, line_id: int | None, f: rules.Finding, dos) -> dict:
    return {"session_id": session_id, "line_id": line_id, "patient_id": f.patient_id, "code": f.code,
            "severity": f.severity, "rule": f.rule, "message": f.message, "date_of_service": dos}


def _line_picture(line: dict) -> dict:
    return {
        "patient_id": line["patient_id"], "cpt": line["cpt"], "status": line["status"], "units": line["units"],
        "modifiers": line["modifiers"], "place_of_service": line["place_of_service"],
        "diagnosis_codes": line["diagnosis_codes"], "rendering_npi": line["rendering_npi"],
        "date_of_service": line["date_of_service"].isoformat(),
    }


def _event(actor: tuple[int | None, str], at, action: str, entity_type: str, entity_id: int,
           session_id: int | None, before: dict | None, after: dict | None) -> dict:
    return {"at": at, "actor_id": actor[0], "actor_label": actor[1], "action": action,
            "entity_type": entity_type, "entity_id": entity_id, "session_id": session_id,
            "before": before, "after": after}
