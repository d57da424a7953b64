"""What an API call pays besides its own work (issue 12)."""

from flask.sessions import SecureCookieSessionInterface


def test_a_call_without_the_session_cookie_makes_no_cookie_signer(app, api, client, login, monkeypatch):
    """An API call carries no session cookie: its empty session is given without making the cookie's signer
    (Flask made one on every request); a request with the cookie still checks it, and a bad one is ignored."""
    made = []
    real = SecureCookieSessionInterface.get_signing_serializer
    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer",
                        lambda self, a: made.append(1) or real(self, a))
    desk = api("front_desk")
    assert desk.get("/facilitators").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert made == []
    login("front_desk")
    made.clear()
    assert client.get("/frontdesk/today").status_code == 200 and made  # the cookie read and checked
    client.set_cookie("session", "forged")
    assert client.get("/frontdesk/today").status_code == 302  # a cookie that fails its check: signed out
