"""Issue 13, billers, walked in the browser: a fix link they may not follow shows the session read-only
and who can fix it; counters filter; identical findings are grouped; the export is counted and
confirmed; the audit trail reads in names and filters. Every page is axe-checked."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.billing.clinic import Clinic

FEBRUARY = "/billing/review?from=2026-02-01&to=2026-02-28&status=all"


def test_a_biller_works_through_a_month(ui, build):
    clinic = Clinic(build.api_client("admin"))
    fid = clinic.facilitator(name="Dana Reyes, PT")
    omar = clinic.patient(first_name="Omar", last_name="Cruz", consent=None)
    for day in (3, 10, 17):  # the same missing consent three times
        clinic.group_session([omar, clinic.patient()], fid, start=f"2026-02-{day:02d}T10:00")
    ann, hana = clinic.patient(first_name="Ann", last_name="Lee"), clinic.patient(first_name="Hana", last_name="Park")
    sid = clinic.held_session([(clinic.caregiver(ann), ann), (clinic.caregiver(hana), hana)], fid,
                              start="2026-02-24T10:00")
    clinic.close(sid, "2026-02-24T10:00", fid, present=(hana,))
    ready = sum(1 for line in clinic.lines("2026-02-01", "2026-02-28") if line["status"] == "ready")
    biller = build.user(role="biller", name="Bea Biller")
    page = ui.page

    ui.login(biller.email)
    ui.goto(FEBRUARY)
    # identical findings, grouped by patient and code
    groups = page.locator("section[aria-labelledby=groups-heading] li.finding")
    omar_group = groups.filter(has_text="Omar Cruz · 3 lines")
    expect(omar_group).to_have_count(1)
    ui.click(omar_group.get_by_role("link", name=re.compile("^Show the lines")))
    expect(page.locator("tbody.line")).to_have_count(3)
    expect(page.locator(".narrowed")).to_contain_text("Only lines of Omar Cruz")

    # the counters are filters
    ui.click(page.get_by_role("link", name="Show every line"))
    ui.click(page.locator(".status-counts a").filter(has_text="held"))
    expect(page.locator("tbody.line")).to_have_count(3)
    ui.click(page.locator("a[href*='cpt=97552']"))
    expect(page.locator(".narrowed")).to_contain_text("Only CPT 97552")

    # a patient-present finding: the biller may not close sessions, so "See" shows the facts and who can fix them
    ui.goto(FEBRUARY)
    ui.click(page.locator("li.finding", has_text="Hana Park").get_by_role("link", name=re.compile("^See")).first)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Session facts")
    expect(page.locator("#who-fixes-h + p")).to_contain_text("closing the session again")
    expect(page.get_by_text("Patient was here: not billed")).to_be_visible()
    assert page.locator("a[href^='/frontdesk/']").count() == 0

    # export: counted first, up to yesterday by default, then confirmed
    ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Exports"))
    page.get_by_label("From", exact=True).fill("2026-02-01")
    page.get_by_label("To", exact=True).fill("2026-02-28")
    ui.click(page.get_by_role("button", name="Count what would be exported"))
    expect(page.locator("#confirm")).to_contain_text(f"{ready} new lines, 0 voids for Sun, Feb 1, 2026 – Sat, Feb 28, 2026")
    expect(page.locator("#confirm")).to_contain_text("3 held lines wait for a fix")
    ui.click(page.get_by_role("button", name=f"Export {ready} new lines and 0 voids"))
    expect(page.locator(".flashes")).to_contain_text(f"Exported {ready} rows")

    # the audit trail: names and readable changes, filtered by patient and kind
    ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit"))
    page.get_by_label("Patient MRN").fill(hana)
    page.get_by_label("Kind of record").select_option(label="Check-in")
    ui.click(page.get_by_role("button", name="Filter"))
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Checked in")
    expect(rows.first).to_contain_text(f"Patient: Hana Park ({hana})")
    expect(rows.first).not_to_contain_text("patient_id")
