"""The biller's pages: review, exports, CSV download, audit trail, and who may see them."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, ExportBatch
from tests.billing.clinic import Clinic

FEBRUARY = "/billing/review?from=2026-02-01&to=2026-02-28"


@pytest.fixture
def clinic(api) -> Clinic:
    return Clinic(api("admin"))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _line_block(page: str, line_id: int) -> str:
    start = page.index(f'id="line-{line_id}"')
    return page[start:page.index("</tbody>", start)]


# --------------------------------------------------------------------------- review


def test_review_defaults_to_the_current_month_in_the_clinic_zone(client, login, monkeypatch):
    # 03:00 UTC on 1 March is still 28 February in Chicago
    monkeypatch.setattr("roster.billing.views.utcnow", lambda: datetime(2026, 3, 1, 3, 0, tzinfo=timezone.utc))
    login("biller")
    page = _text(client.get("/billing/review"))
    assert 'name="from" required type="date" value="2026-02-01"' in page
    assert 'name="to" required type="date" value="2026-02-28"' in page
    assert "Lines from Sun, Feb 1, 2026 to Sat, Feb 28, 2026" in page


def test_review_shows_counts_totals_lines_and_findings_as_sentences(app, client, login, clinic):
    fid = clinic.facilitator(name="Dana Reyes, PT")
    other = clinic.facilitator(name="Omar Ortiz, OT", discipline="OT")
    ok = clinic.patient(first_name="Walter", last_name="Ames")
    missing = clinic.patient(first_name="Omar", last_name="Cruz", consent=None)
    sid = clinic.group_session([ok, missing], fid)
    clinic.group_session([clinic.patient(), clinic.patient()], other, start="2026-02-10T10:00")
    clinic.group_session([clinic.patient(), clinic.patient()], fid, start="2026-03-03T10:00")  # outside
    lines = {l["patient_mrn"]: l for l in clinic.billing(sid)["lines"]}
    login("biller")

    page = _text(client.get(FEBRUARY))

    counts = page[page.index('class="status-counts"'):page.index("</ul>", page.index('class="status-counts"'))]
    assert [c.split('<span class="stat">')[1].split("<")[0] for c in counts.split("<li>")[1:]] == ["1", "3", "0", "0"]
    # each total is a link to its lines (issue 13: counters are filters)
    assert re.search(r'97552<span class="visually-hidden">: show these lines</span></a></th><td class="num">4</td><td class="num">4</td>', page)
    assert re.search(r'Dana Reyes, PT<span class="visually-hidden">: show these lines</span></a></th><td class="num">2</td>', page)
    assert re.search(r'Omar Ortiz, OT<span class="visually-hidden">: show these lines</span></a></th><td class="num">2</td>', page)
    held = _line_block(page, lines[missing]["id"])
    for cell in ("2026-02-03", "Stroke caregiver skills", "Omar Cruz", f"({missing})", "97552", "GP", "I69.351",
                 "1234567893", '<span class="badge held">held</span>'):
        assert cell in held
    assert lines[missing]["findings"][0]["message"] in held
    assert ("Fix" in held) == ("people.edit_patient" in app.view_functions)
    assert "Blocks" in held
    ready = _line_block(page, lines[ok]["id"])
    assert '<span class="badge ready">ready</span>' in ready and "findings-row" not in ready
    assert "2026-03-03" not in page


def test_review_filters_by_status(client, login, clinic):
    fid = clinic.facilitator()
    clinic.group_session([clinic.patient(last_name="Ready"), clinic.patient(last_name="Waiting", consent=None)], fid)
    login("biller")
    page = _text(client.get(FEBRUARY + "&status=held"))
    assert "Waiting" in page and "Ready (" not in page
    assert "Held lines" in page
    assert "No void lines in this range." in _text(client.get(FEBRUARY + "&status=void"))


def test_review_pages_keep_the_filter(client, login, clinic, monkeypatch):
    monkeypatch.setattr("roster.billing.views.LINES_PER_PAGE", 2)
    clinic.group_session([clinic.patient(), clinic.patient(), clinic.patient()], clinic.facilitator())
    login("biller")
    first = _text(client.get(FEBRUARY + "&status=ready"))
    assert first.count('<tbody class="line"') == 2 and "Page 1 of 2" in first
    assert 'href="/billing/review?page=2&status=ready&from=2026-02-01&to=2026-02-28"' in first
    second = _text(client.get("/billing/review?page=2&status=ready&from=2026-02-01&to=2026-02-28"))
    assert second.count('<tbody class="line"') == 1 and "Page 2 of 2" in second
    assert 'href="/billing/review?status=held&from=2026-02-01&to=2026-02-28#lines-heading"' in first  # the count links, to the lines


def test_review_lists_session_findings_that_have_no_line(client, login, clinic):
    fid = clinic.facilitator()
    a, b, c = clinic.patient(), clinic.patient(), clinic.patient(first_name="Hana", last_name="Present")
    cg = [clinic.caregiver(m) for m in (a, b, c)]
    sid = clinic.held_session(list(zip(cg, (a, b, c))), fid)
    clinic.close(sid, "2026-02-03T10:00", fid, present=(c,))
    clinic.held_session([(clinic.caregiver(a), a)], fid, start="2026-02-05T10:00", minutes=10)
    login("biller")

    page = _text(client.get(FEBRUARY))

    section = page[page.index("Session findings without a line"):]
    assert "Hana Present" in section and "was present at this session" in section
    assert "lasted 10 minutes" in section
    assert "Tue, Feb 3, 2026 · Stroke caregiver skills" in section and "Thu, Feb 5, 2026 · Stroke caregiver skills" in section
    assert "lasted 10 minutes" not in _text(client.get("/billing/review?from=2026-02-04&to=2026-02-04"))


def test_review_refuses_a_backwards_range_with_a_clear_message(client, login):
    login("biller")
    response = client.get("/billing/review?from=2026-02-10&to=2026-02-01&status=all")
    assert response.status_code == 200
    assert "The range must end on or after its start." in _text(response)
    assert "Enter the from date." in _text(client.get("/billing/review?from=&to=2026-02-01"))


# --------------------------------------------------------------------------- exports


def test_a_biller_exports_sees_the_history_and_downloads_the_csv(app, client, login, clinic):
    fid = clinic.facilitator()
    clinic.group_session([clinic.patient(), clinic.patient(), clinic.patient(consent=None)], fid)
    biller = login("biller", name="Bea Biller")

    response = client.post("/billing/exports", data={"from": "2026-02-01", "to": "2026-02-28"})
    assert response.status_code == 302 and response.location.endswith("/billing/exports")
    page = _text(client.get("/billing/exports"))
    assert "Exported 2 rows (Sun, Feb 1, 2026 to Sat, Feb 28, 2026) as batch #" in page
    with app.app_context():
        (batch,) = db.session.scalars(sa.select(ExportBatch)).all()
    assert batch.created_by_id == biller.id and batch.row_count == 2
    history = page[page.index("History"):]
    assert "Sun, Feb 1, 2026</span> to <span class=\"nowrap\">Sat, Feb 28, 2026" in history and "Bea Biller" in history
    assert f'href="/billing/exports/{batch.id}.csv"' in history

    download = client.get(f"/billing/exports/{batch.id}.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="roster-2026-02-01-2026-02-28-batch{batch.id}.csv"')
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["new", "new"]


def test_exporting_again_says_there_was_nothing_new_and_adds_no_batch(app, client, login, clinic):
    clinic.group_session([clinic.patient(), clinic.patient()], clinic.facilitator())
    login("biller")
    client.post("/billing/exports", data={"from": "2026-02-01", "to": "2026-02-28"})
    client.get("/billing/exports")  # read the first flash
    client.post("/billing/exports", data={"from": "2026-02-01", "to": "2026-02-28"})
    page = _text(client.get("/billing/exports"))
    assert "Nothing new to export from Sun, Feb 1, 2026 to Sat, Feb 28, 2026" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportBatch)) == 1


def test_an_invalid_export_range_writes_nothing(app, client, login, clinic):
    clinic.group_session([clinic.patient(), clinic.patient()], clinic.facilitator())
    login("biller")
    response = client.post("/billing/exports", data={"from": "2026-02-28", "to": "2026-02-01"})
    assert response.status_code == 422
    assert "The range must end on or after its start." in _text(response)
    assert client.post("/billing/exports", data={"from": "2026-02-01", "to": "not a date"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportBatch)) == 0
    assert {l["status"] for l in clinic.lines()} == {"ready"}


def test_export_history_pages(app, client, login, clinic, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    fid = clinic.facilitator()
    for day in (3, 4, 5):
        clinic.group_session([clinic.patient(), clinic.patient()], fid, start=f"2026-02-{day:02d}T10:00")
        clinic.export()
    login("biller")
    first, second = _text(client.get("/billing/exports")), _text(client.get("/billing/exports?page=2"))
    assert "#3" in first and "#2" in first and "#1" not in first and "Page 1 of 2" in first
    assert "#1" in second and "#3" not in second


def test_a_missing_batch_is_404(client, login):
    login("biller")
    assert client.get("/billing/exports/4242.csv").status_code == 404


def test_the_api_and_the_page_serve_the_same_csv(client, login, clinic):
    clinic.group_session([clinic.patient(), clinic.patient()], clinic.facilitator())
    batch = clinic.export()
    login("biller")
    assert client.get(f"/billing/exports/{batch['id']}.csv").get_data() == clinic.api.get(
        f"/billing/exports/{batch['id']}.csv").get_data()


# --------------------------------------------------------------------------- audit trail


def test_audit_trail_newest_first_filtered_with_changed_keys_only(client, login, clinic):
    fid = clinic.facilitator()
    missing = clinic.patient(consent=None)
    sid = clinic.group_session([clinic.patient(), missing], fid)
    other = clinic.group_session([clinic.patient(), clinic.patient()], fid, start="2026-02-04T10:00")
    clinic.call("patch", f"/patients/{missing}", {"consent": {"date": "2026-01-20", "kind": "written"}})
    login("biller")

    page = _text(client.get(f"/billing/audit?session_id={sid}&entity_type=billing_line"))

    rows = page[page.index("<tbody>"):page.index("</tbody>")].split("<tr>")[1:]
    assert [r.split("<code>")[1].split("<")[0] for r in rows] == ["line.update", "line.create", "line.create"]
    update = rows[0]
    # readable changes (issue 13): labels and values, not raw keys and JSON
    assert 'Status: <span class="before">held</span> → <span class="after">ready</span>' in update
    assert "Diagnosis codes" not in update  # unchanged keys are left out
    assert f"session_id={other}\"" not in page
    everything = _text(client.get("/billing/audit"))
    assert "patient.update" in everything and "session.close" in everything


def test_audit_trail_pages(app, client, login, clinic, monkeypatch, count_queries):
    for _ in range(3):
        clinic.group_session([clinic.patient(), clinic.patient()], clinic.facilitator())
    login("biller")
    first = _text(client.get("/billing/audit"))
    assert "Page 1 of" in first and 'rel="next"' in first
    assert "Page 2 of" in _text(client.get("/billing/audit?page=2"))

    # issue 12: the trail grows with time; its count stops a few pages past the page shown
    from roster.services import paging

    with app.app_context():
        events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    assert events > 12
    monkeypatch.setattr(paging, "PAGES_AHEAD", 1)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    with count_queries() as capped:
        first = _text(client.get("/billing/audit"))
    assert "Page 1 of 2 or more" in first and 'rel="next"' in first
    third = _text(client.get("/billing/audit?page=3"))
    assert "Page 3 of 4 or more" in third and 'rel="next"' in third and 'rel="prev"' in third
    last = -(-events // 3)
    end = _text(client.get(f"/billing/audit?page={last}"))
    assert f"Page {last} of {last}<" in end and "or more" not in end and 'rel="next"' not in end
    assert end.count("<tr>") - 1 == events - 3 * (last - 1)
    counts = [s for s in capped.statements if "count(*)" in s.lower()]
    assert len(counts) == 1 and "LIMIT" in counts[0].upper()  # never a count of the whole trail


def test_audit_filter_refuses_a_bad_session_number(client, login):
    login("biller")
    assert "A session number is a whole number from 1." in _text(client.get("/billing/audit?session_id=0"))


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("path", ["/billing/review", "/billing/exports", "/billing/exports/1.csv", "/billing/audit"])
def test_front_desk_is_refused_every_billing_page(client, login, path):
    login("front_desk")
    assert client.get(path).status_code == 403


def test_front_desk_cannot_export(app, client, login, clinic):
    clinic.group_session([clinic.patient(), clinic.patient()], clinic.facilitator())
    login("front_desk")
    assert client.post("/billing/exports", data={"from": "2026-02-01", "to": "2026-02-28"}).status_code == 403
    assert {l["status"] for l in clinic.lines()} == {"ready"}


def test_a_coordinator_reads_the_audit_trail_but_not_the_billing(client, login):
    login("coordinator")
    assert client.get("/billing/audit").status_code == 200
    assert client.get("/billing/review").status_code == 403
    assert client.get("/billing/exports").status_code == 403
