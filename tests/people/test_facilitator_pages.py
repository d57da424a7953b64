"""Facilitator pages: an NPI that fails its check digit is saved, with a warning."""

from __future__ import annotations

import sqlalchemy as sa

from roster.extensions import db
from roster.models import Facilitator


def facilitators(app) -> list[Facilitator]:
    with app.app_context():
        return db.session.scalars(sa.select(Facilitator)).all()


def test_a_good_npi_is_saved_without_warning(app, client, login):
    login("coordinator")
    response = client.post("/people/facilitators/new", data={
        "name": "Dana Reyes, PT", "discipline": "PT", "npi": "1234567893"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Dana Reyes, PT saved." in html and "flash-warning" not in html and "Check digit fails" not in html
    [saved] = facilitators(app)
    assert (saved.discipline, saved.npi, saved.active) == ("PT", "1234567893", True)


def test_an_npi_failing_the_check_digit_is_saved_flashed_and_badged(app, client, login):
    login("coordinator")
    response = client.post("/people/facilitators/new", data={
        "name": "Sam Ortiz, OT", "discipline": "OT", "npi": "1234567890"})
    assert response.status_code == 302
    assert [f.npi for f in facilitators(app)] == ["1234567890"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash flash-warning">NPI 1234567890 fails the NPI check digit' in html
    assert 'badge warn' in html and "Check digit fails" in html


def test_a_bad_npi_shape_or_missing_discipline_writes_nothing(app, client, login):
    login("coordinator")
    response = client.post("/people/facilitators/new", data={"name": "", "discipline": "", "npi": "12345"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("Name is required.", "Discipline must be one of", "NPI must be exactly 10 digits."):
        assert message in html
    assert facilitators(app) == []


def test_editing_can_deactivate_and_fix_the_npi(app, client, login, build):
    facilitator = build.facilitator(npi="1234567890")
    login("biller")
    page = client.get(f"/people/facilitators/{facilitator.id}/edit").get_data(as_text=True)
    assert 'value="1234567890"' in page and 'id="active"' in page
    response = client.post(f"/people/facilitators/{facilitator.id}/edit", data={
        "name": facilitator.name, "discipline": "PTA", "npi": "1234567893"}, follow_redirects=True)
    assert "flash-warning" not in response.get_data(as_text=True)
    [saved] = facilitators(app)
    assert (saved.discipline, saved.npi, saved.active) == ("PTA", "1234567893", False)


def test_front_desk_sees_facilitators_but_cannot_add_them(client, login, build):
    build.facilitator()
    login("front_desk")
    html = client.get("/people/facilitators").get_data(as_text=True)
    assert "Dana Reyes, PT" in html and "Add a facilitator" not in html
    assert client.get("/people/facilitators/new").status_code == 403
