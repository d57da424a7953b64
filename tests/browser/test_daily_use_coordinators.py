"""Issue 13, coordinators, walked in the browser: a past first date asks first; capacity raised moves the
waiting set in and says so beside the sets; "Move into class" by hand; needs shown when choosing whom
to enrol; MRNs unique regardless of case; unbelievable dates and phones refused; a likely duplicate
caregiver offered with "use the existing one"; the patient picked by search; a class made by mistake
deleted. Every page is axe-checked."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.daily_use import TABLET, viewport


def test_a_coordinator_on_a_tablet(browser, live_server, build):
    coordinator = build.user(role="coordinator")
    walter = build.patient(mrn="A1001", first_name="Walter", last_name="Ames", needs=["stroke"])
    build.caregiver([walter], first_name="Rita", last_name="Ames", phone="(555) 010-1999")
    build.caregiver([walter], first_name="Tom", last_name="Ames")
    omar = build.patient(mrn="B2002", first_name="Omar", last_name="Diaz", needs=["dementia"])
    build.caregiver([omar], first_name="Lina", last_name="Diaz")
    june = build.patient(mrn="C3003", first_name="June", last_name="Bell", needs=["stroke"])
    build.caregiver([june], first_name="Hal", last_name="Bell")

    with viewport(browser, live_server, TABLET) as ui:
        page = ui.page
        page.on("dialog", lambda dialog: dialog.accept())
        ui.login(coordinator.email)

        # a new class whose first date is in the past: asked first
        ui.click(page.get_by_role("link", name="New class"))
        page.get_by_label("Title").fill("Stroke caregiver skills")
        page.get_by_label("Focus needs").fill("stroke")
        page.get_by_label("Caregiver seats").fill("2")
        page.get_by_label("Tuesday").check()
        page.get_by_label("Start time").fill("10:00")
        page.get_by_label("First date").fill((date.today() - timedelta(days=14)).isoformat())
        page.get_by_label("Number of sessions").fill("6")
        ui.click(page.get_by_role("button", name="Create class"))
        expect(page.locator(".error-summary")).to_contain_text("is in the past")
        page.get_by_label("First date").fill((date.today() + timedelta(days=7)).isoformat())
        ui.click(page.get_by_role("button", name="Create class"))
        expect(page.locator(".flashes")).to_contain_text("is scheduled with 6 sessions")

        # enrolment search shows needs; Walter's two caregivers take both seats
        page.get_by_label("Patient name or MRN").fill("00")  # all three MRNs: a list to choose from
        ui.click(page.get_by_role("button", name="Find patient"))
        expect(page.locator(".matches")).to_contain_text("Needs: dementia")
        expect(page.locator(".matches")).to_contain_text("Needs differ from this class")
        for mrn in ("A1001", "C3003"):
            page.get_by_label("Patient name or MRN").fill(mrn)
            ui.click(page.get_by_role("button", name="Find patient"))
            ui.click(page.get_by_role("button", name="Enrol", exact=True))
        sets = page.locator("#sets")
        expect(sets.locator(".flashes")).to_contain_text("June Bell) waitlisted")  # where the eye is
        assert page.evaluate("() => location.hash") == "#sets"

        # raising capacity moves June in, and says so beside the sets
        ui.click(page.get_by_role("link", name="Edit class"))
        page.get_by_label("Caregiver seats").fill("3")
        ui.click(page.get_by_role("button", name="Save"))
        expect(page.locator("#sets .flashes")).to_contain_text("June Bell's caregivers moved from the waitlist")
        expect(page.locator("#sets")).to_contain_text("Nobody is waiting.")

        # MRNs regardless of case; dates and phones that cannot be right
        ui.goto("/people/patients/new")
        page.get_by_label("MRN (medical record number)").fill("a1001")
        page.get_by_label("First name").fill("Walt")
        page.get_by_label("Last name").fill("Ames")
        page.get_by_label("Date of birth").fill((date.today() + timedelta(days=3)).isoformat())
        assert page.get_by_label("MRN (medical record number)").get_attribute("maxlength") == "40"
        ui.click(page.get_by_role("button", name="Save patient"))
        expect(page.locator(".error-summary")).to_contain_text("Date of birth cannot be in the future.")
        page.get_by_label("Date of birth").fill("1950-04-02")
        ui.click(page.get_by_role("button", name="Save patient"))
        expect(page.locator(".error-summary")).to_contain_text("already exists (as A1001")

        # a caregiver: the patient picked by search, a likely duplicate offered
        ui.goto("/people/caregivers/new")
        page.get_by_label("First name").fill("Rita")
        page.get_by_label("Last name").fill("Ames")
        page.get_by_label("Phone").fill("5550101999")
        mrn = page.get_by_label("Patient 1 MRN")
        mrn.press_sequentially("Bel", delay=50)
        expect(page.locator("#links-0-patient_mrn-options option[value='C3003']")).to_have_count(1)
        mrn.fill("C3003")
        page.get_by_label("Patient 1 relationship").fill("friend")
        ui.click(page.get_by_role("button", name="Save caregiver"))
        expect(page.locator("#twins")).to_contain_text("cares for Walter Ames")
        ui.click(page.get_by_role("link", name=re.compile(r"^Use the existing one")))
        ui.click(page.get_by_role("button", name="Save caregiver"))
        expect(page.locator(".flashes")).to_contain_text("Rita Ames saved.")

        # a class made by mistake: nobody attended, so it can be deleted
        ui.goto("/schedule/classes")
        ui.click(page.get_by_role("link", name="Stroke caregiver skills"))
        ui.click(page.get_by_role("button", name="Delete class"))
        expect(page.locator(".flashes")).to_contain_text("is deleted")
        assert omar and june
