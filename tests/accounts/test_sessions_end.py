"""Sessions that really end: a cookie captured before sign-out, a password change, a deactivation."""

from __future__ import annotations

PASSWORD = "correct-horse-battery"


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_cookie_captured_before_sign_out_is_refused_after(app, client, build):
    user = build.user("coordinator")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get("/people/patients").status_code == 200
    stolen = _session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/people/patients").status_code == 200  # the copy works while the session is open
    assert client.post("/logout").status_code == 302
    replay = thief.get("/people/patients")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    # Signing in again gives a new session; the old copy stays dead.
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get("/people/patients").status_code == 200
    assert thief.get("/people/patients").status_code == 302


def test_password_change_keeps_this_session_and_ends_the_others(app, client, build):
    user = build.user("biller")
    other = app.test_client()
    for c in (client, other):
        c.post("/login", data={"email": user.email, "password": PASSWORD})
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "amber-kettle-harbor", "confirm_password": "amber-kettle-harbor"})
    assert response.status_code == 302
    assert client.get("/billing/review").status_code == 200
    assert other.get("/billing/review").status_code == 302


def test_change_password_refuses_weak_or_wrong_input_and_changes_nothing(app, client, build):
    user = build.user("front_desk", email="dana.front@clinic.test", name="Dana Front")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    cases = [
        ({"current_password": "not-my-password", "new_password": "amber-kettle-harbor",
          "confirm_password": "amber-kettle-harbor"}, "not your current password"),
        ({"current_password": PASSWORD, "new_password": "dana.front@clinic.test",
          "confirm_password": "dana.front@clinic.test"}, "e-mail address"),
        ({"current_password": PASSWORD, "new_password": "Password2026!", "confirm_password": "Password2026!"},
         "too common"),
        ({"current_password": PASSWORD, "new_password": "1234567890", "confirm_password": "1234567890"},
         "too common"),
        ({"current_password": PASSWORD, "new_password": "abcabcabcabc", "confirm_password": "abcabcabcabc"},
         "simple pattern"),
        ({"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"}, "at least 10"),
        ({"current_password": PASSWORD, "new_password": "amber-kettle-harbor",
          "confirm_password": "amber-kettle-harbour"}, "differ"),
        ({"current_password": "", "new_password": "", "confirm_password": ""}, "Enter your current password"),
    ]
    for data, message in cases:
        response = client.post("/account/password", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_account_page_lists_and_revokes_own_tokens_only(app, client, build):
    import re

    from roster.extensions import db
    from roster.models import User
    from roster.services import accounts

    user = build.user("facilitator")
    someone = build.user("biller")
    with app.app_context():
        mine = accounts.create_token(db.session.get(User, user.id), "phone app")
        theirs = accounts.create_token(db.session.get(User, someone.id), "theirs")
        db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    page = client.get("/account").get_data(as_text=True)
    assert "phone app" in page and "theirs" not in page
    ids = [int(i) for i in re.findall(r"/account/tokens/(\d+)/revoke", page)]
    assert len(ids) == 1
    assert client.post(f"/account/tokens/{ids[0] + 1}/revoke").status_code == 404  # someone else's
    assert client.post(f"/account/tokens/{ids[0]}/revoke").status_code == 302
    api = app.test_client()
    assert api.get("/api/v1/facilitators", headers={"Authorization": f"Bearer {mine}"}).status_code == 401
    assert api.get("/api/v1/facilitators", headers={"Authorization": f"Bearer {theirs}"}).status_code == 200
    old_secret = user.calendar_secret
    assert client.post("/account/calendar-secret").status_code == 302
    assert api.get(f"/calendar/{old_secret}/clinic.ics").status_code == 404
