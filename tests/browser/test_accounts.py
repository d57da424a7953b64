"""An administrator creates a biller; the biller replaces the temporary password, sets up two-factor
sign-in from the page, signs out and in with a code; deactivated, the biller's open session ends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyotp

from tests.browser.conftest import UI

NEW_PASSWORD = "maple-lantern-orbit"


def test_staff_lifecycle_with_two_factor(ui, browser, live_server, build):
    admin = build.user("admin", name="Ada Admin")
    page = ui.page
    page.on("dialog", lambda dialog: dialog.accept())

    # The administrator creates a biller; a bad submission first says what is wrong.
    ui.login(admin.email)
    ui.click(page.get_by_role("link", name="Staff"))
    page.get_by_label("Name").fill("Bo Biller")
    page.get_by_label("E-mail").fill("bo@clinic")
    ui.click(page.get_by_role("button", name="Create account"))
    assert "Choose a role." in page.locator(".error-summary").inner_text()
    page.get_by_label("E-mail").fill("bo.biller@clinic.test")
    page.get_by_label("Role").select_option(label="Biller")
    ui.click(page.get_by_role("button", name="Create account"))
    temp = page.locator("#temp-password").inner_text().strip()
    assert "bo.biller@clinic.test" in page.locator("table").inner_text()

    # The biller, in another browser, must replace the temporary password first.
    context = browser.new_context(viewport={"width": 1180, "height": 820})
    try:
        bo = UI(context.new_page(), live_server)
        bo.page.set_default_timeout(10_000)
        bp = bo.page
        bo.login("bo.biller@clinic.test", temp)
        assert bp.get_by_role("heading", name="Choose your own password").is_visible()
        bp.get_by_label("Current password").fill(temp)
        bp.get_by_label("New password", exact=True).fill("password1234")
        bp.get_by_label("New password again").fill("password1234")
        bo.click(bp.get_by_role("button", name="Change password"))
        assert "too common" in bp.locator(".error-summary").inner_text()
        bp.get_by_label("Current password").fill(temp)
        bp.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        bp.get_by_label("New password again").fill(NEW_PASSWORD)
        bo.click(bp.get_by_role("button", name="Change password"))
        assert bp.url.endswith("/billing/review")

        # Two-factor: the key is read from the page, as a person would type it into an app.
        bo.click(bp.get_by_role("link", name="Bo Biller"))
        bo.click(bp.get_by_role("link", name="Set up two-factor sign-in"))
        assert bp.get_by_role("img", name="QR code for setting up Roster in an authenticator app").is_visible()
        totp = pyotp.TOTP(bp.locator("#totp-secret").inner_text().replace(" ", ""))
        bp.get_by_label("Six-digit code from the app").fill(totp.now())
        bo.click(bp.get_by_role("button", name="Turn on two-factor sign-in"))
        assert bp.locator("#recovery-codes li").count() == 10
        bo.click(bp.get_by_role("link", name="I have kept them"))
        assert "On" in bp.locator("#two-factor").inner_text()

        # Out, and in again with password and a code (the next one: the enrolment spent the current one).
        bo.click(bp.get_by_role("button", name="Sign out"))
        bo.login("bo.biller@clinic.test", NEW_PASSWORD)
        assert bp.get_by_role("heading", name="Enter your code").is_visible()
        bp.get_by_label("Code").fill(totp.at(datetime.now(timezone.utc) + timedelta(seconds=30)))
        bo.click(bp.get_by_role("button", name="Continue"))
        assert bp.url.endswith("/billing/review")

        # The administrator deactivates the biller; the biller's next click meets the sign-in page.
        ui.click(page.get_by_role("link", name="Bo Biller", exact=True))
        ui.click(page.get_by_role("button", name="Deactivate"))
        assert "Deactivated" in page.locator(".flashes").inner_text()
        bo.click(bp.get_by_role("link", name="Exports"))
        assert bp.get_by_role("heading", name="Sign in to Roster").is_visible()
        assert "/login" in bp.url
        assert bo.checked >= bo.loads and not bo.console_errors, bo.console_errors
    finally:
        context.close()
