"""Issue 13 for everyone, walked in the browser: dates and times as a US clinic reads them, date hints
that match the date fields, the header on one line and the Patients table inside its card on a tablet
(820 px), the admin menu whole at 1366 px, and calendar links with Copy and a webcal:// Subscribe.
Every page is axe-checked."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.daily_use import LAPTOP, TABLET, fits_on_one_line, viewport
from tests.frontdesk.desk import make_scene


def test_everyone_reads_us_dates_on_a_tablet_and_copies_calendar_links(browser, live_server, build):
    desk = make_scene(build, sets=1, start="15:00")
    for n in range(12):
        build.patient(first_name=f"Bartholomew{n}", last_name=f"Vanderbilt-Featherstonehaugh{n}", payer="Medicare Advantage",
                      needs=["stroke", "dysphagia", "hip fracture"])
    coordinator = build.user(role="coordinator")

    with viewport(browser, live_server, TABLET, permissions=["clipboard-read", "clipboard-write"]) as ui:
        page = ui.page
        ui.login(coordinator.email)
        fits_on_one_line(page)

        # Today: "Friday, November 27, 2026" and "3:00 PM"
        ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Today"))
        heading = page.get_by_role("heading", level=1).inner_text()
        assert re.fullmatch(r"Today, [A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}, \d{4}", heading), heading
        assert desk.day.strftime("%B") in heading
        expect(page.locator(".session-card .when").first).to_have_text(re.compile(r"^3:00\sPM–4:00\sPM$"))

        # the class page names the zone as people say it
        ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Classes"))
        ui.click(page.get_by_role("link", name="Stroke caregiver skills"))
        expect(page.locator(".facts")).to_contain_text("Central Time")
        expect(page.locator("tr[id^=session-] td.when").first).to_have_text(
            re.compile(r"^[A-Z][a-z]{2}, [A-Z][a-z]{2} \d{1,2}, \d{4}$"))

        # the Patients table on a tablet: inside its card, scrolling there if it must, never the page
        ui.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients"))
        fits_on_one_line(page)
        sizes = page.evaluate("""() => { const box = document.querySelector('.table-scroll');
            const card = box.closest('.card').getBoundingClientRect();
            const r = box.getBoundingClientRect();
            return {left: r.left, right: r.right, cardLeft: card.left, cardRight: card.right}; }""")
        assert sizes["cardLeft"] <= sizes["left"] and sizes["right"] <= sizes["cardRight"], sizes
        dob = page.locator("table.patients tbody tr").first.locator("td").nth(2)
        assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", dob.inner_text())
        lines = dob.evaluate("td => { const r = document.createRange(); r.selectNodeContents(td);"
                         " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }")
        assert lines == 1  # a date never wraps, even in a crowded row

        # date fields and their hints agree (the browser shows MM/DD/YYYY for en-US)
        ui.click(page.get_by_role("link", name="Add a patient"))
        expect(page.locator("#consent_date-hint")).to_contain_text("MM/DD/YYYY")
        assert page.get_by_label("Consent date").get_attribute("type") == "date"

        # calendar links: Copy, and Subscribe through webcal://
        ui.click(page.get_by_role("link", name=coordinator.name or coordinator.email))
        feed = page.locator(".feeds li").first
        url = feed.locator("input.feed-url").input_value()
        assert url.startswith("http")
        subscribe = feed.get_by_role("link", name=re.compile("^Subscribe"))
        assert subscribe.get_attribute("href") == "webcal://" + url.split("://", 1)[1]
        ui.click(feed.get_by_role("button", name=re.compile("^Copy")), navigates=False)
        expect(feed.locator(".copied")).to_have_text("Copied.")
        assert page.evaluate("() => navigator.clipboard.readText()") == url


def test_the_admin_menu_fits_at_1366_px(browser, live_server, build):
    admin = build.user(role="admin", name="Avery Admin")
    with viewport(browser, live_server, LAPTOP) as ui:
        ui.login(admin.email)
        fits_on_one_line(ui.page)
        menu = ui.page.evaluate("() => { const n = document.querySelector('.nav'); return [n.scrollWidth, n.clientWidth]; }")
        assert menu[0] <= menu[1], menu  # every item visible, nothing scrolled away
        expect(ui.page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff")).to_be_in_viewport()
