"""The code-family settings in the browser: an admin caps a code's units per patient per day (R21)
on the billing settings page, is told clearly when the cap is not a number, and removes it."""

from __future__ import annotations


def test_an_admin_sets_and_removes_a_unit_cap(ui, build):
    ui.login(build.user(role="admin").email)
    ui.goto("/billing/settings#unit-caps")
    page = ui.page
    caps = page.locator("#unit-caps")
    assert "No caps set." in caps.inner_text()
    caps.get_by_label("Capped code").select_option("G0540")
    caps.get_by_label("Most units per patient per day").fill("two")
    ui.click(caps.get_by_role("button", name="Save cap"))
    assert "whole number of units from 1 to 99" in page.locator("#cap-max_units-err").inner_text()
    assert page.locator("#unit-caps").get_by_label("Capped code").input_value() == "G0540"
    caps = page.locator("#unit-caps")
    caps.get_by_label("Most units per patient per day").fill("2")
    ui.click(caps.get_by_role("button", name="Save cap"))
    assert "G0540 is capped at 2 units per patient per day" in page.locator(".flashes").inner_text()
    row = page.locator("#unit-caps tbody tr")
    assert row.count() == 1 and "G0540" in row.inner_text() and "2" in row.inner_text()
    ui.click(page.get_by_role("button", name="Remove the cap on G0540"))
    assert "The cap on G0540 is removed" in page.locator(".flashes").inner_text()
    assert "No caps set." in page.locator("#unit-caps").inner_text()


def test_an_admin_gives_a_payer_its_own_profile(ui, build):
    ui.login(build.user(role="admin").email)
    ui.goto("/billing/settings#payers")
    page = ui.page
    payers = page.locator("#payers")
    assert payers.get_by_label("Telehealth covered from").input_value() == "2025-01-01"  # Medicare's answers
    payers.get_by_label("Payer name").fill("Acme Health Plan")
    payers.get_by_label("Payer id (from the clearinghouse's payer list)").fill("ACME1")
    payers.get_by_label("Claim filing indicator").select_option("CI")
    payers.get_by_label("Telehealth covered from").fill("")
    payers.get_by_label("Behavior management (G0539, G0540, 96202, 96203)").uncheck()
    ui.click(payers.get_by_role("button", name="Add payer"))
    assert "Acme Health Plan added to the payer list." in page.locator(".flashes").inner_text()
    row = page.locator("#payers tbody tr", has_text="Acme Health Plan")
    assert "Never" in row.inner_text() and "from Jan 1, 2025" in row.inner_text()
    assert "Functional performance, Direct care" in row.inner_text()

    ui.click(row.get_by_role("link", name="Acme Health Plan"))
    assert not page.get_by_label("Behavior management (G0539, G0540, 96202, 96203)").is_checked()
    page.get_by_label("Telehealth covered from").fill("2026-07-01")
    page.get_by_label("Behavior management (G0539, G0540, 96202, 96203)").check()
    page.get_by_label("Direct care (G0541, G0542, G0543)").uncheck()
    ui.click(page.get_by_role("button", name="Save payer"))
    assert "Acme Health Plan saved." in page.locator(".flashes").inner_text()
    row = page.locator("#payers tbody tr", has_text="Acme Health Plan")
    assert "from Jul 1, 2026" in row.inner_text() and "Functional performance, Behavior management" in row.inner_text()
