"""Two-factor sign-in: enrolment, codes once, recovery codes once, the code step throttled, the clinic setting."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, RecoveryCode, User, utcnow
from roster.services import throttle

PASSWORD = "correct-horse-battery"


def _enrol(client) -> tuple[pyotp.TOTP, list[str]]:
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code is drawn here
    secret = re.search(r'id="totp-secret">([^<]+)<', page).group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    wrong = client.post("/account/two-factor", data={"code": "000000" if totp.now() != "000000" else "111111"})
    assert wrong.status_code == 422 and b"does not match" in wrong.data
    done = client.post("/account/two-factor", data={"code": totp.now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    return totp, codes


def _sign_in(app, email):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/login/code")
    return client


def _previous_step_code(totp):
    return totp.at(utcnow() - timedelta(seconds=30))


def test_enrol_then_sign_in_with_a_code_used_once(app, client, build):
    user = build.user("biller")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    totp, codes = _enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():
        stored = list(db.session.scalars(sa.select(RecoveryCode.code_hash)))
        assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
        assert db.session.get(User, user.id).totp_secret
    second = _sign_in(app, user.email)
    assert second.get("/billing/review").status_code == 302  # not signed in before the code
    wrong = second.post("/login/code", data={"code": "123456" if totp.now() != "123456" else "654321"})
    assert wrong.status_code == 401
    # The code the enrolment used is spent; an earlier one than it is refused too.
    assert second.post("/login/code", data={"code": _previous_step_code(totp)}).status_code == 401
    with app.app_context():  # let the next step's code through without waiting 30 s
        db.session.get(User, user.id).totp_last_step -= 2
        db.session.commit()
    code = totp.now()
    assert second.post("/login/code", data={"code": code}).status_code == 302
    assert second.get("/billing/review").status_code == 200
    third = _sign_in(app, user.email)
    assert third.post("/login/code", data={"code": code}).status_code == 401  # the same code twice: no


def test_recovery_codes_work_once(app, client, build):
    user = build.user("admin")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    _, codes = _enrol(client)
    first = _sign_in(app, user.email)
    assert first.post("/login/code", data={"code": codes[3].upper()}).status_code == 302
    assert first.get("/staff").status_code == 200
    again = _sign_in(app, user.email)
    assert again.post("/login/code", data={"code": codes[3]}).status_code == 401
    assert again.post("/login/code", data={"code": codes[4]}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.used_at.is_(None))) == 8
        events = list(db.session.scalars(sa.select(AuditEvent.after).where(
            AuditEvent.action == "auth.recovery_code_used")))
        assert len(events) == 2 and not any(c in str(events) for c in codes)


def test_the_code_step_is_throttled(app, client, build):
    user = build.user("biller")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    totp, _ = _enrol(client)
    attacker = _sign_in(app, user.email)
    free = throttle.DEFAULT_LIMITS["code"].free
    bad = "999999" if totp.now() != "999999" else "888888"
    statuses = [attacker.post("/login/code", data={"code": bad}).status_code for _ in range(free + 2)]
    assert statuses == [401] * (free - 1) + [429] * 3
    with app.app_context():
        db.session.get(User, user.id).totp_last_step -= 2
        db.session.commit()
    assert attacker.post("/login/code", data={"code": totp.now()}).status_code == 429  # even the right one


def test_clinic_requires_two_factor_for_admins_and_billers(app, client, build):
    admin = build.user("admin")
    biller = build.user("biller")
    coordinator = build.user("coordinator")
    biller_client = app.test_client()
    biller_client.post("/login", data={"email": biller.email, "password": PASSWORD})
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    response = client.post("/staff/security", data={"require_two_factor": "y"})
    assert response.headers["Location"].endswith("/account/two-factor")  # the admin sets it up first
    assert client.get("/staff").headers["Location"].endswith("/account/two-factor")
    assert biller_client.get("/billing/review").status_code == 302  # signed out by the setting
    signed_in = biller_client.post("/login", data={"email": biller.email, "password": PASSWORD})
    assert signed_in.headers["Location"].endswith("/account/two-factor")
    assert biller_client.get("/billing/review").headers["Location"].endswith("/account/two-factor")
    _enrol(biller_client)
    assert biller_client.get("/billing/review").status_code == 200
    off = biller_client.post("/account/two-factor/off", data={"password": PASSWORD}, follow_redirects=True)
    assert b"requires two-factor sign-in for your role" in off.data
    other = app.test_client()
    assert other.post("/login", data={"email": coordinator.email, "password": PASSWORD}).status_code == 302
    assert other.get("/schedule/classes").status_code == 200  # coordinators are not asked


def test_turning_two_factor_off_needs_the_password(app, client, build):
    user = build.user("coordinator")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    _enrol(client)
    client.post("/account/two-factor/off", data={"password": "nope-nope-nope"})
    with app.app_context():
        assert db.session.get(User, user.id).totp_secret
    client.post("/account/two-factor/off", data={"password": PASSWORD})
    with app.app_context():
        assert db.session.get(User, user.id).totp_secret is None
        assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0
    assert app.test_client().post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(app, client, build):
    user = build.user("biller")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    _, old_codes = _enrol(client)
    refused = client.post("/account/recovery-codes", data={"password": "not-the-password"}, follow_redirects=True)
    assert b"Enter your password to make new recovery codes" in refused.data
    page = client.post("/account/recovery-codes", data={"password": PASSWORD})
    new_codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert _sign_in(app, user.email).post("/login/code", data={"code": old_codes[0]}).status_code == 401
    assert _sign_in(app, user.email).post("/login/code", data={"code": new_codes[0]}).status_code == 302
