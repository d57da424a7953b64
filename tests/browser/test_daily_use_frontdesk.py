"""Issue 13, front desk and facilitators, walked in the browser on a tablet: "Patient is here" is a switch
that says what it means, walk-ins have their own section on the sign-in sheet, and a facilitator's
Today shows their own sessions first. Every page is axe-checked."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from roster.extensions import db
from roster.models import User
from tests.browser.daily_use import TABLET, fits_on_one_line, viewport
from tests.frontdesk.desk import make_scene


def test_front_desk_and_facilitator_on_a_tablet(browser, live_server, build, app):
    desk = make_scene(build, sets=2, start="09:00")
    other = make_scene(build, sets=1, start="13:00")  # another facilitator's class
    (ann, bob), (ann_carer, _) = desk.patients, desk.caregivers
    walter = desk.patient(first_name="Walter", last_name="Walker")
    wanda = build.caregiver([walter], first_name="Wanda", last_name="Walker", phone="(555) 867-5309")
    build.caregiver([walter], first_name="José", last_name="Núñez", phone="(555) 222-0199")
    clerk = build.user("front_desk", name="Jo Desk")
    runner = build.user("facilitator", name="Dana Reyes")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == runner.id).values(facilitator_id=desk.facilitator.id))
        db.session.commit()

    with viewport(browser, live_server, TABLET) as ui:
        page = ui.page
        ui.login(clerk.email)
        fits_on_one_line(page)
        ui.click(page.get_by_role("link", name="Check in for Stroke caregiver skills at 9:00\u202fAM"))

        # a walk-in, found without the accents and in the order lists display ("Last, First")
        for typed in ("Nunez", "nunez, jose"):
            page.get_by_label("Find a caregiver").fill(typed)
            page.get_by_role("button", name="Search").click()
            ui.after_navigation()
            expect(page.get_by_text("José Núñez").first).to_be_visible()

        # a walk-in, found by phone
        page.get_by_label("Find a caregiver").fill("8675")
        page.get_by_role("button", name="Search").click()
        ui.after_navigation()
        ui.click(page.get_by_role("button", name="Check in for Walter Walker"))

        # "Patient is here": a switch, off, saying what switching it on means
        switch = page.get_by_role("switch", name=f"Patient is here ({ann.first_name} {ann.last_name})")
        expect(switch).to_have_attribute("aria-checked", "false")
        expect(page.locator(f"#present-{ann.id}-what")).to_contain_text("would then not be billed for them")
        ui.click(switch)
        switch = page.get_by_role("switch", name=f"Patient is here ({ann.first_name} {ann.last_name})")
        expect(switch).to_have_attribute("aria-checked", "true")
        expect(switch).to_contain_text("Yes")
        expect(page.locator(f"#present-{ann.id}-what")).to_contain_text("not billed for them")
        colour = switch.evaluate("b => getComputedStyle(b).backgroundColor")
        assert colour != "rgb(23, 102, 58)"  # not the success green

        # the sign-in sheet: enrolled caregivers, then the walk-in on their own
        ui.click(page.get_by_role("link", name="Sign-in sheet"))
        enrolled = page.locator("table.sign-sheet").first
        expect(enrolled).to_contain_text(f"{ann_carer.first_name} {ann_carer.last_name}")
        expect(enrolled).not_to_contain_text("Wanda Walker")
        walk_ins = page.locator("table.walk-ins-known")
        expect(walk_ins.locator("caption")).to_contain_text("Walk-ins already checked in")
        expect(walk_ins).to_contain_text("Wanda Walker")
        ui.click(page.get_by_role("button", name="Sign out"))

        # the facilitator's Today: their own session, and a switch to the whole clinic
        ui.login(runner.email)
        expect(page.locator(".view-switch")).to_contain_text("Showing your sessions")
        expect(page.locator(".session-card")).to_have_count(1)
        ui.click(page.get_by_role("link", name="Show all sessions in the clinic"))
        expect(page.locator(".session-card")).to_have_count(2)
        ui.click(page.get_by_role("link", name="Show only my sessions"))
        expect(page.locator(".session-card")).to_have_count(1)
        assert other.session_id != desk.session_id and wanda.id
