"""The review page, the export and the CSV download run the same number of SQL statements for 2 or 12 sessions."""

from __future__ import annotations

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
    # review: one more query than before issue 13, for the findings grouped by patient and code
    assert few["review"] <= 13 and few["export"] <= 20 and few["csv"] <= 10, few


def test_a_consent_change_costs_the_same_statements_for_2_or_10_held_sessions(api, count_queries):
    """Re-evaluating a patient's held sessions writes their lines, audit records and findings in bulk:
    the number of SQL statements does not grow with the number of sessions (issue 12)."""
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
    assert withdraw(few) == withdraw(many)
    held = [line for line in clinic.lines() if line["patient_mrn"] == many]
    assert len(held) == 10 and {line["status"] for line in held} == {"held"}
