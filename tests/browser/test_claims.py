"""Claims in the browser: an admin fills in the billing settings, payer list and fee schedule;
a biller runs the claim preflight, fixes a patient's missing address from its link, exports, and
downloads the 837P (pyx12 accepts it) and the HL7 batch (hl7apy validates each message)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.billing.clinic import Clinic
from tests.claims.files import ADDRESS, assert_pyx12_accepts, hl7_messages, hl7apy_validates, set_up_clinic


def test_an_admin_fills_in_the_billing_settings(ui, build):
    admin = build.user(role="admin")
    page = ui.page
    ui.login(admin.email)
    ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing settings"))
    provider = page.locator("#provider")
    provider.get_by_label("Organisation name").fill("Lakeshore Rehabilitation Clinic")
    provider.get_by_label("Organisation NPI (type 2)").fill("1555012340")  # check digit fails
    provider.get_by_label("ZIP+4").fill("60601")
    ui.click(page.get_by_role("button", name="Save billing settings"))
    assert "check digit" in page.locator("#npi-err").inner_text()
    assert "nine digits" in page.locator("#address_zip-err").inner_text()
    page.get_by_label("Organisation NPI (type 2)").fill("1555012347")
    page.get_by_label("ZIP+4").fill("60601-1234")
    page.get_by_label("Tax id (EIN)").fill("36-1234567")
    ui.click(page.get_by_role("button", name="Save billing settings"))
    assert "Billing settings saved." in page.locator(".flashes").inner_text()

    page.get_by_label("Payer name").fill("Medicare")
    page.get_by_label("Payer id (from the clearinghouse's payer list)").fill("06102")
    page.get_by_label("Claim filing indicator").select_option("MB")
    ui.click(page.get_by_role("button", name="Add payer"))
    assert "Medicare added" in page.locator(".flashes").inner_text()
    page.get_by_label("Payer name").fill("medicare")
    ui.click(page.get_by_role("button", name="Add payer"))
    assert "already on the list" in page.locator("#name-err").inner_text()

    page.get_by_label("Code", exact=True).fill("97552")
    page.get_by_label("Charge per unit ($)").fill("abc")
    ui.click(page.get_by_role("button", name="Save fee"))
    assert page.locator("#charge-err").inner_text()
    page.get_by_label("Charge per unit ($)").fill("35.50")
    ui.click(page.get_by_role("button", name="Save fee"))
    assert "$35.50 per unit" in page.locator(".flashes").inner_text()
    ui.click(page.get_by_role("link", name="Medicare"))
    page.get_by_label("Payer id (from the clearinghouse's payer list)").fill("06103")
    ui.click(page.get_by_role("button", name="Save payer"))
    assert "06103" in page.locator("#payers").inner_text()


def test_biller_runs_the_preflight_fixes_an_address_exports_and_downloads_837p_and_hl7(ui, build):
    admin = build.api_client("admin")
    set_up_clinic(admin)
    clinic = Clinic(admin)
    fid = clinic.facilitator()
    walter = clinic.patient(first_name="Walter", last_name="Ames")
    omar = clinic.patient(first_name="Omar", last_name="Cruz")
    admin.patch(f"/patients/{walter}", json=ADDRESS)
    admin.patch(f"/patients/{omar}", json={"sex": "M"})  # no address yet
    clinic.group_session([walter, omar], fid, start="2026-02-03T10:00")
    biller = build.user(role="biller")
    page = ui.page

    ui.login(biller.email)
    ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Exports"))
    ui.click(page.get_by_role("link", name="Check claims before exporting (preflight)"))
    page.get_by_label("From", exact=True).fill("2026-02-01")
    page.get_by_label("To", exact=True).fill("2026-02-28")
    ui.click(page.get_by_role("button", name="Check claims"))
    problems = page.locator(".findings li")
    assert problems.count() == 1 and "Omar Cruz" in problems.inner_text()
    assert "no complete home address" in problems.inner_text()
    assert "Omar Cruz" in problems.locator("strong").inner_text() and "holds back 1 line" in problems.inner_text()

    ui.click(problems.get_by_role("link", name="Fix"))
    assert page.url.endswith("#address")
    address = page.locator("#address")
    address.get_by_label("Street address").fill("9 Lake Shore Dr")
    address.get_by_label("City").fill("Chicago")
    address.get_by_label("State").fill("IL")
    address.get_by_label("ZIP code").fill("60611")
    ui.click(page.get_by_role("button", name="Save patient"))

    ui.goto("/billing/preflight?from=2026-02-01&to=2026-02-28")
    assert "Every ready line can go on a valid claim" in page.locator("#preflight-ok").inner_text()
    ui.click(page.locator("#preflight-ok").get_by_role("link", name="Export them"))
    page.get_by_label("From", exact=True).fill("2026-02-01")
    page.get_by_label("To", exact=True).fill("2026-02-28")
    # issue 13: the export is counted first, then confirmed
    ui.click(page.get_by_role("button", name="Count what would be exported"))
    ui.click(page.locator("#confirm").get_by_role("button", name=re.compile(r"^Export \d+ new line")))
    assert "Exported 2 rows" in page.locator(".flashes").inner_text()

    with page.expect_download() as download:
        ui.click(page.get_by_role("link", name="837P").first, navigates=False)
    text = Path(download.value.path()).read_text()
    assert_pyx12_accepts(text)
    assert "N3*9 LAKE SHORE DR~" in text and "NM1*IL*1*CRUZ*OMAR" in text
    with page.expect_download() as download:
        ui.click(page.get_by_role("link", name="HL7").first, navigates=False)
    envelope, messages = hl7_messages(Path(download.value.path()).read_bytes().decode())
    assert len(messages) == 2 and envelope[2] == "BTS|2"
    for message in messages:
        hl7apy_validates(message)
    ui.goto("/billing/exports")
    ui.click(page.get_by_role("link", name=re.compile(r"0 acknowledged, 0 rejected, 2 pending")))
    assert page.locator("#messages tbody tr").count() == 2
