"""Calendar feeds built from the database: clinic, class, facilitator and room, by secret link."""

from datetime import date, datetime, timedelta

import icalendar
import pytest

from roster.extensions import db
from roster.models import User

CHI = "America/Chicago"
YEAR = date.today().year + 1  # a whole future February and March: inside the feeds' window, across DST
FORBIDDEN = ("Zebulon", "Quillfeather", "ZQ-4417", "1937-07-19", "19370719", "Philippa", "Marchbanks",
             "867-5309", "8675309", "1EG4TE5MK99", "I69.351", "Ignatius", "Wolfsbane")


def tuesdays(n: int) -> list[str]:
    first = date(YEAR, 2, 1)
    first += timedelta(days=(1 - first.weekday()) % 7)
    return [(first + timedelta(weeks=i)).isoformat() for i in range(n)]


@pytest.fixture
def clinic(app, build, client, login):
    """An eight-week class in Gym A with two enrolled families whose details must never leak."""
    login("coordinator")
    dana = build.facilitator(name="Dana Reyes, PT")
    lee = build.facilitator(name="Lee Park, OT", discipline="OT")
    group_class = build.group_class(
        title="Stroke caregiver skills", room="Gym A", facilitator=dana, timezone=CHI,
        sessions=[{"starts_at": f"{day}T10:00", "duration_minutes": 60} for day in tuesdays(8)])
    zeb = build.patient(first_name="Zebulon", last_name="Quillfeather", mrn="ZQ-4417", dob="1937-07-19",
                        member_id="1EG4TE5MK99")
    build.enroll(group_class, zeb, [build.caregiver(patients=[zeb], first_name="Philippa",
                                                    last_name="Marchbanks", phone="555-867-5309")])
    ign = build.patient(first_name="Ignatius", last_name="Wolfsbane")
    build.enroll(group_class, ign, [build.caregiver(patients=[ign])])
    user = build.user(role="facilitator")
    return {"class": group_class, "ids": group_class.session_ids, "dana": dana, "lee": lee,
            "secret": user.calendar_secret, "user": user}


def fetch(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return response.get_data()


def events(raw: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(raw)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def feed_urls(clinic) -> dict[str, str]:
    base = f"/calendar/{clinic['secret']}"
    return {
        "clinic": f"{base}/clinic.ics",
        "class": f"{base}/classes/{clinic['class'].id}.ics",
        "facilitator": f"{base}/facilitators/{clinic['dana'].id}.ics",
        "room": f"{base}/rooms/Gym%20A.ics",
    }


def edit(client, session_id: int, **over):
    data = {"date": "", "start_time": "10:00", "duration_minutes": "60", "room": "Gym A",
            "facilitator_id": "", "scope": "this"} | over
    assert client.post(f"/schedule/sessions/{session_id}/edit", data=data).status_code == 302


def test_every_feed_parses_and_never_carries_patient_or_caregiver_data(client, clinic):
    for name, url in feed_urls(clinic).items():
        raw = fetch(client, url)
        found = events(raw)
        assert set(found) == {f"session-{i}@roster" for i in clinic["ids"]}, name
        unfolded = raw.replace(b"\r\n ", b"").decode().lower()
        for word in FORBIDDEN:
            assert word.lower() not in unfolded, (name, word)
        for vevent in found.values():
            assert str(vevent["SUMMARY"]) == "Stroke caregiver skills"
            assert str(vevent["LOCATION"]) == "Gym A"
            assert str(vevent["DESCRIPTION"]) == "Dana Reyes, PT - in person"
            assert str(vevent["STATUS"]) == "CONFIRMED" and int(vevent["SEQUENCE"]) == 0


def test_uids_are_stable_and_times_are_local_with_a_matching_vtimezone(client, clinic):
    url = feed_urls(clinic)["class"]
    first, second = fetch(client, url), fetch(client, url)
    assert list(events(first)) == list(events(second))
    calendar = icalendar.Calendar.from_ical(first)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [CHI]
    assert calendar.get_missing_tzids() == set()
    offsets = set()
    for vevent in calendar.walk("VEVENT"):
        assert vevent["DTSTART"].params["TZID"] == CHI and vevent["DTEND"].params["TZID"] == CHI
        start = vevent.decoded("DTSTART")
        assert (start.hour, start.minute) == (10, 0)  # 10:00 local on both sides of the DST change
        offsets.add(start.utcoffset())
    assert offsets == {timedelta(hours=-6), timedelta(hours=-5)}
    assert f"DTSTART;TZID={CHI}:{tuesdays(1)[0].replace('-', '')}T100000".encode() in first


def test_sequence_rises_after_an_edit_and_after_a_cancel(client, clinic):
    url = feed_urls(clinic)["clinic"]
    first, second, third = clinic["ids"][:3]
    edit(client, second, date=tuesdays(2)[1], start_time="11:00")
    assert client.post(f"/schedule/sessions/{third}/cancel", data={"reason": "Gym flooded"}).status_code == 302
    edit(client, first, date=tuesdays(1)[0], start_time="09:00")
    assert client.post(f"/schedule/sessions/{first}/cancel", data={"reason": "Snow"}).status_code == 302
    found = events(fetch(client, url))
    one, two, three = (found[f"session-{i}@roster"] for i in (first, second, third))
    assert (int(two["SEQUENCE"]), str(two["STATUS"]), two.decoded("DTSTART").hour) == (1, "CONFIRMED", 11)
    assert (int(three["SEQUENCE"]), str(three["STATUS"])) == (1, "CANCELLED")
    assert (int(one["SEQUENCE"]), str(one["STATUS"])) == (2, "CANCELLED")
    raw = fetch(client, url)
    assert b"STATUS:CANCELLED" in raw and b"Gym flooded" not in raw  # the reason stays inside the clinic


def test_room_and_facilitator_feeds_follow_each_sessions_own_room_and_facilitator(client, clinic):
    moved, restaffed = clinic["ids"][1], clinic["ids"][2]
    edit(client, moved, date=tuesdays(2)[1], room="Studio B")
    edit(client, restaffed, date=tuesdays(3)[2], facilitator_id=str(clinic["lee"].id))
    base = f"/calendar/{clinic['secret']}"
    gym = events(fetch(client, f"{base}/rooms/gym%20a.ics"))  # any spelling of the room
    studio = events(fetch(client, f"{base}/rooms/Studio%20B.ics"))
    assert f"session-{moved}@roster" not in gym and len(gym) == 7
    assert list(studio) == [f"session-{moved}@roster"]
    assert str(studio[f"session-{moved}@roster"]["LOCATION"]) == "Studio B"
    dana = events(fetch(client, f"{base}/facilitators/{clinic['dana'].id}.ics"))
    lee = events(fetch(client, f"{base}/facilitators/{clinic['lee'].id}.ics"))
    assert f"session-{restaffed}@roster" not in dana and len(dana) == 7
    assert list(lee) == [f"session-{restaffed}@roster"]
    assert str(lee[f"session-{restaffed}@roster"]["DESCRIPTION"]) == "Lee Park, OT - in person"
    for missing in ("rooms/Nowhere.ics", "facilitators/999.ics", "classes/999.ics"):
        assert client.get(f"{base}/{missing}").status_code == 404


def test_a_bad_secret_finds_nothing_and_a_reset_retires_the_old_links(app, client, clinic):
    urls = feed_urls(clinic)
    for url in urls.values():
        assert client.get(url.replace(clinic["secret"], "not-the-secret")).status_code == 404
    client.post("/logout")
    client.post("/login", data={"email": clinic["user"].email, "password": "correct-horse-battery"})
    assert client.post("/account/calendar-secret").status_code == 302
    for url in urls.values():
        assert client.get(url).status_code == 404
    with app.app_context():
        user = db.session.get(User, clinic["user"].id)
        fresh = user.calendar_secret
        assert fresh != clinic["secret"]
        fetch(client, urls["class"].replace(clinic["secret"], fresh))
        user.active = False
        db.session.commit()
    assert client.get(urls["class"].replace(clinic["secret"], fresh)).status_code == 404


def test_account_page_lists_a_link_for_each_class_facilitator_and_room(client, clinic):
    client.post("/logout")
    client.post("/login", data={"email": clinic["user"].email, "password": "correct-horse-battery"})
    page = client.get("/account").get_data(as_text=True)
    for url in feed_urls(clinic).values():
        assert f"http://localhost{url}" in page
    assert "Stroke caregiver skills" in page and "Lee Park, OT" in page


def test_account_page_lists_a_bounded_number_of_class_links_and_finds_the_others(
        client, clinic, build, monkeypatch):
    """A health system runs over a thousand classes: the account page lists the first CLASSES_LISTED by
    title and a filter finds the others (title, any case; % and _ are plain characters)."""
    from roster.services import calendar

    monkeypatch.setattr(calendar, "CLASSES_LISTED", 2)
    for title in ("Aphasia basics", "Balance 100% safe", "Dementia care_night"):
        build.group_class(title=title)
    client.post("/logout")
    client.post("/login", data={"email": clinic["user"].email, "password": "correct-horse-battery"})
    page = client.get("/account").get_data(as_text=True)
    assert "Aphasia basics" in page and "Balance 100% safe" in page and "Dementia" not in page
    assert "2 of 4 classes shown" in page and 'name="class"' in page
    assert "Lee Park, OT" in page  # facilitators and rooms are all listed
    found = client.get("/account?class=CARE_n").get_data(as_text=True)
    assert "Dementia care_night" in found and "Aphasia" not in found and "of 4" not in found
    assert "Balance 100% safe" in client.get("/account?class=0%25").get_data(as_text=True)
    none = client.get("/account?class=care%25night").get_data(as_text=True)  # % is no wildcard
    assert "No class title contains “care%night”" in none and "Dementia" not in none
    both = client.get("/account?class=s").get_data(as_text=True)  # three match, two shown
    assert "2 of 3 classes matching “s” shown" in both


def test_clinic_feed_runs_a_bounded_number_of_queries(client, clinic, build, count_queries):
    def queries():
        with count_queries() as counter:
            fetch(client, feed_urls(clinic)["clinic"])
        return counter.count

    few = queries()
    for n in range(5):
        build.group_class(facilitator=build.facilitator(), sessions=[
            {"starts_at": f"{day}T{8 + n:02d}:00", "duration_minutes": 30} for day in tuesdays(3)])
    assert queries() == few


def test_old_sessions_drop_out_of_the_feeds(client, clinic, build):
    long_ago = (datetime.now() - timedelta(days=400)).strftime("%Y-%m-%dT10:00")
    old = build.group_class(title="Old class", sessions=[{"starts_at": long_ago, "duration_minutes": 60}])
    assert events(fetch(client, f"/calendar/{clinic['secret']}/classes/{old.id}.ics")) == {}
