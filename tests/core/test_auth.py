"""Sign-in, sign-out, throttling, safe redirects, cookies and security headers."""

from __future__ import annotations

import sqlalchemy as sa

from roster.auth.views import safe_next
from roster.extensions import db
from roster.models import AuditEvent, LoginThrottle

PASSWORD = "correct-horse-battery"


def test_sign_in_and_out(client, build):
    user = build.user("coordinator")
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/schedule/classes").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/schedule/classes").status_code == 302


def test_five_wrong_passwords_in_a_row_are_throttled(app, client, build):
    user = build.user("biller")
    for attempt in range(4):
        response = client.post("/login", data={"email": user.email, "password": "wrong-password"})
        assert response.status_code == 401, attempt
        assert b"do not match" in response.data
    fifth = client.post("/login", data={"email": user.email, "password": "wrong-password"})
    assert fifth.status_code == 429
    assert b"Too many failed attempts" in fifth.data
    # Even the right password is refused while the lock lasts.
    locked = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert client.get("/billing/review").status_code == 302
    with app.app_context():
        # per-bucket rows now (issue 10): this e-mail from this address is the one that is paused
        throttle = db.session.scalars(sa.select(LoginThrottle).where(LoginThrottle.bucket.startswith("pair:"))).one()
        assert throttle.locked_until is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "auth.locked")) == 1


def test_lock_expires(app, client, build):
    user = build.user("biller")
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "wrong-password"})
    with app.app_context():
        from datetime import timedelta

        for throttle in db.session.scalars(sa.select(LoginThrottle)):  # one row per bucket (issue 10)
            if throttle.locked_until:
                throttle.locked_until -= timedelta(hours=1)
            throttle.last_failure_at -= timedelta(hours=1)
        db.session.commit()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_unknown_address_is_throttled_too(client):
    codes = [client.post("/login", data={"email": "ghost@clinic.test", "password": "x"}).status_code
             for _ in range(5)]
    assert codes == [401, 401, 401, 401, 429]


def test_next_is_followed_only_when_local(client, build):
    user = build.user("biller")
    response = client.post("/login?next=/billing/exports", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/billing/exports")
    client.post("/logout")
    response = client.post("/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert "evil" not in response.headers["Location"]


def test_safe_next():
    assert safe_next("/people/patients?q=a") == "/people/patients?q=a"
    for bad in (None, "", "//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"):
        assert safe_next(bad) is None


def test_forbidden_page_is_clear(client, login):
    login("front_desk")
    response = client.get("/billing/review")
    assert response.status_code == 403
    assert b"Your role does not allow this" in response.data
    assert b"ask an administrator" in response.data


def test_security_headers_on_every_response(client, login):
    for path in ("/login", "/static/roster.css"):
        response = client.get(path)
        response.close()
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    login("coordinator")
    page = client.get("/people/patients")
    assert page.headers["Cache-Control"] == "no-store"


def test_api_answers_are_not_cached(api):
    response = api("admin").get("/facilitators")
    assert response.headers["Cache-Control"] == "no-store"


def test_production_cookie_settings(app):
    from roster import create_app

    prod = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True


def test_templates_have_no_inline_script_or_style():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    for path in root.rglob("*.html"):
        text = path.read_text()
        assert "<script>" not in text and "<script type" not in text, path
        assert " style=" not in text and "<style" not in text, path
        assert "http://" not in text and "https://" not in text, path
