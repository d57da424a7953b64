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
