"""The Staff page: create (role chosen, temporary password), edit, deactivate, reset, unlock; the guards."""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.models import ApiToken, AuditEvent, User

PASSWORD = "correct-horse-battery"


def _temp_password(html: str) -> str:
    return re.search(r'id="temp-password">([^<]+)<', html).group(1)


def _user(app, email):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def _actions(app, prefix="user."):
    with app.app_context():
        return [(e.action, e.after) for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id))]


def test_create_account_with_a_chosen_role_and_a_temporary_password(app, client, login):
    login("admin")
    response = client.post("/staff", data={"name": "Bea Biller", "email": "Bea@Clinic.test", "role": "biller"})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    temp = _temp_password(html)
    assert len(temp) >= 16
    bea = _user(app, "bea@clinic.test")
    assert bea.role == "biller" and bea.must_change_password and bea.name == "Bea Biller"
    assert bea.password_hash != temp and temp not in bea.password_hash
    created = [after for action, after in _actions(app) if action == "user.create"]
    assert created[-1]["role"] == "biller" and temp not in str(created)  # audited, never the secret
    # The page lists the new account.
    assert "bea@clinic.test" in client.get("/staff").get_data(as_text=True)


def test_create_refuses_bad_input_and_writes_nothing(app, client, login):
    login("admin")
    cases = [
        ({"name": "No Role", "email": "norole@clinic.test", "role": ""}, "Choose a role."),
        ({"name": "Bad Mail", "email": "not-an-address", "role": "biller"}, "Enter a valid e-mail address"),
        ({"name": "Bad Mail", "email": "two@@clinic.test", "role": "biller"}, "Enter a valid e-mail address"),
        ({"name": "", "email": "noname@clinic.test", "role": "biller"}, "Enter the person&#39;s name."),
        ({"name": "Wizard", "email": "wiz@clinic.test", "role": "wizard"}, "Not a valid choice"),
    ]
    for data, message in cases:
        response = client.post("/staff", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1  # only the signed-in admin
    # A duplicate address is refused too.
    client.post("/staff", data={"name": "Dee", "email": "dee@clinic.test", "role": "front_desk"})
    again = client.post("/staff", data={"name": "Dee 2", "email": "DEE@clinic.test", "role": "biller"})
    assert again.status_code == 409 and "already exists" in again.get_data(as_text=True)


def test_role_has_no_default_in_the_form(client, login):
    login("admin")
    html = client.get("/staff").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="role".*?</select>', html, re.S).group(0)
    assert "selected" not in select and select.index('<option value="">Choose a role') < select.index("admin")


def test_edit_name_and_role_is_audited(app, client, login, build):
    login("admin")
    kim = build.user("front_desk", name="Kim Lee")
    response = client.post(f"/staff/{kim.id}", data={"name": "Kim Lee-Park", "role": "coordinator"})
    assert response.status_code == 302
    kim = _user(app, kim.email)
    assert (kim.name, kim.role) == ("Kim Lee-Park", "coordinator")
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.update")).one()
        assert event.before == {"name": "Kim Lee", "role": "front_desk", "facilitator_id": None}
        assert event.after == {"name": "Kim Lee-Park", "role": "coordinator", "facilitator_id": None}
    bad = client.post(f"/staff/{kim.id}", data={"name": "", "role": "biller"})
    assert bad.status_code == 422 and _user(app, kim.email).role == "coordinator"


def test_last_active_administrator_cannot_be_demoted_or_deactivated(app, client, build, runner):
    admin = build.user("admin")
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    # Not themselves...
    response = client.post(f"/staff/{admin.id}", data={"name": admin.name, "role": "biller"})
    assert response.status_code == 422 and "your own account" in response.get_data(as_text=True)
    client.post(f"/staff/{admin.id}/deactivate", follow_redirects=False)
    assert _user(app, admin.email).active and _user(app, admin.email).role == "admin"
    # ...and not the last active administrator, even from the command line.
    result = runner.invoke(args=["roster", "set-role", admin.email, "biller"])
    assert result.exit_code != 0 and "last active administrator" in result.output
    result = runner.invoke(args=["roster", "deactivate", admin.email])
    assert result.exit_code != 0 and "last active administrator" in result.output
    assert _user(app, admin.email).role == "admin"
    # With a second administrator, the first may be demoted by the second.
    other = build.user("admin")
    client.post("/logout")
    client.post("/login", data={"email": other.email, "password": PASSWORD})
    assert client.post(f"/staff/{admin.id}", data={"name": admin.name, "role": "biller"}).status_code == 302
    assert _user(app, admin.email).role == "biller"
    # Now `other` is the last one.
    response = client.post(f"/staff/{other.id}/deactivate", follow_redirects=True)
    assert "your own account" in response.get_data(as_text=True)
    result = runner.invoke(args=["roster", "deactivate", other.email])
    assert "last active administrator" in result.output
    assert _user(app, other.email).active


def test_deactivate_ends_sessions_tokens_and_feeds_then_reactivate(app, client, build):
    admin = build.user("admin")
    bea = build.user("biller")
    bea_client = app.test_client()
    assert bea_client.post("/login", data={"email": bea.email, "password": PASSWORD}).status_code == 302
    with app.app_context():
        from roster.services import accounts

        raw = accounts.create_token(db.session.get(User, bea.id), "feed")
        db.session.commit()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert client.post(f"/staff/{bea.id}/deactivate").status_code == 302
    assert bea_client.get("/billing/review").status_code == 302  # the open session is refused
    assert client.get(f"/api/v1/billing/lines?from=2026-01-01&to=2026-01-31",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert client.get(f"/calendar/{bea.calendar_secret}/clinic.ics").status_code == 404
    assert bea_client.post("/login", data={"email": bea.email, "password": PASSWORD}).status_code == 401
    assert client.post(f"/staff/{bea.id}/reactivate").status_code == 302
    assert bea_client.post("/login", data={"email": bea.email, "password": PASSWORD}).status_code == 302
    assert [a for a, _ in _actions(app)] == ["user.create", "user.create", "user.deactivate", "user.reactivate"]


def test_reset_password_gives_a_one_time_password_that_must_be_replaced(app, client, build):
    admin = build.user("admin")
    bea = build.user("biller")
    bea_client = app.test_client()
    bea_client.post("/login", data={"email": bea.email, "password": PASSWORD})
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    response = client.post(f"/staff/{bea.id}/reset-password")
    assert response.status_code == 200
    temp = _temp_password(response.get_data(as_text=True))
    assert bea_client.get("/billing/review").status_code == 302  # reset ended her session
    assert bea_client.post("/login", data={"email": bea.email, "password": PASSWORD}).status_code == 401
    signed_in = bea_client.post("/login", data={"email": bea.email, "password": temp})
    assert signed_in.headers["Location"].endswith("/account/password")
    # Until a new password is chosen, every page leads back to the change form.
    assert bea_client.get("/billing/review").headers["Location"].endswith("/account/password")
    changed = bea_client.post("/account/password", data={
        "current_password": temp, "new_password": "violet-ledger-canoe", "confirm_password": "violet-ledger-canoe"})
    assert changed.status_code == 302
    assert bea_client.get("/billing/review").status_code == 200
    assert not _user(app, bea.email).must_change_password
    # The temporary password worked once: it is gone now.
    assert app.test_client().post("/login", data={"email": bea.email, "password": temp}).status_code == 401
    audited = str(_actions(app, ""))
    assert "user.reset_password" in audited and "user.change_password" in audited
    assert temp not in audited and "violet-ledger-canoe" not in audited  # never a secret


def test_unlock_forgets_failed_attempts(app, client, build):
    admin = build.user("admin")
    bea = build.user("biller")
    other = app.test_client()
    for _ in range(5):
        other.post("/login", data={"email": bea.email, "password": "wrong-password"})
    assert other.post("/login", data={"email": bea.email, "password": PASSWORD}).status_code == 429
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert "Sign-in paused" in client.get(f"/staff/{bea.id}").get_data(as_text=True)
    assert client.post(f"/staff/{bea.id}/unlock").status_code == 302
    assert other.post("/login", data={"email": bea.email, "password": PASSWORD}).status_code == 302
    assert "user.unlock" in [a for a, _ in _actions(app)]


def test_token_with_expiry_and_last_used(app, client, build, clock):
    from datetime import timedelta

    admin = build.user("admin")
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    past = client.post(f"/staff/{admin.id}/tokens", data={"label": "old", "expires_on": "2020-01-01"},
                       follow_redirects=True)
    assert "Choose a day in the future" in past.get_data(as_text=True)
    tomorrow = (clock() + timedelta(days=2)).date().isoformat()
    page = client.post(f"/staff/{admin.id}/tokens", data={"label": "EHR", "expires_on": tomorrow})
    raw = re.search(r'<code class="token">([^<]+)<', page.get_data(as_text=True)).group(1)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert api.get("/api/v1/facilitators", headers=headers).status_code == 200
    with app.app_context():
        token = db.session.scalars(sa.select(ApiToken)).one()
        first_use = token.last_used_at
        assert first_use == clock() and token.expires_at is not None  # the services' clock, not the wall's
    clock.set(clock() + timedelta(seconds=59))
    assert api.get("/api/v1/facilitators", headers=headers).status_code == 200
    with app.app_context():
        assert db.session.scalars(sa.select(ApiToken)).one().last_used_at == first_use  # once a minute at most
    clock.set(clock() + timedelta(seconds=2))
    assert api.get("/api/v1/facilitators", headers=headers).status_code == 200
    with app.app_context():
        token = db.session.scalars(sa.select(ApiToken)).one()
        assert token.last_used_at == clock()
        token.expires_at = clock() - timedelta(seconds=1)
        db.session.commit()
    assert api.get("/api/v1/facilitators", headers=headers).status_code == 401


def test_a_call_never_waits_for_another_call_recording_the_same_tokens_use(app, build):
    """Desks sharing one token: while one call is recording the token's use (its row locked until that
    call commits), another call of the same token answers at once instead of queueing behind it."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("row locks: SQLite has one writer and no row locks")
    raw = build.token("front_desk")
    api, headers = app.test_client(), {"Authorization": f"Bearer {raw}"}
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    with _engine(app).connect() as holder:
        holder.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=None))
        answers = []
        call = threading.Thread(target=lambda: answers.append(api.get("/api/v1/facilitators", headers=headers)))
        call.start()
        call.join(timeout=10)
        waited = call.is_alive()
        holder.rollback()  # the other call ends (here without having recorded anything)
        call.join()
    assert not waited, "the call queued behind the other call's lock on the token"
    assert answers[0].status_code == 200
    assert api.get("/api/v1/facilitators", headers=headers).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None  # the next call records it


def _engine(app):
    with app.app_context():
        return db.engine


def test_cli_reset_password_and_reactivate(app, runner, client, build):
    bea = build.user("biller")
    result = runner.invoke(args=["roster", "reset-password", bea.email])
    assert result.exit_code == 0, result.output
    temp = result.output.strip().splitlines()[-1]
    assert client.post("/login", data={"email": bea.email, "password": temp}).headers["Location"].endswith(
        "/account/password")
    assert runner.invoke(args=["roster", "deactivate", bea.email]).exit_code == 0
    assert not _user(app, bea.email).active
    assert runner.invoke(args=["roster", "deactivate", bea.email, "--reactivate"]).exit_code == 0
    assert runner.invoke(args=["roster", "set-role", bea.email, "coordinator"]).exit_code == 0
    assert _user(app, bea.email).role == "coordinator" and _user(app, bea.email).active
    assert runner.invoke(args=["roster", "set-role", "ghost@clinic.test", "biller"]).exit_code != 0


def test_staff_pages_are_for_administrators_only(client, login, build):
    bea = build.user("biller")
    login("coordinator")
    for path in ("/staff", f"/staff/{bea.id}"):
        assert client.get(path).status_code == 403
    assert client.post(f"/staff/{bea.id}/reset-password").status_code == 403


def test_link_a_facilitator_account_to_its_facilitator_record(app, client, login, build):
    login("admin")
    dana = build.facilitator(name="Dana Reyes, PT")
    account = build.user("facilitator", name="Dana Reyes")
    page = client.get(f"/staff/{account.id}").get_data(as_text=True)
    assert "Dana Reyes, PT" in page
    response = client.post(f"/staff/{account.id}", data={"name": "Dana Reyes", "role": "facilitator",
                                                         "facilitator_id": str(dana.id)})
    assert response.status_code == 302
    assert _user(app, account.email).facilitator_id == dana.id
    bad = client.post(f"/staff/{account.id}", data={"name": "Dana Reyes", "role": "facilitator",
                                                    "facilitator_id": "987654"})
    assert bad.status_code == 422 and _user(app, account.email).facilitator_id == dana.id
    assert client.post(f"/staff/{account.id}", data={"name": "Dana Reyes", "role": "facilitator",
                                                     "facilitator_id": ""}).status_code == 302
    assert _user(app, account.email).facilitator_id is None


def test_cli_token_with_an_expiry(app, runner, client, build):
    bea = build.user("biller")
    past = runner.invoke(args=["roster", "create-token", bea.email, "--expires", "2020-01-01"])
    assert past.exit_code != 0 and "future" in past.output
    result = runner.invoke(args=["roster", "create-token", bea.email, "--expires", "2999-12-31"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert client.get("/api/v1/billing/lines?from=2026-01-01&to=2026-01-31",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    with app.app_context():
        assert db.session.scalars(sa.select(ApiToken)).one().expires_at.year == 2999
