"""A biller finds a line held for missing consent, fixes it from the review, exports, and downloads the roster."""

from __future__ import annotations

import re

import csv

from tests.billing.clinic import Clinic

FEBRUARY = "/billing/review?from=2026-02-01&to=2026-02-28&status=all"


def test_biller_fixes_a_held_line_exports_and_downloads_the_csv(ui, build):
    clinic = Clinic(build.api_client("admin"))
    fid = clinic.facilitator()
    walter = clinic.patient(first_name="Walter", last_name="Ames")
    omar = clinic.patient(first_name="Omar", last_name="Cruz", consent=None)
    session_id = clinic.group_session([walter, omar], fid, start="2026-02-03T10:00")
    line_id = {l["patient_mrn"]: l["id"] for l in clinic.billing(session_id)["lines"]}[omar]
    biller = build.user(role="biller")
    page = ui.page

    ui.login(biller.email)  # a biller starts on the review
    page.get_by_label("From", exact=True).fill("2026-02-01")
    page.get_by_label("To", exact=True).fill("2026-02-28")
    ui.click(page.get_by_role("button", name="Show lines"))
    held = page.locator(f"#line-{line_id}")
    assert "held" in held.locator(".badge.held").inner_text()
    assert "Omar Cruz" in held.inner_text() and "has no caregiver-training consent" in held.inner_text()

    ui.click(held.get_by_role("link", name="Fix"))
    assert page.url.endswith("#consent")
    consent = page.locator("#consent")
    consent.get_by_label("Written").check()
    consent.get_by_label("Consent date").fill("2026-01-20")
    ui.click(page.get_by_role("button", name="Save patient"))

    ui.goto(FEBRUARY)
    line = page.locator(f"#line-{line_id}")
    assert line.locator(".badge").inner_text() == "ready"
    assert line.locator(".findings").count() == 0

    ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Exports"))
    page.get_by_label("From", exact=True).fill("2026-02-01")
    page.get_by_label("To", exact=True).fill("2026-02-28")
    # issue 13: the export says what it will take and waits for a confirm
    ui.click(page.get_by_role("button", name="Count what would be exported"))
    assert "2 new lines, 0 voids for Sun, Feb 1, 2026 – Sat, Feb 28, 2026" in page.locator("#confirm").inner_text()
    ui.click(page.get_by_role("button", name="Export 2 new lines and 0 voids"))
    assert "Exported 2 rows" in page.locator(".flashes").inner_text()

    with page.expect_download() as download:
        ui.click(page.get_by_role("link", name="Download CSV").first, navigates=False)
    with open(download.value.path(), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {(r["patient_mrn"], r["action"], r["cpt"]) for r in rows} == {(walter, "new", "97552"), (omar, "new", "97552")}
    (fixed,) = [r for r in rows if r["patient_mrn"] == omar]
    assert int(fixed["line_id"]) == line_id and fixed["patient_last_name"] == "Cruz"


def test_biller_exports_a_quarter_in_the_background(ui, build, app, monkeypatch):
    """A range longer than a month runs as a background job; the page follows it to the finished batch."""
    monkeypatch.setitem(app.config, "ROSTER_JOBS", "inprocess")  # no worker process in this test
    clinic = Clinic(build.api_client("admin"))
    fid = clinic.facilitator()
    walter = clinic.patient(first_name="Walter", last_name="Ames")
    ruth = clinic.patient(first_name="Ruth", last_name="Brooks")
    clinic.group_session([walter, ruth], fid, start="2026-02-03T10:00")
    biller = build.user(role="biller")
    page = ui.page

    ui.login(biller.email)
    ui.goto("/billing/exports")
    page.get_by_label("From", exact=True).fill("2026-01-01")
    page.get_by_label("To", exact=True).fill("2026-03-31")
    # issue 13: the export is counted first, then confirmed
    ui.click(page.get_by_role("button", name="Count what would be exported"))
    ui.click(page.locator("#confirm").get_by_role("button", name=re.compile(r"^Export \d+ new line")))
    assert "running in the background" in page.locator(".flashes").inner_text()
    jobs = page.locator("table").filter(has=page.locator("progress"))
    assert "2026-01-01 to 2026-03-31" in jobs.inner_text()
    # done already, or jobs.js follows it and reloads the page when it is
    page.get_by_role("link", name="Download CSV").first.wait_for(timeout=20_000)
    ui.after_navigation()
    assert "Exported 2 rows" in page.locator("tr.job").first.inner_text()
    assert page.locator("tr.job progress").first.get_attribute("value") == "100"
