"""The front desk by keyboard only: check three caregivers in (one a walk-in found by phone), undo one,
mark a patient present; then the facilitator closes the session. Every page is axe-checked."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from roster.extensions import db
from roster.models import CheckIn, ClassSession, PatientPresence
from tests.builders import PASSWORD
from tests.frontdesk.desk import make_scene

NOTICE = "is present: their caregivers' training today will not be billed for them (patient present)"


def enter(ui, locator=None):
    """Press Enter on the focused element (or on ``locator``) and check the page it leads to."""
    page = ui.page
    with page.expect_navigation():
        (locator or page.keyboard).press("Enter")
    ui.after_navigation()


def keyboard_login(ui, email: str):
    ui.goto("/login")
    page = ui.page
    expect(page.get_by_label("E-mail")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    enter(ui)


def keyboard_logout(ui):
    sign_out = ui.page.get_by_role("button", name="Sign out")
    sign_out.focus()
    enter(ui, sign_out)


def test_front_desk_and_facilitator_by_keyboard_only(ui, build, app):
    desk = make_scene(build, sets=2)
    (ann, bob), (ann_carer, bob_carer) = desk.patients, desk.caregivers
    walter = desk.patient(first_name="Walter", last_name="Walker")
    wanda = build.caregiver([walter], first_name="Wanda", last_name="Walker", phone="(555) 867-5309")
    clerk = build.user("front_desk", name="Jo Desk")
    runner = build.user("facilitator", name="Dana Reyes")
    page = ui.page

    # --- the front desk: Today -> the session
    keyboard_login(ui, clerk.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    open_session = page.get_by_role("link", name=re.compile(r"^Check in for Stroke caregiver skills"))
    open_session.focus()
    enter(ui, open_session)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check-in: Stroke caregiver skills")

    # --- two enrolled caregivers: Enter, and focus moves on to the next one still to come
    first = page.locator(f"#checkin-{ann_carer.id}-{ann.id}")
    first.focus()
    enter(ui, first)
    expect(page.locator(f"#cg-{ann_carer.id}-{ann.id}")).to_contain_text(re.compile(r"Checked in \d\d?:\d\d\s[AP]M by Jo Desk"))
    expect(page.locator(f"#checkin-{bob_carer.id}-{bob.id}")).to_be_focused()
    enter(ui)
    expect(page.get_by_role("status").first).to_contain_text("checked in at")

    # --- a walk-in, found by typing part of the phone number; everyone listed is in, so focus is on the search
    search = page.get_by_label("Find a caregiver")
    expect(search).to_be_focused()
    page.keyboard.type("8675")
    result = page.get_by_role("button", name=re.compile(r"^Check in for Walter Walker"))
    expect(result).to_be_visible()
    expect(page.locator("#walkin-status")).to_contain_text("1 caregiver found")
    ui.check_a11y()
    page.keyboard.press("ArrowDown")
    expect(result).to_be_focused()
    enter(ui)
    expect(page.locator(f"#cg-{wanda.id}-{walter.id}")).to_contain_text("Walk-in")
    expect(page.locator(".stat")).to_have_text("3")

    # --- undo one
    undo = page.locator(f"#undo-{bob_carer.id}-{bob.id}")
    undo.focus()
    enter(ui, undo)
    expect(page.get_by_role("status").first).to_contain_text("undone")
    expect(page.locator(f"#checkin-{bob_carer.id}-{bob.id}")).to_be_focused()

    # --- Ann came along: patient present
    present = page.get_by_role("switch", name=f"Patient is here ({ann.first_name} {ann.last_name})")
    present.focus()
    enter(ui, present)
    expect(page.locator(f"#set-{ann.id}")).to_contain_text(f"{ann.first_name} {ann.last_name} {NOTICE}")
    expect(present).to_have_attribute("aria-checked", "true")
    expect(present).to_be_focused()

    # --- the printable sheet, and back
    sheet = page.get_by_role("link", name="Sign-in sheet")
    sheet.focus()
    enter(ui, sheet)
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    back = page.get_by_role("link", name="Back to check-in")
    back.focus()
    enter(ui, back)
    keyboard_logout(ui)

    # --- the facilitator closes the session
    keyboard_login(ui, runner.email)
    close = page.get_by_role("link", name=re.compile(r"^Close session for Stroke caregiver skills"))
    close.focus()
    enter(ui, close)
    expect(page.get_by_label("Facilitator who ran the session")).to_have_value(str(desk.facilitator.id))
    expect(page.get_by_role("checkbox", name=re.compile(f"{ann.first_name} {ann.last_name}"))).to_be_checked()
    expect(page.get_by_role("checkbox", name=re.compile(f"{bob.first_name} {bob.last_name}"))).not_to_be_checked()
    submit = page.get_by_role("button", name="Close session")
    submit.focus()
    enter(ui, submit)
    expect(page.get_by_role("heading", name="Closed", exact=True)).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("Session closed.")

    with app.app_context():
        session = db.session.get(ClassSession, desk.session_id)
        assert session.status == "held" and session.actual_facilitator_id == desk.facilitator.id
        pairs = db.session.execute(sa.select(CheckIn.caregiver_id, CheckIn.patient_id, CheckIn.walk_in)
                                   .where(CheckIn.session_id == desk.session_id)).all()
        assert sorted(pairs) == sorted([(ann_carer.id, ann.id, False), (wanda.id, walter.id, True)])
        assert db.session.scalars(sa.select(PatientPresence.patient_id)).all() == [ann.id]
