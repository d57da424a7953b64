"""Behavior-management training end to end in the browser: a coordinator creates the class with a
psychologist, the front desk checks three families in, the facilitator closes after 75 minutes, and
the biller sees 96202 + 96203 for each patient and exports them. Every page is axe-checked."""

from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from roster.domain.recurrence import utc_to_local
from roster.extensions import db
from roster.models import ClassSession, GroupClass, utcnow
from tests.browser.test_schedule import enrol

TITLE = "Managing agitation at home"
CLINIC_TZ = "America/Chicago"


def a_past_start() -> datetime:
    """A local start 90 minutes ago (to the 5 minutes), so a 75-minute session has ended by now.
    Its day is the day the front desk works on (yesterday just after midnight: sessions may be back-entered)."""
    moment = utc_to_local(utcnow(), CLINIC_TZ).replace(tzinfo=None) - timedelta(minutes=90)
    moment = moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)
    if (moment + timedelta(minutes=75)).date() != moment.date():  # keep it on one day
        moment = moment.replace(hour=22, minute=40)
    return moment


def test_behavior_class_with_a_psychologist_bills_96202_and_96203_for_each_family(ui, build, app):
    start = a_past_start()
    day = start.date()
    psychologist = build.facilitator(name="Dr. Mara Ng, PsyD", discipline="PSY", npi="1234567893")
    coordinator = build.user("coordinator")
    clerk = build.user("front_desk", name="Jo Desk")
    runner = build.user("facilitator", name="Mara Ng")
    biller = build.user("biller")
    families = []
    for first, last, carer in (("Walter", "Ames", "Rita"), ("Helen", "Brooks", "June"), ("Omar", "Cruz", "Luis")):
        patient = build.patient(
            first_name=first, last_name=last, needs=["dementia"],
            consent={"date": (day - timedelta(days=30)).isoformat(), "kind": "written"},
            plan_of_care={"discipline": "PT", "start": (day - timedelta(days=30)).isoformat(),
                          "end": (day + timedelta(days=60)).isoformat()})
        families.append((patient, build.caregiver(patients=[patient], first_name=carer, last_name=last)))
    page = ui.page

    # --- the coordinator: a behavior-management class run by the psychologist, one session
    ui.login(coordinator.email)
    ui.goto("/schedule/classes/new")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Focus needs").fill("dementia")
    page.get_by_label("Room").fill("Room 2")
    page.get_by_label("Caregiver seats").fill("10")
    page.get_by_label("Planned facilitator").select_option(str(psychologist.id))
    page.get_by_label("Training family").select_option("behavior")
    page.get_by_label(day.strftime("%A")).check()
    page.get_by_label("Start time").fill(start.strftime("%H:%M"))
    page.get_by_label("Duration (minutes)").fill("75")
    page.get_by_label("First date").fill(day.isoformat())
    page.get_by_label("Number of sessions").fill("1")
    ui.click(page.get_by_role("button", name="Create class"))
    # issue 13: a session in the past is created only after a tick (this one records a past session)
    page.get_by_label("Yes, create sessions in the past").check()
    ui.click(page.get_by_role("button", name="Create class"))
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Behavior management")
    for patient, carer in families:
        assert f"{carer.full_name} enrolled for {patient.full_name}." in enrol(ui, patient)
    ui.goto("/schedule/classes")
    expect(page.get_by_role("row").filter(has_text=TITLE)).to_contain_text("Behavior management")
    with app.app_context():
        group_class = db.session.scalars(sa.select(GroupClass).where(GroupClass.title == TITLE)).one()
        assert group_class.training == "behavior"
        session_id = db.session.scalars(sa.select(ClassSession.id).where(ClassSession.class_id == group_class.id)).one()
    ui.click(page.get_by_role("button", name="Sign out"))

    # --- the front desk checks the three families in
    ui.login(clerk.email)
    ui.goto(f"/frontdesk/sessions/{session_id}")
    for patient, carer in families:
        ui.click(page.locator(f"#checkin-{carer.id}-{patient.id}"))
        expect(page.locator(f"#cg-{carer.id}-{patient.id}")).to_contain_text("Checked in")
    expect(page.locator(".stat").first).to_have_text("3")
    ui.click(page.get_by_role("button", name="Sign out"))

    # --- the facilitator closes it after 75 minutes
    ui.login(runner.email)
    ui.goto(f"/frontdesk/sessions/{session_id}/close")
    page.get_by_label("Facilitator who ran the session").select_option(str(psychologist.id))
    page.get_by_label("Actual start").fill(start.strftime("%H:%M"))
    page.get_by_label("Actual end").fill((start + timedelta(minutes=75)).strftime("%H:%M"))
    ui.click(page.get_by_role("button", name="Close session"))
    expect(page.get_by_role("status").first).to_contain_text("Session closed.")
    ui.click(page.get_by_role("button", name="Sign out"))

    # --- the biller: 96202 x1 + 96203 x1 for each patient, no therapy modifier, side by side by family
    ui.login(biller.email)
    ui.goto(f"/billing/review?from={day.isoformat()}&to={day.isoformat()}&status=all")
    lines = page.locator("tbody.line")
    expect(lines).to_have_count(6)
    for patient, _ in families:
        for cpt in ("96202", "96203"):
            row = lines.filter(has_text=patient.mrn).filter(has=page.get_by_role("cell", name=cpt, exact=True))
            expect(row).to_have_count(1)
            expect(row.locator(".badge")).to_have_text("ready")
    behavior = page.locator("#family-behavior")
    # (each code is a link that narrows the lines, issue 13: its name adds ": show these lines")
    expect(behavior.get_by_role("row", name=re.compile(r"^96202\b.* 3 3$"))).to_be_visible()
    expect(behavior.get_by_role("row", name=re.compile(r"^96203\b.* 3 3$"))).to_be_visible()
    expect(page.locator("#family-functional").get_by_role("row", name=re.compile(r"^97552\b.* 0 0$"))).to_be_visible()

    ui.goto("/billing/exports")
    page.get_by_label("From", exact=True).fill(day.isoformat())
    page.get_by_label("To", exact=True).fill(day.isoformat())
    # issue 13: counted first, then confirmed
    ui.click(page.get_by_role("button", name="Count what would be exported"))
    assert "6 new lines, 0 voids for" in page.locator("#confirm").inner_text()
    ui.click(page.get_by_role("button", name="Export 6 new lines and 0 voids"))
    assert "Exported 6 rows" in page.locator(".flashes").inner_text()
    with page.expect_download() as download:
        ui.click(page.get_by_role("link", name="Download CSV").first, navigates=False)
    with open(download.value.path(), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["patient_mrn"], r["cpt"], r["units"], r["modifiers"], r["rendering_discipline"], r["minutes"])
                  for r in rows) == sorted(
        (patient.mrn, cpt, "1", "", "PSY", "75") for patient, _ in families for cpt in ("96202", "96203"))
