"""A coordinator schedules a class, fills it, works the waitlist, cancels a session, and the feed follows."""

import re
from datetime import date, timedelta

TITLE = "Stroke caregiver skills (spring)"


def first_tuesday_of_next_february() -> date:
    first = date(date.today().year + 1, 2, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7)


def enrol(ui, patient) -> str:
    """Find the patient by MRN, keep all their caregivers ticked, enrol; return the flash text."""
    page = ui.page
    page.get_by_label("Patient name or MRN").fill(patient.mrn)
    ui.click(page.get_by_role("button", name="Find patient"))
    ui.click(page.get_by_role("button", name="Enrol", exact=True))
    return page.locator(".flashes").inner_text()


def test_coordinator_schedules_fills_and_cancels_and_the_feed_follows(ui, build):
    coordinator = build.user(role="coordinator")
    pairs = build.patient(first_name="Walter", last_name="Ames")
    build.caregiver(patients=[pairs], first_name="Rita", last_name="Ames")
    build.caregiver(patients=[pairs], first_name="Tom", last_name="Ames", relationship="son")
    leaving = build.patient(first_name="June", last_name="Bell")
    build.caregiver(patients=[leaving], first_name="Hal", last_name="Bell")
    waiting = build.patient(first_name="Omar", last_name="Diaz")
    build.caregiver(patients=[waiting], first_name="Lina", last_name="Diaz", relationship="daughter")
    page = ui.page
    page.on("dialog", lambda dialog: dialog.accept())  # the Withdraw button asks for confirmation

    ui.login(coordinator.email)
    ui.click(page.get_by_role("link", name="New class"))
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Focus needs").fill("stroke")
    page.get_by_label("Room").fill("Gym A")
    page.get_by_label("Caregiver seats").fill("3")
    page.get_by_label("Tuesday").check()
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("First date").fill(first_tuesday_of_next_february().isoformat())
    page.get_by_label("Number of sessions").fill("6")
    ui.click(page.get_by_role("button", name="Create class"))

    assert page.get_by_role("heading", name=TITLE, level=1).is_visible()
    assert "is scheduled with 6 sessions" in page.locator(".flashes").inner_text()
    sessions = page.locator("tr[id^=session-]")
    assert sessions.count() == 6

    assert "Rita Ames and Tom Ames enrolled for Walter Ames." in enrol(ui, pairs)
    assert "Hal Bell enrolled for June Bell." in enrol(ui, leaving)
    assert "0 left: 3 of 3 taken" in page.locator(".facts").inner_text()
    assert "Lina Diaz (Omar Diaz) waitlisted (position 1)" in enrol(ui, waiting)
    waitlist = page.locator("table", has=page.get_by_role("columnheader", name="Position"))
    assert "Omar Diaz" in waitlist.inner_text()

    ui.click(page.get_by_role("row").filter(has_text="June Bell").get_by_role("button", name="Withdraw"))
    flashes = page.locator(".flashes").inner_text()
    assert "June Bell's caregivers are withdrawn" in flashes
    assert "Omar Diaz's caregivers moved from the waitlist into the class." in flashes
    assert "Nobody is waiting." in page.locator("#sets").inner_text()

    second = sessions.nth(1)
    cancelled_id = second.get_attribute("id").removeprefix("session-")
    ui.click(second.get_by_role("link", name=re.compile("^Cancel session of")))
    page.get_by_label("Reason").fill("Facilitator ill")
    ui.click(page.get_by_role("button", name="Cancel the session"))
    row = page.locator(f"#session-{cancelled_id}")
    assert "Cancelled" in row.inner_text() and "Reason: Facilitator ill" in row.inner_text()

    ui.goto("/account")
    feed_url = page.locator(".feeds li", has_text=TITLE).locator("input.feed-url").input_value()  # issue 13: a field to copy from
    feed = page.request.get(feed_url)
    assert feed.status == 200 and feed.headers["content-type"] == "text/calendar; charset=utf-8"
    body = feed.text()
    event = body[body.index(f"UID:session-{cancelled_id}@roster"):]
    event = event[:event.index("END:VEVENT")]
    assert "STATUS:CANCELLED" in event and "SEQUENCE:1" in event
    assert body.count("BEGIN:VEVENT") == 6 and body.count("STATUS:CANCELLED") == 1
    for private in ("Walter", "Omar", "Rita", "Lina", "Bell", pairs.mrn):
        assert private not in body


def test_coordinator_edits_a_class_from_its_page(ui, build):
    coordinator = build.user(role="coordinator")
    group_class = build.group_class(title="Stroke basics", capacity=4, room="Gym A")
    page = ui.page
    ui.login(coordinator.email)
    ui.goto(f"/schedule/classes/{group_class.id}")
    ui.click(page.get_by_role("link", name="Edit class"))
    assert page.get_by_label("Title").input_value() == "Stroke basics"

    page.get_by_label("Caregiver seats").fill("0")
    ui.click(page.get_by_role("button", name="Save changes"))
    assert "Capacity must be between 1 and 500." in page.locator(".error-summary").inner_text()

    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Caregiver seats").fill("6")
    ui.click(page.get_by_role("button", name="Save changes"))
    assert page.get_by_role("heading", name=TITLE, level=1).is_visible()
    assert f"“{TITLE}” is saved." in page.locator(".flashes").inner_text()
    assert "6 left: 0 of 6 taken" in page.locator(".facts").inner_text()


def test_a_clinic_of_many_classes_finds_a_class_calendar_link(ui, build, monkeypatch):
    """Above CLASSES_LISTED classes the account page lists the first by title and finds the others."""
    from roster.services import calendar

    monkeypatch.setattr(calendar, "CLASSES_LISTED", 1)
    coordinator = build.user(role="coordinator")
    build.group_class(title="Aphasia basics")
    build.group_class(title="Wheelchair transfers")
    ui.login(coordinator.email)
    ui.goto("/account")
    page = ui.page
    assert page.locator(".feeds li", has_text="Aphasia basics").count() == 1
    assert page.get_by_text("1 of 2 classes shown").is_visible()
    page.get_by_label("Find a class").fill("wheelchair")
    ui.click(page.get_by_role("button", name="Find", exact=True))
    link = page.locator(".feeds li", has_text="Wheelchair transfers")
    assert link.locator("input.feed-url").input_value().endswith(".ics")
    assert page.locator(".feeds li", has_text="Aphasia").count() == 0
