"""Issue 13 for billers: export confirmed with its counts, counters that filter, findings grouped,
and fix links that never lead to Forbidden."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.models import ExportBatch
from tests.billing.clinic import Clinic

FEBRUARY = "/billing/review?from=2026-02-01&to=2026-02-28"


@pytest.fixture
def clinic(api) -> Clinic:
    return Clinic(api("admin"))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_export_range_defaults_to_yesterday(client, login, monkeypatch):
    # 15:00 UTC on 1 March: in Chicago yesterday was 28 February
    monkeypatch.setattr("roster.billing.views.utcnow", lambda: datetime(2026, 3, 1, 15, 0, tzinfo=timezone.utc))
    login("biller")
    page = _text(client.get("/billing/exports"))
    assert 'name="from" required type="date" value="2026-02-01"' in page
    assert 'name="to" required type="date" value="2026-02-28"' in page
    monkeypatch.setattr("roster.billing.views.utcnow", lambda: datetime(2026, 3, 18, 15, 0, tzinfo=timezone.utc))
    page = _text(client.get("/billing/exports"))
    assert 'value="2026-03-01"' in page and 'value="2026-03-17"' in page


def test_an_export_says_what_it_will_take_and_waits_for_the_biller(app, client, login, clinic):
    fid = clinic.facilitator()
    clinic.group_session([clinic.patient(), clinic.patient(), clinic.patient(consent=None)], fid)
    login("biller")

    page = _text(client.get("/billing/exports/confirm?from=2026-02-01&to=2026-02-28"))
    assert "2 new lines, 0 voids for Sun, Feb 1, 2026 – Sat, Feb 28, 2026" in page
    assert "1 held line waits for a fix" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ExportBatch.id))) == 0  # nothing done yet

    form = page[page.index('<form method="post" action="/billing/exports"'):]
    assert 'name="from" value="2026-02-01"' in form and 'name="to" value="2026-02-28"' in form
    assert "Export 2 new lines and 0 voids</button>" in form
    response = client.post("/billing/exports", data={"from": "2026-02-01", "to": "2026-02-28"})
    assert response.status_code == 302
    assert "Exported 2 rows" in _text(client.get("/billing/exports"))
    again = _text(client.get("/billing/exports/confirm?from=2026-02-01&to=2026-02-28"))
    assert "Nothing to export for Sun, Feb 1, 2026 – Sat, Feb 28, 2026" in again
    assert "Export 0" not in again


def test_confirming_a_backwards_range_says_what_is_wrong(client, login):
    login("biller")
    response = client.get("/billing/exports/confirm?from=2026-02-28&to=2026-02-01")
    assert response.status_code == 422 and "The range must end on or after its start." in _text(response)


def test_the_summary_counters_filter_the_lines(app, client, login, clinic):
    fid = clinic.facilitator(name="Dana Reyes, PT")
    other = clinic.facilitator(name="Omar Ortiz, OT", discipline="OT")
    clinic.group_session([clinic.patient(last_name="Alpha"), clinic.patient(last_name="Beta")], fid)
    a = clinic.patient(last_name="Gamma")
    clinic.held_session([(clinic.caregiver(a), a)], other, start="2026-02-10T10:00")  # one set: 97550
    login("biller")
    page = _text(client.get(FEBRUARY))
    link = re.search(r'href="(/billing/review\?[^"]*cpt=97550[^"]*)"', page).group(1)
    narrowed = _text(client.get(link))
    assert narrowed.count('<tbody class="line"') == 1 and "Gamma" in narrowed and "Only CPT 97550" in narrowed
    link = re.search(r'href="(/billing/review\?[^"]*facilitator=\d+[^"]*)#lines-heading">Dana Reyes', page).group(1)
    narrowed = _text(client.get(link))
    assert narrowed.count('<tbody class="line"') == 2 and "lines of Dana Reyes, PT" in narrowed
    # issue 12: the review's statements are built once per kind of narrowing and reused with new values
    from datetime import date

    from roster.services import billing

    with app.app_context():
        every = billing.review(date(2026, 2, 1), date(2026, 2, 28), None).lines
        assert len({l.cpt for l in every}) > 1 and len({l.facilitator_id for l in every}) > 1
        for narrowing, keep in (({"cpt": "97550"}, lambda l: l.cpt == "97550"),
                                ({"facilitator_id": fid}, lambda l: l.facilitator_id == fid),
                                ({"facilitator_id": other}, lambda l: l.facilitator_id == other),
                                ({"facilitator_id": 0}, lambda l: l.facilitator_id is None),
                                ({"cpt": "97552", "facilitator_id": other}, lambda l: False),
                                ({"patient_id": every[0].patient_id}, lambda l: l.patient_id == every[0].patient_id)):
            seen = billing.review(date(2026, 2, 1), date(2026, 2, 28), None, **narrowing)
            assert [l.id for l in seen.lines] == [l.id for l in every if keep(l)], narrowing
            assert sum(seen.counts.values()) == len(seen.lines), narrowing


def test_identical_findings_are_grouped_by_patient_and_code(client, login, clinic):
    fid = clinic.facilitator()
    no_consent = clinic.patient(first_name="Omar", last_name="Cruz", consent=None)
    for day in (3, 10, 17):
        clinic.group_session([no_consent, clinic.patient()], fid, start=f"2026-02-{day:02d}T10:00")
    login("biller")
    page = _text(client.get(FEBRUARY))
    grouped = page[page.index("Findings by patient"):page.index('id="lines-heading"')]
    assert "<span class=\"muted\">Omar Cruz · 3 lines · Tue, Feb 3 – Tue, Feb 17:</span>" in grouped
    assert grouped.count('<li class="finding') == 1
    show = re.search(r'href="(/billing/review\?[^"]*patient=\d+[^"]*)"', grouped).group(1)
    assert _text(client.get(show)).count('<tbody class="line"') == 3

    # issue 12: the review's rows are remembered by what they show (templating.cached_macro): asked again,
    # the page is the same and every row comes from memory; the lines a fix changed are rendered anew
    rows = {name: client.application.extensions[f"roster.cached_macro:billing/_review_rows.html:{name}"].cache_info
            for name in ("line_row", "group_row")}
    seen = {name: info() for name, info in rows.items()}
    first, again = (client.get(FEBRUARY).get_data(as_text=True) for _ in range(2))
    assert first[first.index("<h1>"):] == again[again.index("<h1>"):]  # (the header's sign-out form has a fresh token)
    assert all(info().misses == seen[name].misses for name, info in rows.items())
    clinic.call("patch", f"/patients/{no_consent}", {"consent": {"date": "2026-01-05", "kind": "written"}})
    page = _text(client.get(FEBRUARY))
    assert "Omar Cruz · 3" not in page and "Findings by patient" not in page
    assert rows["line_row"]().misses - seen["line_row"].misses == 3  # Omar's three lines lost their finding


def test_a_biller_is_never_sent_to_forbidden_by_a_fix_link(client, login, clinic):
    fid = clinic.facilitator()
    a, b = clinic.patient(), clinic.patient(first_name="Hana", last_name="Present")
    sid = clinic.held_session([(clinic.caregiver(a), a), (clinic.caregiver(b), b)], None)  # no facilitator
    clinic.close(sid, "2026-02-03T10:00", fid, present=(b,))
    login("biller")
    page = _text(client.get(FEBRUARY))
    links = set(re.findall(r'<a class="fix" href="([^"]+)"', page))
    assert links and not any(l.startswith("/frontdesk") for l in links)
    assert f"/billing/sessions/{sid}" in links
    for url in links:
        assert client.get(url).status_code == 200, url
    facts = _text(client.get(f"/billing/sessions/{sid}"))
    assert "Who can fix this" in facts and "closing the session again" in facts
    assert "Hana Present" in facts and "Patient was here: not billed" in facts
    assert "/frontdesk/" not in facts  # no link to a page the biller may not open
    # the rows remembered for the biller (issue 12) are not the admin's, who may close the session
    client.post("/logout")
    login("admin")
    admin_links = set(re.findall(r'<a class="fix" href="([^"]+)"', _text(client.get(FEBRUARY))))
    assert f"/frontdesk/sessions/{sid}/close" in admin_links and f"/billing/sessions/{sid}" not in admin_links


def test_an_admin_still_gets_the_real_fix_page(client, login, clinic):
    fid = clinic.facilitator()
    a, b = clinic.patient(), clinic.patient()
    sid = clinic.group_session([a, b], fid)
    clinic.close(sid, "2026-02-03T10:00", fid, present=(b,))
    login("admin")
    page = _text(client.get(FEBRUARY))
    assert f'href="/frontdesk/sessions/{sid}/close"' in page


# --------------------------------------------------------------------------- audit trail


def test_the_audit_trail_shows_names_and_readable_changes(client, login, clinic):
    fid = clinic.facilitator(name="Dana Reyes, PT")
    ann = clinic.patient(first_name="Ann", last_name="Lee")
    sid = clinic.group_session([ann, clinic.patient()], fid)
    login("biller")
    page = _text(client.get(f"/billing/audit?session_id={sid}&entity_type=check_in"))
    rows = page[page.index("<tbody>"):page.index("</tbody>")]
    assert "Checked in" in rows and f"Patient: <span class=\"after\">Ann Lee ({ann})</span>" in rows
    assert "patient_id" not in rows and "Walk-in: <span class=\"after\">No</span>" in rows
    assert "Check-in" in rows and "Stroke caregiver skills, Tue, Feb 3, 2026 10:00\u202fAM" in rows
    closing = _text(client.get(f"/billing/audit?session_id={sid}&entity_type=class_session"))
    assert "Facilitator who ran it: " in closing and "Dana Reyes, PT</span>" in closing


def test_a_long_list_in_a_record_shows_its_first_items_and_a_count(app, client, login):
    """An export's record keeps every line it took (a year: 55,000 ids); the page shows twenty and the count."""
    from roster.services import audit

    with app.app_context():
        audit.record("export.create", "export_batch", 7, before={"lines": list(range(1, 1001)), "status": "ready"},
                     after={"status": "exported", "rows": 1000})
        db.session.commit()
    login("biller")
    page = _text(client.get("/billing/audit?entity_type=export_batch"))
    assert "1, 2, 3" in page and "19, 20 … and 980 more (1000 in all)" in page and ", 21," not in page
    assert len(page) < 40_000


def test_the_audit_trail_filters_by_date_person_patient_and_kind(app, client, login, clinic, build):
    from roster.models import AuditEvent

    fid = clinic.facilitator()
    ann, bob = clinic.patient(first_name="Ann", last_name="Lee"), clinic.patient(first_name="Bob", last_name="Ray")
    clinic.group_session([ann, bob], fid)
    biller = login("biller", name="Bea Biller")
    page = _text(client.get("/billing/audit"))
    for label in ("From", "To", "Person", "Patient MRN", "Kind of record"):
        assert f">{label}</label>" in page

    by_patient = _text(client.get(f"/billing/audit?patient={ann}"))
    assert f"Ann Lee ({ann})" in by_patient and f"Bob Ray ({bob})" not in by_patient
    assert "Checked in" in by_patient and "Billing line made" in by_patient and "Patient added" in by_patient
    assert "No patient has the MRN NOPE1." in _text(client.get("/billing/audit?patient=NOPE1"))

    kinds = _text(client.get("/billing/audit?entity_type=patient"))
    assert "Patient added" in kinds and "Checked in" not in kinds

    with app.app_context():
        admin_id = db.session.scalar(sa.select(AuditEvent.actor_id).where(AuditEvent.action == "patient.create").limit(1))
        moved = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "patient.create").limit(1))
        moved.at = datetime(2026, 1, 10, 17, 0, tzinfo=timezone.utc)
        db.session.commit()
    by_person = _text(client.get(f"/billing/audit?actor={admin_id}"))
    assert "Patient added" in by_person
    assert "Nothing recorded for this filter" in _text(client.get(f"/billing/audit?actor={admin_id}&from=2030-01-01"))
    assert biller.id != admin_id
    jan = _text(client.get("/billing/audit?from=2026-01-10&to=2026-01-10"))
    assert jan.count("Patient added") == 1 and "Checked in" not in jan
    assert "The range must end on or after its start." in _text(client.get("/billing/audit?from=2026-01-10&to=2026-01-01"))


def test_a_long_list_of_finding_groups_shows_the_first_ones_and_says_how_many_more(client, login, clinic,
                                                                                   monkeypatch):
    from roster.billing import views

    monkeypatch.setattr(views, "GROUPS_SHOWN", 2)
    fid = clinic.facilitator()
    missing = [clinic.patient(last_name=name, consent=None) for name in ("Ames", "Brooks", "Cole")]
    clinic.group_session(missing, fid)
    clinic.group_session(missing[:1] + [clinic.patient()], fid, start="2026-02-10T10:00")
    login("biller")
    page = _text(client.get(FEBRUARY))
    grouped = page[page.index("Findings by patient"):page.index('id="lines-heading"')]
    assert grouped.count('<li class="finding') == 2
    assert "Ames" in grouped  # two lines: listed first
    assert "1 more group of findings not listed here" in grouped
