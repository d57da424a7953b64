"""The review page, the export and the CSV download run the same number of SQL statements for 2 or 12 sessions."""

from __future__ import annotations

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent
from tests.billing.clinic import Clinic


def _busy_session(clinic: Clinic, fid: int, day: int) -> None:
    """Two ready lines, one held line (no consent) and a patient marked present (a line-less finding)."""
    start = f"2026-02-{day:02d}T10:00"
    mrns = [clinic.patient(), clinic.patient(), clinic.patient(consent=None), clinic.patient()]
    sid = clinic.held_session([(clinic.caregiver(m), m) for m in mrns], fid, start=start)
    clinic.close(sid, start, fid, present=(mrns[-1],))


def _measure(client, clinic: Clinic, count_queries) -> dict[str, int]:
    counts = {}
    with count_queries() as review:
        assert client.get("/billing/review?from=2026-02-01&to=2026-02-28").status_code == 200
    counts["review"] = review.count
    with count_queries() as export:
        response = client.post("/billing/exports", data={"from": "2026-02-01", "to": "2026-02-28"})
        assert response.status_code == 302
    counts["export"] = export.count
    batch_id = clinic.call("get", "/billing/exports")["exports"][0]["id"]
    with count_queries() as download:
        body = client.get(f"/billing/exports/{batch_id}.csv").get_data(as_text=True)
    counts["csv"] = download.count
    counts["csv rows"] = len(body.splitlines()) - 1
    return counts


def test_billing_pages_run_a_bounded_number_of_queries(api, client, login, count_queries):
    clinic = Clinic(api("admin"))
    fid = clinic.facilitator()
    login("biller")
    for day in (2, 3):
        _busy_session(clinic, fid, day)
    few = _measure(client, clinic, count_queries)
    for day in range(4, 14):
        _busy_session(clinic, fid, day)
    many = _measure(client, clinic, count_queries)

    assert (few["csv rows"], many["csv rows"]) == (2 * 2, 10 * 2)
    assert {k: v for k, v in few.items() if k != "csv rows"} == {k: v for k, v in many.items() if k != "csv rows"}
    # review: one more query than before issue 13, for the findings grouped by patient and code; issue 12:
    # the page's lines come with their patients and class titles in one statement, their findings in one
    # (were: lines, sessions, classes, patients, findings)
    assert few["review"] <= 8 and few["export"] <= 20 and few["csv"] <= 10, few


def test_a_consent_change_costs_the_same_statements_for_2_or_10_held_sessions(api, app, count_queries):
    """Re-evaluating a patient's held sessions writes their lines, audit records and findings in bulk:
    the number of SQL statements does not grow with the number of sessions (issue 12). Only that
    patient's lines change: the other patient's lines in the same sessions are compared, not written."""
    clinic = Clinic(api("admin"))
    fid = clinic.facilitator()

    def regular(sessions: int) -> str:
        mrn, other = clinic.patient(), clinic.patient()
        pairs = [(clinic.caregiver(mrn), mrn), (clinic.caregiver(other), other)]
        for day in range(1, sessions + 1):
            clinic.held_session(pairs, fid, start=f"2026-03-{day:02d}T10:00")
        return mrn

    def withdraw(mrn: str) -> int:
        with count_queries() as change:
            clinic.call("patch", f"/patients/{mrn}", {"consent": None})
        return change.count

    few, many = regular(2), regular(10)
    statements = withdraw(few)
    assert statements == withdraw(many)
    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
    # the whole request (its sign-in too): 15 on both databases before re-evaluation read the policy, the
    # attendance, the lines and the findings in one statement and, on PostgreSQL, ended with one write
    assert statements <= (6 if pg else 9)
    held = [line for line in clinic.lines() if line["patient_mrn"] == many]
    assert len(held) == 10 and {line["status"] for line in held} == {"held"}

    with app.app_context():
        last = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    clinic.call("patch", f"/patients/{many}", {"consent": {"date": "2026-01-05", "kind": "written"}})
    with app.app_context():
        written = db.session.execute(sa.select(AuditEvent.action, AuditEvent.entity_id).where(
            AuditEvent.id > last, AuditEvent.entity_type == "billing_line")).tuples().all()
    assert sorted(written) == sorted(("line.update", line["id"]) for line in held)


def test_closing_a_session_costs_the_same_statements_for_2_or_5_patients_whatever_else_the_day_holds(
        api, app, count_queries):
    """Closing writes the session's lines, audit records and findings a statement per kind, and
    re-evaluates only the sessions sharing one of its patients' day (issue 12): the statements of
    a close grow neither with its patients nor with the day's other sessions (37 for 7 patients
    before, one INSERT per line and the session read twice)."""
    clinic = Clinic(api("admin"))
    fid = clinic.facilitator()

    def close_after(neighbour_day: str, patients: int, unrelated: int) -> tuple[int, int, str]:
        regular = clinic.patient()  # also in an earlier session that day (R9): one neighbour each time
        clinic.group_session([regular, clinic.patient()], fid, start=f"{neighbour_day}T08:00")
        for _ in range(unrelated):
            clinic.group_session([clinic.patient(), clinic.patient()], fid, start=f"{neighbour_day}T09:00")
        (sid,) = clinic.group_class([f"{neighbour_day}T10:00"])
        for mrn in [regular] + [clinic.patient() for _ in range(patients - 1)]:
            clinic.check_in(sid, clinic.caregiver(mrn), mrn)
        with count_queries() as closing:
            clinic.close(sid, f"{neighbour_day}T10:00", fid)
        return closing.count, sid, regular

    few, few_sid, _ = close_after("2026-02-03", patients=2, unrelated=0)
    many, many_sid, regular = close_after("2026-02-04", patients=5, unrelated=2)
    assert few == many
    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
    # the whole request: 27 on PostgreSQL and 25 on SQLite before (issue 12), then 17 and 20, then 10 and 14
    # (the answer read back; on PostgreSQL the (patient, date) pairs and their sessions read on their own);
    # on PostgreSQL one more since: the session's attendance gate (billing.locks.SESSION_GATE) comes first
    # (which also sets the transaction's plans generic: `locks._GATE`); since, it rides with the token's read
    assert few <= (8 if pg else 13)
    # a close as make load sends it (no neighbour that day), and its answer read again: before, 14 and 7
    # statements on PostgreSQL, 18 and 7 on SQLite (the answer read back as ORM objects and selectin loads,
    # the session loaded then read again under its lock, the facilitator and class loaded, an ORM flush),
    # then 7 and 12 (the answer read back, the pairs read on their own), then 5 and 11, and 6 on PostgreSQL
    # with the session's gate, then 5 (the attendance, lines and findings read with the UPDATE that closes it),
    # then 4 (the gate taken in the token's read, `closing.CLOSE_READS`)
    first, second = clinic.patient(), clinic.patient(consent=None)
    (alone,) = clinic.group_class(["2026-02-05T10:00"])
    caregivers = {mrn: clinic.caregiver(mrn) for mrn in (first, second)}
    for mrn, caregiver in caregivers.items():
        clinic.check_in(alone, caregiver, mrn)
    with app.app_context():
        db.engine.dispose()  # connections that have prepared nothing yet
    with count_queries() as plain:
        answer = clinic.close(alone, "2026-02-05T10:00", fid)
    with count_queries() as reading:
        assert clinic.billing(alone) == answer
    generic = [s for s in plain.statements if "plan_cache_mode" in s]
    assert len(generic) == pg  # PostgreSQL plans the close's prepared statements once (the gate's statement)
    # ...which is the token's read, the first statement, and takes the gate: no statement of its own
    gates = [i for i, s in enumerate(plain.statements) if "pg_advisory_xact_lock(" in s]
    assert gates == ([0] if pg else []) and (not pg or "api_token" in generic[0]), plain.statements
    # the held sessions billing its (patient, date) pairs: one look-up of the lines by patient for all of them
    # (`closed._with_sessions`), not a UNION of three scans of the lines (PostgreSQL planned it for ~0.5 ms)
    closing = [s for s in plain.statements if s.lstrip().startswith("WITH closed AS")]
    assert [s.count("billing_line AS other") for s in closing] == ([1] if pg else []), closing
    assert plain.count <= (4 if pg else 11) and reading.count <= 3, plain.statements + reading.statements
    if pg:  # its token read and gate, its locks, its UPDATE and reads: prepared at their first run on a connection
        with app.app_context():  # (the pool hands out the connection the requests used last)
            prepared = db.session.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars().all()
            db.session.rollback()
        marks = ("pg_advisory_xact_lock(", "WITH locked_patients AS", "WITH closed AS")
        assert [sum(mark in s for s in prepared) for mark in marks] == [1, 1, 1], prepared
    # the answer is made from what the close wrote: after an export, the first patient's check-in undone and
    # its MRN changed, closed again with the second patient present (a void line of a patient no longer
    # attending, under its MRN as it is now; the second's held line deleted, a finding instead), it is still
    # what a read gives
    clinic.export("2026-02-05", "2026-02-05")
    clinic.call("delete", f"/sessions/{alone}/checkins/{caregivers[first]}?patient_mrn={first}")
    clinic.call("patch", f"/patients/{first}", {"mrn": first + "-2"})
    answer = clinic.close(alone, "2026-02-05T10:15", fid, present=(second,))
    assert answer == clinic.billing(alone)
    assert [(line["status"], line["patient_mrn"]) for line in answer["lines"]] == [("void", first + "-2")]
    assert [(f["code"], f["patient_mrn"]) for f in answer["findings"]] == [("PATIENT_PRESENT", second)]
    lines = [line for line in clinic.billing(many_sid)["lines"]]
    assert len(lines) == 5 and len(clinic.billing(few_sid)["lines"]) == 2
    flagged = [line for line in lines if "DUPLICATE_SAME_DAY" in {f["code"] for f in line["findings"]}]
    assert [line["patient_mrn"] for line in flagged] == [regular]  # the neighbour was evaluated with it
